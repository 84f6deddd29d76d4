//! The snapshot: what `status` and `report` show of a job's state, written beside it
//! (`snapshot.json`) by every process that changed the state, as it closes it. sled 0.34 has no
//! read-only open, and a cycle holds the state for as long as it runs; while it does, these
//! commands read the snapshot — the state as the last writer left it — instead of waiting.
//!
//! It is written to a new file, synced and renamed over the last one, so a reader sees a whole
//! snapshot. It also carries the number of connected users and groups, which a writer keeps
//! counting from the last snapshot's as it connects and disconnects objects rather than reading
//! every connection again as it closes (a read that grows with the tenant; see BENCHMARKS.md,
//! section "Current figures (seventh session …)", figures from doc comments). Those counts
//! are a base for the next writer only while no writer has changed the connections since:
//! before its first change a writer leaves the marker file `snapshot.stale` (synced), and
//! removes it once its own snapshot is in place; a writer that crashed leaves it, and the next
//! one counts the connections anew.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::policy::{EscrowEntry, JobState};

/// The snapshot's file in the state directory.
const SNAPSHOT: &str = "snapshot.json";
/// Present while the snapshot's counts may not be the state's.
const STALE: &str = "snapshot.stale";

/// Connected objects by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Users connected to a target object.
    pub users: u64,
    /// Groups connected to a target object.
    pub groups: u64,
}

impl Counts {
    /// Counts (`delta` 1) or uncounts (−1) the connection of the anchor key `key`.
    pub fn add(&mut self, key: &[u8], delta: i64) {
        let count = if key.starts_with(b"user:") {
            &mut self.users
        } else if key.starts_with(b"group:") {
            &mut self.groups
        } else {
            return;
        };
        *count = count.saturating_add_signed(delta);
    }
}

/// A job's state as a writer left it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// When it was written (RFC 3339, whole seconds).
    pub written: String,
    /// The job's state.
    pub job_state: JobState,
    /// Connected objects.
    pub counts: Counts,
    /// Every escrow entry.
    pub escrows: Vec<EscrowEntry>,
    /// The last cycle's report, as the state holds it.
    pub last_cycle: Option<serde_json::Value>,
}

/// The snapshot in `dir`, if one was written whole.
pub fn read(dir: &Path) -> Option<Snapshot> {
    let bytes = std::fs::read(dir.join(SNAPSHOT)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The counts of the snapshot in `dir`, if they are still the state's.
pub fn base_counts(dir: &Path) -> Option<Counts> {
    if dir.join(STALE).exists() {
        return None;
    }
    read(dir).map(|snapshot| snapshot.counts)
}

/// Marks the snapshot's counts as no longer the state's, durably, before a connection changes.
pub fn mark_stale(dir: &Path) -> io::Result<()> {
    File::create(dir.join(STALE))?.sync_all()?;
    sync_dir(dir)
}

/// Puts `snapshot` in place of the last one; its counts are the state's.
pub fn write(dir: &Path, snapshot: &Snapshot) -> io::Result<()> {
    let next = dir.join(format!("{SNAPSHOT}.next"));
    let bytes = serde_json::to_vec(snapshot).map_err(io::Error::from)?;
    {
        let mut file = File::create(&next)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&next, dir.join(SNAPSHOT))?;
    sync_dir(dir)?;
    match std::fs::remove_file(dir.join(STALE)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}
