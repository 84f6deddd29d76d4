//! The fingerprint of what a cycle reads: the job file, its directory and mapping files, and the
//! build. Equal fingerprints mean the source is the same, byte for byte — what lets an
//! incremental cycle over an unchanged tenant skip reading it (Entra's delta query returning
//! nothing). Fast enough for a million-user directory (two 64-bit lanes, eight bytes a step; see
//! BENCHMARKS.md, section "History: the second session's figures"). Each part
//! is hashed on its own and the fingerprint is taken over those hashes, so a part hashed once
//! (the directory read for the unchanged-source check) is not hashed again when it is loaded.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::hash::{self, Lanes};

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
        self.part_hashed(hash::of_large(bytes));
    }

    /// Adds one part by its [`hash::of_large`].
    pub fn part_hashed(&mut self, part: u128) {
        self.lanes.part(&part.to_le_bytes());
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
    /// The directory's bytes as fingerprinted: a load after the check reads these instead of
    /// the file again (see [`super::check_job_with`]).
    pub directory: Preread,
}

/// A file read once, with the hash it adds to a [`Digest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preread {
    /// Where it was read (normalised as the job loader does).
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// `hash::of_large(bytes)`.
    pub hash: u128,
}

impl Preread {
    /// Reads a file whole; a large one in two halves on two threads (a million-user directory's
    /// copy and page faults then use both cores; see BENCHMARKS.md, section "History: the fourth
    /// session's figures", the directory read once), hashed the same way.
    pub fn read(path: PathBuf) -> std::io::Result<Preread> {
        use std::io::Read;
        use std::os::unix::fs::FileExt;
        const HALVES_FROM: usize = 64 << 20;
        let file = std::fs::File::open(&path)?;
        let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        let mut bytes = if len < HALVES_FROM {
            Vec::new()
        } else {
            let mut bytes = vec![0u8; len];
            let (front, back) = bytes.split_at_mut(len / 2);
            let (file, offset) = (&file, len as u64 / 2);
            let read = std::thread::scope(|scope| {
                let back = scope.spawn(move || file.read_exact_at(back, offset));
                let front = file.read_exact_at(front, 0);
                front.and(back.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            });
            let mut more = [0u8; 1];
            // Changed size while read: read it again, plainly.
            match (read, file.read_at(&mut more, len as u64)) {
                (Ok(()), Ok(0)) => bytes,
                _ => Vec::new(),
            }
        };
        if bytes.is_empty() {
            // `read_at` leaves the cursor at the start.
            (&file).read_to_end(&mut bytes)?;
        }
        let hash = hash::of_large(&bytes);
        Ok(Preread { path, bytes, hash })
    }
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
    let directory = Preread::read(super::load::normalize(&base.join(&inputs.directory))).ok()?;
    digest.part_hashed(directory.hash);
    let mapping = std::fs::read(super::load::normalize(&base.join(&inputs.mapping))).ok()?;
    digest.part(&mapping);
    Some(JobSources {
        digest: digest.finish(),
        state_dir,
        directory,
    })
}

/// A job's state directory, from its job file alone (nothing else is read or checked) — `None`
/// when the job file cannot be read.
pub fn state_dir_of(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read(path).ok()?;
    inputs(path, &text).map(|(_, state_dir)| state_dir)
}

fn inputs(path: &Path, text: &[u8]) -> Option<(Inputs, PathBuf)> {
    // Through `yaml::parse`, so a text nested too deep is refused before serde_yaml reads it.
    let text = std::str::from_utf8(text).ok()?;
    let inputs: Inputs = crate::yaml::parse(&path.display().to_string(), text).ok()?;
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

    #[test]
    fn a_large_file_read_in_halves_is_its_bytes() {
        let dir = std::env::temp_dir().join(format!("preread-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for len in [0, 5, (64 << 20) + 3] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.join(format!("f{len}"));
            std::fs::write(&path, &bytes).unwrap();
            let read = Preread::read(path).unwrap();
            assert!(read.bytes == bytes, "{len} bytes");
            assert_eq!(read.hash, hash::of_large(&bytes));
        }
        let _ = std::fs::remove_dir_all(&dir);
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
