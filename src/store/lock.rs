//! The job's lock: one process at a time opens a job's state, and whoever holds it says who it is.
//!
//! sled 0.34 locks its own `db` file too, but reports a taken lock as an `io::ErrorKind::Other`
//! whose only trace of `WouldBlock` is in its message (`sled::Config::open_file`), and names
//! nobody. So the state is locked first through a file of ours, `lock`, with the standard
//! library's `File::try_lock` (`TryLockError::WouldBlock` when taken); the holder writes its pid,
//! command and the time into that same file, and a process that finds it taken reads them back
//! to say who holds the job. The file is never truncated before the lock is taken (that would
//! erase the holder's words), and is emptied as the lock is released.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::clock::Clock;

/// The lock file in the state directory.
const LOCK_FILE: &str = "lock";

/// Who holds a job's state, in the holder's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// The program and subcommand (`entra-sim run`).
    pub command: String,
    /// When it took the lock (RFC 3339, whole seconds).
    pub since: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "process {} ({}, since {})",
            self.pid, self.command, self.since
        )
    }
}

impl Holder {
    /// This process, now: the program's file name and its subcommand, never its other
    /// arguments (a path, a flag's value).
    fn this_process() -> Holder {
        let mut args = std::env::args();
        let program = args
            .next()
            .map(|arg| {
                Path::new(&arg)
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or(arg)
            })
            .unwrap_or_else(|| "entra-sim".to_owned());
        let command = match args.next() {
            Some(sub)
                if !sub.is_empty() && sub.chars().all(|c| c.is_ascii_lowercase() || c == '-') =>
            {
                format!("{program} {sub}")
            }
            _ => program,
        };
        Holder {
            pid: std::process::id(),
            command,
            since: crate::clock::SystemClock
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum Refused {
    /// Another process holds it: who, if it said.
    Busy(Option<Holder>),
    /// The lock file could not be opened or locked.
    Io(PathBuf, io::Error),
}

/// The job's lock, held until dropped.
#[derive(Debug)]
pub struct JobLock {
    file: File,
}

impl JobLock {
    /// Takes the lock of the state directory `dir` (which must exist) if no other process
    /// holds it, and records this process as its holder.
    pub fn try_acquire(dir: &Path) -> Result<JobLock, Refused> {
        let path = dir.join(LOCK_FILE);
        let io = |e| Refused::Io(path.clone(), e);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(Refused::Busy(holder(&path))),
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut words = serde_json::to_vec(&Holder::this_process())
            .map_err(io::Error::from)
            .map_err(io)?;
        words.push(b'\n');
        file.set_len(0).map_err(io)?;
        (&file).write_all(&words).map_err(io)?;
        Ok(JobLock { file })
    }

    /// [`JobLock::try_acquire`], trying again for up to `patience` while another process holds
    /// it (one that is closing the state releases it within moments).
    pub fn acquire(dir: &Path, patience: std::time::Duration) -> Result<JobLock, Refused> {
        let step = std::time::Duration::from_millis(20);
        let mut waited = std::time::Duration::ZERO;
        loop {
            match Self::try_acquire(dir) {
                Err(Refused::Busy(_)) if waited < patience => {
                    crate::clock::pause(step);
                    waited += step;
                }
                other => return other,
            }
        }
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        // Nobody holds it once it is released: leave no name behind. Closing the file releases
        // the lock.
        let _ = self.file.set_len(0);
    }
}

/// The holder recorded in the lock file, if it wrote itself there yet.
fn holder(path: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_lock_names_its_holder_and_is_free_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = JobLock::try_acquire(dir.path()).unwrap();
        match JobLock::try_acquire(dir.path()) {
            Err(Refused::Busy(Some(holder))) => {
                assert_eq!(holder.pid, std::process::id());
                assert!(!holder.command.is_empty());
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        let again = JobLock::try_acquire(dir.path()).unwrap();
        drop(again);
        assert_eq!(std::fs::read(dir.path().join(LOCK_FILE)).unwrap(), b"");
    }
}
