//! The fingerprint of what a cycle reads: the job file, its directory and mapping files, and the
//! build. Equal fingerprints mean the source is the same, byte for byte — what lets an
//! incremental cycle over an unchanged tenant skip reading it (Entra's delta query returning
//! nothing). Fast enough for a 700 MB directory: two 64-bit lanes, eight bytes a step.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::hash::Lanes;

/// A running fingerprint over the parts of a job's source, in order.
#[derive(Debug, Clone)]
pub struct Digest {
    lanes: Lanes,
}

impl Default for Digest {
    fn default() -> Self {
        let mut digest = Digest {
            lanes: Lanes::default(),
        };
        digest.part(env!("CARGO_PKG_VERSION").as_bytes());
        digest
    }
}

impl Digest {
    /// Adds one part (its length too, so parts cannot shift into each other).
    pub fn part(&mut self, bytes: &[u8]) {
        self.lanes.part(bytes);
    }

    /// Adds one part read from `reader` — the same as [`Digest::part`] of its bytes, without
    /// holding them all (a million-user directory is ~700 MB).
    pub fn part_from(&mut self, reader: &mut impl std::io::Read) -> std::io::Result<()> {
        let mut buf = vec![0u8; 1 << 20];
        let mut filled = 0;
        let mut total: u64 = 0;
        loop {
            let n = reader.read(&mut buf[filled..])?;
            filled += n;
            total += n as u64;
            let whole = filled - filled % 8;
            if n == 0 || filled == buf.len() {
                for chunk in buf[..whole].chunks_exact(8) {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(chunk);
                    self.lanes.word(u64::from_le_bytes(word));
                }
                buf.copy_within(whole..filled, 0);
                filled -= whole;
            }
            if n == 0 {
                break;
            }
        }
        self.lanes.tail(&buf[..filled], total);
        Ok(())
    }

    /// The fingerprint, as 32 hex digits.
    pub fn finish(&self) -> String {
        format!("{:032x}", self.lanes.finish())
    }
}

/// What the fast path of an unchanged cycle needs from a job file without loading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSources {
    /// The fingerprint of the job file, directory and mapping as they are now.
    pub digest: String,
    /// The job's state directory.
    pub state_dir: PathBuf,
}

#[derive(Debug, Deserialize)]
struct Inputs {
    directory: String,
    mapping: String,
    #[serde(default)]
    target: Option<InputTarget>,
    #[serde(default)]
    settings: Option<InputSettings>,
}

#[derive(Debug, Deserialize)]
struct InputTarget {
    #[serde(default)]
    token: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
struct InputSettings {
    #[serde(default)]
    state_dir: Option<String>,
}

/// The job's files fingerprinted as [`super::check_job`] does, and its state directory — `None`
/// when anything cannot be read (the full load then reports it properly) or the job file holds
/// an inline token (never fingerprinted).
pub fn job_sources(path: &Path) -> Option<JobSources> {
    let text = std::fs::read(path).ok()?;
    let (inputs, state_dir) = inputs(path, &text)?;
    if inputs.target.is_some_and(|t| t.token.is_some()) {
        return None;
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let mut digest = Digest::default();
    digest.part(&text);
    for name in [&inputs.directory, &inputs.mapping] {
        let mut file = std::fs::File::open(super::load::normalize(&base.join(name))).ok()?;
        digest.part_from(&mut file).ok()?;
    }
    Some(JobSources {
        digest: digest.finish(),
        state_dir,
    })
}

/// A job's state directory, from its job file alone (nothing else is read or checked) — `None`
/// when the job file cannot be read.
pub fn state_dir_of(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read(path).ok()?;
    inputs(path, &text).map(|(_, state_dir)| state_dir)
}

fn inputs(path: &Path, text: &[u8]) -> Option<(Inputs, PathBuf)> {
    let inputs: Inputs = serde_yaml::from_slice(text).ok()?;
    let base = path.parent().unwrap_or(Path::new(""));
    let name = path.file_stem()?.to_string_lossy().into_owned();
    let given = inputs
        .settings
        .as_ref()
        .and_then(|s| s.state_dir.as_deref());
    let state_dir = super::load::state_dir(base, &name, given);
    Some((inputs, state_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(parts: &[&[u8]]) -> String {
        let mut d = Digest::default();
        for p in parts {
            d.part(p);
        }
        d.finish()
    }

    /// A reader that hands out at most `step` bytes a call, to cross every buffer boundary.
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn reading_a_part_gives_what_hashing_its_bytes_gives() {
        let big: Vec<u8> = (0..(3 << 20) + 5).map(|i| (i * 7 % 251) as u8).collect();
        for bytes in [&b""[..], b"a", b"12345678", b"123456789", &big] {
            for step in [1, 3, 8, 1000, usize::MAX] {
                let mut whole = Digest::default();
                whole.part(bytes);
                let mut read = Digest::default();
                read.part_from(&mut Trickle(bytes, step)).unwrap();
                assert_eq!(
                    whole.finish(),
                    read.finish(),
                    "{} bytes by {step}",
                    bytes.len()
                );
            }
        }
    }

    #[test]
    fn any_byte_or_boundary_changes_the_fingerprint() {
        let base = of(&[b"job", b"directory line\n", b"mapping"]);
        assert_eq!(base, of(&[b"job", b"directory line\n", b"mapping"]));
        assert_eq!(base.len(), 32);
        for other in [
            of(&[b"job", b"directory linf\n", b"mapping"]),
            of(&[b"jo", b"bdirectory line\n", b"mapping"]),
            of(&[b"job", b"directory line\n", b"mapping\0"]),
            of(&[b"job", b"directory line\n"]),
        ] {
            assert_ne!(base, other);
        }
    }
}
