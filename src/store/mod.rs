//! Durable job state — the only module that touches sled. It keeps what Entra keeps between cycles:
//! object connections (anchors), the per-object watermark, the provisioning logs and job metadata.
//!
//! Writes are write-behind: they collect in a pending batch, and a commit hands the batch to one
//! writer thread, which appends its log records to the log file (`logs.jsonl`, `logfile`),
//! syncs it, applies the batch to sled and flushes sled — in that order, so a connection is never
//! durable without its log record. [`Store::commit`] waits for it; [`Store::commit_behind`] does
//! not (the engine keeps sending while the disk catches up, and whatever a crash loses is a suffix
//! of the cycle: the next cycle matches those objects again). Reads see every write: they wait
//! for the pending writes first.
//!
//! One process at a time holds a job's state (`lock`: the holder names itself, so a refusal
//! says who). A process that wrote leaves a snapshot of what `status` and `report` show as it
//! closes the state (`snapshot`), which they read while another process holds it; the log is a
//! plain file, read without opening the state ([`Store::for_each_log_in`]).

mod lock;
mod logfile;
mod snapshot;
mod writer;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Serialize, de::DeserializeOwned};

use crate::directory::SourceIndex;
use crate::plan::{Anchor, ObjectKey};
use crate::policy::{EscrowEntry, Escrows, JobState};
use crate::provlog::LogEntry;

pub use lock::Holder;
use lock::{JobLock, Refused};
use logfile::LogFile;
pub use snapshot::Counts;
use snapshot::Snapshot;
use writer::{Batch, Op, Tree, Writer};

/// Why the state directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the job's state (a cycle is running).
    #[error("{}", busy_message(path, holder.as_ref()))]
    Busy {
        /// The state directory.
        path: PathBuf,
        /// Who holds it, if it said.
        holder: Option<Holder>,
    },
    /// sled failed (I/O or corruption).
    #[error("state directory {path}: {source}")]
    Db {
        /// The state directory.
        path: PathBuf,
        /// sled's error.
        #[source]
        source: sled::Error,
    },
    /// The log file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A stored record could not be decoded.
    #[error("state directory {path}: corrupt record {key}: {source}")]
    Corrupt {
        /// The state directory.
        path: PathBuf,
        /// The record's key.
        key: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
}

fn busy_message(path: &Path, holder: Option<&Holder>) -> String {
    let who = holder.map_or_else(|| "another process".to_owned(), Holder::to_string);
    format!(
        "state directory {}: the job's state is in use by {who}; wait for its cycle to end, or stop it",
        path.display()
    )
}

/// How long [`Store::open`] waits for another process to release the job's state: one that is
/// closing it does within moments, a running cycle is refused in words.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// sled's page cache for a job's state (its default is 1 GiB). A cycle reads the state once, so a
/// small cache keeps a large tenant's incremental cycle lean …
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// … but a new state's first cycle is an initial one, which writes a connection and a known
/// state for every object: with a cache that holds them, sled stops reading back pages it
/// evicted (see BENCHMARKS.md, section "Current figures (seventh session …)", a new state's sled
/// cache).
const NEW_STATE_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// The provisioning log's file in the state directory.
const LOG_FILE: &str = "logs.jsonl";

/// The file of [`Store::source_index`] in the state directory.
const SOURCE_INDEX: &str = "source-index.bin";

/// A source index written whole beside the state but not yet in use
/// ([`Store::write_source_index`]).
#[must_use]
pub struct PartialIndex(PathBuf);

/// Which file a source index was read from (see [`Store::source_index_in`]): its device, inode,
/// size and modification time (an inode number can be reused by the next file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexFile {
    dev: u64,
    ino: u64,
    len: u64,
    modified: (i64, i64),
}

impl IndexFile {
    fn of(meta: &std::fs::Metadata) -> IndexFile {
        use std::os::unix::fs::MetadataExt;
        IndexFile {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

/// The meta key of [`Store::source_digest`].
const SOURCE_DIGEST: &str = "source_digest";

/// The meta key of the last cycle's report (the engine's `CycleReport`).
const LAST_CYCLE: &str = "last_cycle";

/// The meta key of [`Store::job_state`].
const JOB_STATE: &str = "job_state";

/// The meta key of [`Store::mapping_fingerprint`].
const MAPPING_FINGERPRINT: &str = "mapping_fingerprint";

/// What `status` and `report` show of a job's state ([`Store::summary_of`]).
#[derive(Debug)]
pub struct Summary {
    /// The job's state.
    pub job_state: JobState,
    /// Connected users and groups.
    pub counts: Counts,
    /// Every escrow entry.
    pub escrows: Escrows,
    last_cycle: Option<serde_json::Value>,
    /// Set when another process held the state: this is its snapshot.
    pub in_use: Option<InUse>,
}

impl Summary {
    /// The last cycle's report.
    pub fn last_cycle<T: DeserializeOwned>(&self) -> Option<T> {
        self.last_cycle
            .as_ref()
            .and_then(|value| T::deserialize(value).ok())
    }
}

/// A summary read from the snapshot while another process held the state.
#[derive(Debug)]
pub struct InUse {
    /// Who holds the state, if it said.
    pub holder: Option<Holder>,
    /// When the snapshot was written (RFC 3339).
    pub as_of: String,
}

impl std::fmt::Display for InUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.holder {
            Some(holder) => write!(f, "{holder} holds the job's state")?,
            None => write!(f, "another process holds the job's state")?,
        }
        write!(
            f,
            " (a cycle is running): this is the state as it was at {}",
            self.as_of
        )
    }
}

/// The state of one job.
pub struct Store {
    path: PathBuf,
    trees: writer::Trees,
    logs: Arc<Mutex<LogFile>>,
    pending: Mutex<Batch>,
    writer: Writer,
    /// Connected objects, counted as they change (`None`: not known; see `snapshot`).
    counts: Arc<Mutex<Option<Counts>>>,
    /// Whether this process wrote to the state (then it leaves a snapshot as it closes it).
    wrote: std::sync::atomic::AtomicBool,
    /// Declared last: released once sled and the writer are closed.
    _lock: JobLock,
}

/// Opens sled from a thread that steps aside on wake-up: the threads sled starts (its log
/// flusher, its IO pool) take that policy from it, and do not preempt the engine's request loop.
fn open_sled(path: &Path) -> sled::Result<sled::Db> {
    let cache = if path.join("db").exists() {
        CACHE_BYTES
    } else {
        NEW_STATE_CACHE_BYTES
    };
    let open = || {
        crate::sched::step_aside_on_wakeup();
        sled::Config::new().path(path).cache_capacity(cache).open()
    };
    std::thread::scope(|scope| {
        scope.spawn(open).join().unwrap_or_else(|_| {
            Err(sled::Error::ReportableBug(
                "sled panicked while opening the state".into(),
            ))
        })
    })
}

impl Store {
    /// Opens (creating if needed) the state directory, waiting a moment for another process
    /// that is releasing it; [`StoreError::Busy`] names the process that holds it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, PATIENCE)
    }

    /// [`Store::open`] without waiting: [`StoreError::Busy`] at once while another process holds
    /// the state.
    pub fn try_open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, std::time::Duration::ZERO)
    }

    fn open_with(path: &Path, patience: std::time::Duration) -> Result<Self, StoreError> {
        let err = |source| StoreError::Db {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let lock = JobLock::acquire(path, patience).map_err(|refused| match refused {
            Refused::Busy(holder) => StoreError::Busy {
                path: path.to_path_buf(),
                holder,
            },
            Refused::Io(path, source) => StoreError::Io { path, source },
        })?;
        // With the job's lock held, sled's own lock can only be held by a handle being closed
        // — by this process or by the one that released the job's lock — whose last thread lets
        // go of it a moment later. sled reports its lock as `ErrorKind::Other`
        // (`sled::Config::open_file`, 0.34), so that kind is tried again for up to two seconds.
        let mut attempts = 0;
        let db = loop {
            match open_sled(path) {
                Err(sled::Error::Io(e))
                    if attempts < 100 && e.kind() == std::io::ErrorKind::Other =>
                {
                    attempts += 1;
                    crate::clock::pause(std::time::Duration::from_millis(20));
                }
                other => break other.map_err(err)?,
            }
        };
        let log_path = path.join(LOG_FILE);
        let logs = LogFile::open(&log_path).map_err(|source| StoreError::Io {
            path: log_path.clone(),
            source,
        })?;
        let logs = Arc::new(Mutex::new(logs));
        let trees = writer::Trees {
            anchors: db.open_tree("anchors").map_err(err)?,
            watermarks: db.open_tree("watermarks").map_err(err)?,
            meta: db.open_tree("meta").map_err(err)?,
            escrows: db.open_tree("escrows").map_err(err)?,
            known: db.open_tree("known").map_err(err)?,
            db,
        };
        let counts = Arc::new(Mutex::new(snapshot::base_counts(path)));
        let writer = Writer::start(
            path,
            log_path,
            trees.clone(),
            Arc::clone(&logs),
            Arc::clone(&counts),
        )?;
        Ok(Self {
            trees,
            logs,
            pending: Mutex::new(Batch::default()),
            writer,
            path: path.to_path_buf(),
            counts,
            wrote: std::sync::atomic::AtomicBool::new(false),
            _lock: lock,
        })
    }

    fn db_err(&self, source: sled::Error) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    fn get<T: DeserializeOwned>(&self, tree: Tree, key: &str) -> Result<Option<T>, StoreError> {
        self.commit()?;
        match self
            .trees
            .tree(tree)
            .get(key.as_bytes())
            .map_err(|e| self.db_err(e))?
        {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StoreError::Corrupt {
                        path: self.path.clone(),
                        key: key.to_string(),
                        source,
                    })
            }
        }
    }

    fn put<T: Serialize>(&self, tree: Tree, key: &[u8], value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            key: String::from_utf8_lossy(key).into_owned(),
            source,
        })?;
        self.pending().ops.push(Op::Put(tree, key.to_vec(), bytes));
        Ok(())
    }

    fn remove(&self, tree: Tree, key: &str) -> Result<(), StoreError> {
        self.pending()
            .ops
            .push(Op::Remove(tree, key.as_bytes().to_vec()));
        Ok(())
    }

    fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        self.pending().ops.push(Op::Clear(tree));
        self.commit()
    }

    fn pending(&self) -> MutexGuard<'_, Batch> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take_pending(&self) -> Batch {
        std::mem::take(&mut *self.pending())
    }

    /// Iterates a tree (after the pending writes), decoding each value.
    fn all<T: DeserializeOwned>(&self, tree: Tree) -> Result<Vec<(String, T)>, StoreError> {
        self.commit()?;
        let mut out = Vec::new();
        for item in self.trees.tree(tree).iter() {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let value = serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                key: key.clone(),
                source,
            })?;
            out.push((key, value));
        }
        Ok(out)
    }

    /// Objects' records of a tree, keyed by object.
    /// The values of some keys, read in key order (neighbouring keys share sled's pages, so a
    /// large batch costs a walk of the tree rather than a random read per key).
    fn some<'k, T: DeserializeOwned>(
        &self,
        tree: Tree,
        keys: impl IntoIterator<Item = &'k ObjectKey>,
    ) -> Result<Vec<(ObjectKey, T)>, StoreError> {
        self.commit()?;
        let mut keys: Vec<(String, &ObjectKey)> =
            keys.into_iter().map(|k| (k.to_string(), k)).collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        keys.dedup_by(|a, b| a.0 == b.0);
        let tree_handle = self.trees.tree(tree);
        let mut out = Vec::new();
        for (name, key) in keys {
            let Some(bytes) = tree_handle
                .get(name.as_bytes())
                .map_err(|e| self.db_err(e))?
            else {
                continue;
            };
            let value = serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                key: name.clone(),
                source,
            })?;
            out.push((key.clone(), value));
        }
        Ok(out)
    }

    fn objects<T: DeserializeOwned>(&self, tree: Tree) -> Result<Vec<(ObjectKey, T)>, StoreError> {
        Ok(self
            .all(tree)?
            .into_iter()
            .filter_map(|(k, v)| ObjectKey::parse(&k).map(|key| (key, v)))
            .collect())
    }

    fn log_file(&self) -> MutexGuard<'_, LogFile> {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn log_err(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.join(LOG_FILE),
            source,
        }
    }

    /// Makes every write so far durable, and waits for it.
    pub fn commit(&self) -> Result<(), StoreError> {
        self.commit_while(|| ())
    }

    /// As [`Store::commit`], doing `work` while the writer makes the writes durable. Writes that
    /// `work` makes are not part of this commit.
    pub fn commit_while<T>(&self, work: impl FnOnce() -> T) -> Result<T, StoreError> {
        self.writer.wait()?;
        let batch = self.take_pending();
        if !batch.is_empty() {
            self.submit(batch)?;
        }
        let done = work();
        self.writer.wait()?;
        Ok(done)
    }

    /// Hands every write so far to the writer without waiting for it, unless the previous commit
    /// is still being written (then the writes wait for the next call, and commit together).
    /// Reports the failure of an earlier commit.
    pub fn commit_behind(&self) -> Result<(), StoreError> {
        if self.writer.busy()? {
            return Ok(());
        }
        let batch = self.take_pending();
        if batch.is_empty() {
            return Ok(());
        }
        self.submit(batch)
    }

    fn submit(&self, batch: Batch) -> Result<(), StoreError> {
        self.wrote.store(true, std::sync::atomic::Ordering::Relaxed);
        self.writer.submit(batch)
    }

    /// The connection of a source object, if it has one.
    pub fn anchor(&self, key: &ObjectKey) -> Result<Option<Anchor>, StoreError> {
        self.get(Tree::Anchors, &key.to_string())
    }

    /// The connections of some objects (those that have one), read in key order.
    pub fn anchors_of<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k ObjectKey>,
    ) -> Result<Vec<(ObjectKey, Anchor)>, StoreError> {
        self.some(Tree::Anchors, keys)
    }

    /// Every connection.
    pub fn anchors(&self) -> Result<Vec<(ObjectKey, Anchor)>, StoreError> {
        self.objects(Tree::Anchors)
    }

    /// Records (or replaces) a connection.
    pub fn put_anchor(&self, key: &ObjectKey, anchor: &Anchor) -> Result<(), StoreError> {
        self.put(Tree::Anchors, key.to_string().as_bytes(), anchor)
    }

    /// Forgets a connection.
    pub fn remove_anchor(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.remove(Tree::Anchors, &key.to_string())
    }

    /// The fingerprint of the source object as of its last fully processed change.
    pub fn watermark(&self, key: &ObjectKey) -> Result<Option<String>, StoreError> {
        self.get(Tree::Watermarks, &key.to_string())
    }

    /// The watermarks of some objects (those that have one), read in key order.
    pub fn watermarks_of<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k ObjectKey>,
    ) -> Result<Vec<(ObjectKey, String)>, StoreError> {
        self.some(Tree::Watermarks, keys)
    }

    /// Every watermarked object with its fingerprint.
    pub fn watermarks(&self) -> Result<Vec<(ObjectKey, String)>, StoreError> {
        self.objects(Tree::Watermarks)
    }

    /// Advances an object's watermark.
    pub fn set_watermark(&self, key: &ObjectKey, fingerprint: &str) -> Result<(), StoreError> {
        self.put(Tree::Watermarks, key.to_string().as_bytes(), &fingerprint)
    }

    /// Drops an object's watermark (it will be processed again).
    pub fn remove_watermark(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.remove(Tree::Watermarks, &key.to_string())
    }

    /// Drops every watermark: the next cycle is initial.
    pub fn clear_watermarks(&self) -> Result<(), StoreError> {
        self.clear(Tree::Watermarks)
    }

    /// A job-level value; only this module names the keys.
    fn meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.get(Tree::Meta, name)
    }

    /// Sets a job-level value.
    fn set_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<(), StoreError> {
        self.put(Tree::Meta, name.as_bytes(), value)
    }

    /// The fingerprint of the mappings the last cycle ran with: a different one makes the next
    /// cycle an initial one.
    pub fn mapping_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.meta(MAPPING_FINGERPRINT)
    }

    /// Records the mappings' fingerprint (empty: no mappings ran, the next cycle is initial).
    pub fn set_mapping_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.set_meta(MAPPING_FINGERPRINT, &fingerprint)
    }

    /// Records the last cycle's report (the engine's `CycleReport`), which
    /// [`Summary::last_cycle`] reads back.
    pub fn set_last_cycle<T: Serialize>(&self, report: &T) -> Result<(), StoreError> {
        self.set_meta(LAST_CYCLE, report)
    }

    /// The source fingerprint (`config::Digest`) of the last cycle that ended clean — no
    /// failure, nothing escrowed or staged, the job active — if nothing has happened since that
    /// needs a full cycle.
    pub fn source_digest(&self) -> Result<Option<String>, StoreError> {
        self.meta(SOURCE_DIGEST)
    }

    /// Records the source fingerprint of a cycle that ended clean.
    pub fn set_source_digest(&self, digest: &str) -> Result<(), StoreError> {
        self.set_meta(SOURCE_DIGEST, &digest)
    }

    /// Forgets it and the [`Store::source_index`]: the next cycle reads the whole source (a
    /// cycle starting, a restart).
    pub fn forget_source_digest(&self) -> Result<(), StoreError> {
        let path = self.path.join(SOURCE_INDEX);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::Io { path, source: e });
            }
            _ => {}
        }
        self.remove(Tree::Meta, SOURCE_DIGEST)
    }

    /// The source index of the last cycle that ended clean (for line-level deltas), if nothing
    /// has happened since that needs every line read; `None` too when the file is unreadable or
    /// torn (the next cycle then reads every line).
    pub fn source_index(&self) -> Result<Option<SourceIndex>, StoreError> {
        Ok(Self::source_index_in(&self.path)?.map(|(index, _)| index))
    }

    /// [`Store::source_index`] of the state directory `dir`, read without opening the state
    /// (a plain file beside it: it can load while the state opens), with which file it was.
    /// Read that way it belongs to the state only if [`Store::holds_source_index`] says so
    /// once the state is open: another cycle may have ended in between.
    pub fn source_index_in(dir: &Path) -> Result<Option<(SourceIndex, IndexFile)>, StoreError> {
        use std::io::Read;
        let path = dir.join(SOURCE_INDEX);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let meta = file.metadata().map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let which = IndexFile::of(&meta);
        Ok(SourceIndex::decode(&bytes).map(|index| (index, which)))
    }

    /// Whether the source index file is still the one read (each is written to a new file and
    /// renamed into place, and removed as a cycle starts).
    pub fn holds_source_index(&self, which: IndexFile) -> bool {
        std::fs::metadata(self.path.join(SOURCE_INDEX))
            .is_ok_and(|meta| IndexFile::of(&meta) == which)
    }

    /// Writes the source index of a cycle that ended clean — `write` writes its bytes
    /// (`Directory::write_source_index`) — to a partial file, not yet in use: once the cycle's
    /// state is durable, [`Store::keep_source_index`] puts it in place.
    pub fn write_source_index(
        &self,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<PartialIndex, StoreError> {
        let partial = self.path.join(format!("{SOURCE_INDEX}.partial"));
        let io = |source| StoreError::Io {
            path: partial.clone(),
            source,
        };
        let file = std::fs::File::create(&partial).map_err(io)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out).and_then(|()| out.flush()).map_err(io)?;
        drop(out);
        Ok(PartialIndex(partial))
    }

    /// Puts a source index written whole in place of the last one.
    pub fn keep_source_index(&self, index: PartialIndex) -> Result<(), StoreError> {
        let path = self.path.join(SOURCE_INDEX);
        std::fs::rename(&index.0, &path).map_err(|source| StoreError::Io { path, source })
    }

    /// Records what the target holds for an object, as far as Entra knows.
    pub fn put_known(
        &self,
        key: &ObjectKey,
        resource: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.put(Tree::Known, key.to_string().as_bytes(), resource)
    }

    /// Forgets what the target held for an object.
    pub fn remove_known(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.remove(Tree::Known, &key.to_string())
    }

    /// Every object's last known target state.
    pub fn known(&self) -> Result<Vec<(ObjectKey, serde_json::Value)>, StoreError> {
        self.objects(Tree::Known)
    }

    /// Every escrow entry.
    pub fn escrows(&self) -> Result<Escrows, StoreError> {
        let entries: Vec<(String, EscrowEntry)> = self.all(Tree::Escrows)?;
        Ok(entries.into_iter().map(|(_, entry)| entry).collect())
    }

    /// Records (or replaces) an object's escrow entry.
    pub fn put_escrow(&self, entry: &EscrowEntry) -> Result<(), StoreError> {
        self.put(Tree::Escrows, entry.object.as_bytes(), entry)
    }

    /// Drops an object's escrow entry.
    pub fn remove_escrow(&self, object: &str) -> Result<(), StoreError> {
        self.remove(Tree::Escrows, object)
    }

    /// Drops every escrow entry.
    pub fn clear_escrows(&self) -> Result<(), StoreError> {
        self.clear(Tree::Escrows)
    }

    /// Drops every connection (restart with `Full`).
    pub fn clear_anchors(&self) -> Result<(), StoreError> {
        self.clear(Tree::Anchors)
    }

    /// Connected users and groups: as counted since the last snapshot, or by reading every
    /// connection once.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        self.commit()?;
        let known = *self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(counts) = known {
            return Ok(counts);
        }
        let mut counts = Counts::default();
        for key in self.trees.anchors.iter().keys() {
            counts.add(&key.map_err(|e| self.db_err(e))?, 1);
        }
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner) = Some(counts);
        Ok(counts)
    }

    /// What `status` and `report` show, read from the state.
    fn summary(&self) -> Result<Summary, StoreError> {
        Ok(Summary {
            job_state: self.job_state()?,
            counts: self.counts()?,
            escrows: self.escrows()?,
            last_cycle: self.meta(LAST_CYCLE)?,
            in_use: None,
        })
    }

    /// Leaves the state's [`Summary`] beside it for the readers of the next writer's time.
    fn write_snapshot(&self) -> Result<(), StoreError> {
        use crate::clock::Clock;
        let summary = self.summary()?;
        let snapshot = Snapshot {
            written: crate::clock::SystemClock
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            job_state: summary.job_state,
            counts: summary.counts,
            escrows: summary.escrows.iter().cloned().collect(),
            last_cycle: summary.last_cycle,
        };
        snapshot::write(&self.path, &snapshot).map_err(|source| StoreError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// The [`Summary`] of the job's state in `dir`: read from the state when no other process
    /// holds it, and otherwise — a cycle is running — from the snapshot its last writer left,
    /// with who holds it now. [`StoreError::Busy`] when it is held and no snapshot was written
    /// yet.
    pub fn summary_of(dir: &Path) -> Result<Summary, StoreError> {
        match Store::try_open(dir) {
            Ok(store) => store.summary(),
            Err(StoreError::Busy { path, holder }) => match snapshot::read(dir) {
                Some(snapshot) => Ok(Summary {
                    job_state: snapshot.job_state,
                    counts: snapshot.counts,
                    escrows: snapshot.escrows.into_iter().collect(),
                    last_cycle: snapshot.last_cycle,
                    in_use: Some(InUse {
                        holder,
                        as_of: snapshot.written,
                    }),
                }),
                None => Err(StoreError::Busy { path, holder }),
            },
            Err(e) => Err(e),
        }
    }

    /// The job's state (quarantine, last execution, …); the default before the first cycle.
    pub fn job_state(&self) -> Result<JobState, StoreError> {
        Ok(self.meta(JOB_STATE)?.unwrap_or_default())
    }

    /// Persists the job's state.
    pub fn set_job_state(&self, state: &JobState) -> Result<(), StoreError> {
        self.set_meta(JOB_STATE, state)
    }

    /// Appends a provisioning-log record.
    pub fn append_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(entry).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            key: format!("log {}", entry.id),
            source,
        })?;
        let mut pending = self.pending();
        pending.logs.extend_from_slice(&bytes);
        pending.logs.push(b'\n');
        Ok(())
    }

    /// Drops the provisioning-log records older than `cutoff` (Entra keeps them for a retention
    /// period, spec §11.1) once the oldest is older than `cutoff - slack`, so the file is
    /// rewritten about once per `slack`, not at every cycle. Records are appended in time order:
    /// the first one at or after `cutoff` (or whose time does not read) and all that follow are
    /// kept, copied as bytes. Returns how many were dropped.
    pub fn prune_logs(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        slack: chrono::Duration,
    ) -> Result<usize, StoreError> {
        #[derive(serde::Deserialize)]
        struct Stamp {
            #[serde(rename = "activityDateTime")]
            at: String,
        }
        let time = |line: &[u8]| {
            let stamp: Stamp = serde_json::from_slice(line).ok()?;
            let at = chrono::DateTime::parse_from_rfc3339(&stamp.at).ok()?;
            Some(at.with_timezone(&chrono::Utc))
        };
        self.commit()?;
        let mut log = self.log_file();
        let mut reader = log.reader().map_err(|source| self.log_err(source))?;
        let (mut offset, mut dropped) = (0u64, 0usize);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = std::io::BufRead::read_until(&mut reader, b'\n', &mut line)
                .map_err(|source| self.log_err(source))?;
            match time(&line) {
                Some(at) if read > 0 && at < cutoff => {
                    if dropped == 0 && at >= cutoff - slack {
                        return Ok(0);
                    }
                    dropped += 1;
                    offset += read as u64;
                }
                _ => break,
            }
        }
        if dropped > 0 {
            log.keep_from(offset)
                .map_err(|source| self.log_err(source))?;
        }
        Ok(dropped)
    }

    /// Every provisioning-log record, oldest first.
    pub fn logs(&self) -> Result<Vec<LogEntry>, StoreError> {
        let mut out = Vec::new();
        self.for_each_log(|entry| {
            out.push(entry);
            Ok::<(), StoreError>(())
        })?;
        Ok(out)
    }

    /// Feeds every provisioning-log record to `f`, oldest first, one at a time (a million-user
    /// job's log is gigabytes: exports stream it).
    pub fn for_each_log<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(LogEntry) -> Result<(), E>,
    ) -> Result<(), E> {
        self.for_each_log_where(|_| true, |_, entry| f(entry))
    }

    /// Feeds the provisioning-log records whose position (0 for the oldest) `wanted` accepts to
    /// `f`, with their position, oldest first; the others are counted, not parsed.
    pub fn for_each_log_where<E: From<StoreError>>(
        &self,
        wanted: impl FnMut(usize) -> bool,
        f: impl FnMut(usize, LogEntry) -> Result<(), E>,
    ) -> Result<(), E> {
        self.commit()?;
        let reader = self
            .log_file()
            .reader()
            .map_err(|source| self.log_err(source))?;
        read_logs(reader, &self.path.join(LOG_FILE), wanted, f)
    }

    /// [`Store::for_each_log_where`] on the state directory `dir` without opening the state:
    /// the log is a plain file, readable while another process holds the state and appends to
    /// it (a record it has not finished writing is not read).
    pub fn for_each_log_in<E: From<StoreError>>(
        dir: &Path,
        wanted: impl FnMut(usize) -> bool,
        f: impl FnMut(usize, LogEntry) -> Result<(), E>,
    ) -> Result<(), E> {
        let path = dir.join(LOG_FILE);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(StoreError::Io { path, source }.into()),
        };
        read_logs(std::io::BufReader::new(file), &path, wanted, f)
    }
}

/// Feeds the records of a log file's complete lines to `f` (see [`Store::for_each_log_where`]).
fn read_logs<E: From<StoreError>>(
    mut reader: impl std::io::BufRead,
    path: &Path,
    mut wanted: impl FnMut(usize) -> bool,
    mut f: impl FnMut(usize, LogEntry) -> Result<(), E>,
) -> Result<(), E> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut position = 0;
    let mut line = Vec::new();
    for i in 0.. {
        line.clear();
        reader.read_until(b'\n', &mut line).map_err(io)?;
        // The end, or a line its writer has not finished.
        if line.pop() != Some(b'\n') {
            break;
        }
        if line.is_empty() {
            continue;
        }
        let at = position;
        position += 1;
        if !wanted(at) {
            continue;
        }
        let entry = serde_json::from_slice(&line).map_err(|source| StoreError::Corrupt {
            path: path.to_path_buf(),
            key: format!("line {}", i + 1),
            source,
        })?;
        f(at, entry)?;
    }
    Ok(())
}

impl Drop for Store {
    fn drop(&mut self) {
        // Writes nobody committed are still written; a failure was already reported to whoever
        // committed last, or has nobody left to hear it. The snapshot is for readers while the
        // next writer holds the state: without one they wait for it (a failure here costs them
        // that, nothing else).
        if self.commit().is_ok() && self.wrote.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = self.write_snapshot();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(id: &str) -> Anchor {
        Anchor {
            target_id: id.into(),
            manager: None,
            members: Vec::new(),
        }
    }

    #[test]
    fn a_source_index_read_beside_the_state_is_its_own_until_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let store = Store::open(&path).unwrap();
        assert!(Store::source_index_in(&path).unwrap().is_none());
        let text = "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"a@x.com\"}}\n";
        let directory = crate::directory::Directory::parse("t.jsonl", text).unwrap();
        let write =
            |out: &mut dyn Write| directory.write_source_index("m", |_| 0, |_| None, &[], out);
        let index = store.write_source_index(write).unwrap();
        assert!(
            Store::source_index_in(&path).unwrap().is_none(),
            "not yet kept"
        );
        store.keep_source_index(index).unwrap();
        let (index, which) = Store::source_index_in(&path).unwrap().expect("an index");
        assert_eq!(index.users.len(), 1);
        assert!(store.holds_source_index(which));
        let index = store.write_source_index(write).unwrap();
        store.keep_source_index(index).unwrap();
        assert!(
            !store.holds_source_index(which),
            "written again: another file"
        );
        let (_, again) = Store::source_index_in(&path).unwrap().expect("an index");
        store.forget_source_digest().unwrap();
        assert!(!store.holds_source_index(again), "removed");
    }

    #[test]
    fn writes_handed_to_the_writer_are_read_back_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        {
            let store = Store::open(&path).unwrap();
            for i in 0..50 {
                store
                    .put_anchor(
                        &ObjectKey::user(&format!("u{i}")),
                        &anchor(&format!("t{i}")),
                    )
                    .unwrap();
                store.commit_behind().unwrap();
            }
            store.remove_anchor(&ObjectKey::user("u0")).unwrap();
            store.set_watermark(&ObjectKey::user("u1"), "fp").unwrap();
            // Reads wait for pending writes: nothing was committed after the last two.
            assert_eq!(store.anchors().unwrap().len(), 49);
            assert_eq!(
                store.watermark(&ObjectKey::user("u1")).unwrap().as_deref(),
                Some("fp")
            );
            store.set_meta("uncommitted", &1).unwrap();
        }
        // Dropping the store wrote what was still pending.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.anchors().unwrap().len(), 49);
        assert_eq!(store.meta::<i32>("uncommitted").unwrap(), Some(1));
        assert!(store.anchor(&ObjectKey::user("u0")).unwrap().is_none());
        assert_eq!(
            store
                .anchor(&ObjectKey::user("u7"))
                .unwrap()
                .unwrap()
                .target_id,
            "t7"
        );
    }

    #[test]
    fn the_snapshot_counts_connections_across_writers_and_recounts_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let counts = |users, groups| Counts { users, groups };
        {
            let store = Store::open(&path).unwrap();
            for id in ["u1", "u2", "u3"] {
                store.put_anchor(&ObjectKey::user(id), &anchor(id)).unwrap();
            }
            store
                .put_anchor(&ObjectKey::group("g1"), &anchor("g"))
                .unwrap();
        }
        assert_eq!(snapshot::read(&path).unwrap().counts, counts(3, 1));
        {
            // Counted from the snapshot as they change: a replaced connection is not a new one.
            let store = Store::open(&path).unwrap();
            store
                .put_anchor(&ObjectKey::user("u1"), &anchor("t1"))
                .unwrap();
            store.remove_anchor(&ObjectKey::user("u2")).unwrap();
            store.remove_anchor(&ObjectKey::user("nobody")).unwrap();
            assert_eq!(store.counts().unwrap(), counts(2, 1));
        }
        assert_eq!(snapshot::read(&path).unwrap().counts, counts(2, 1));
        assert!(!path.join("snapshot.stale").exists());
        // A writer that changed connections and crashed leaves the marker: the counts the
        // snapshot holds (wrong here) are not a base, and the next writer counts anew.
        let mut wrong = snapshot::read(&path).unwrap();
        wrong.counts = counts(99, 99);
        snapshot::write(&path, &wrong).unwrap();
        snapshot::mark_stale(&path).unwrap();
        {
            let store = Store::open(&path).unwrap();
            store.set_meta("touched", &1).unwrap();
        }
        assert_eq!(snapshot::read(&path).unwrap().counts, counts(2, 1));
        // A reader leaves the snapshot as it was.
        let written = std::fs::read(path.join("snapshot.json")).unwrap();
        drop(Store::open(&path).unwrap());
        assert_eq!(std::fs::read(path.join("snapshot.json")).unwrap(), written);
    }

    #[test]
    fn a_held_state_is_summarized_from_its_snapshot_and_refused_to_writers_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        {
            let store = Store::open(&path).unwrap();
            store
                .put_anchor(&ObjectKey::user("u1"), &anchor("t1"))
                .unwrap();
            store
                .set_meta(LAST_CYCLE, &serde_json::json!({"n": 1}))
                .unwrap();
        }
        let holding = Store::open(&path).unwrap();
        let summary = Store::summary_of(&path).unwrap();
        let in_use = summary.in_use.as_ref().expect("read from the snapshot");
        assert_eq!(in_use.holder.as_ref().unwrap().pid, std::process::id());
        assert_eq!(summary.counts.users, 1);
        assert_eq!(
            summary.last_cycle::<serde_json::Value>(),
            Some(serde_json::json!({"n": 1}))
        );
        match Store::try_open(&path) {
            Err(e @ StoreError::Busy { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(&format!("in use by process {} (", std::process::id())),
                    "{text}"
                );
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("opened twice"),
        }
        drop(holding);
        let summary = Store::summary_of(&path).unwrap();
        assert!(summary.in_use.is_none());
        assert_eq!(summary.counts.users, 1);
    }

    #[test]
    fn the_log_is_read_without_the_state_up_to_its_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let store = Store::open(&path).unwrap();
        store
            .append_log(&log_record("e1", "2026-11-25T00:00:00Z"))
            .unwrap();
        store.commit().unwrap();
        // Another process appending, halfway through its next record.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(path.join(LOG_FILE))
            .unwrap();
        file.write_all(br#"{"id":"e2","activ"#).unwrap();
        let mut ids = Vec::new();
        Store::for_each_log_in(
            &path,
            |_| true,
            |_, log| {
                ids.push(log.id);
                Ok::<(), StoreError>(())
            },
        )
        .unwrap();
        assert_eq!(ids, ["e1"]);
        let none = dir.path().join("no-state");
        Store::for_each_log_in(
            &none,
            |_| true,
            |_, _| {
                Err(StoreError::Busy {
                    path: none.clone(),
                    holder: None,
                })
            },
        )
        .unwrap();
    }

    /// A provisioning-log record with `id` at `at` (RFC 3339), the rest empty.
    fn log_record(id: &str, at: &str) -> LogEntry {
        serde_json::from_value(serde_json::json!({
            "id": id, "activityDateTime": at,
            "jobId": "j", "cycleId": "c", "changeId": "x", "provisioningAction": "create",
            "durationInMilliseconds": 0,
            "initiatedBy": {"initiatingType": "system", "id": "", "displayName": ""},
            "sourceSystem": {"id": "", "displayName": "", "details": {}},
            "targetSystem": {"id": "", "displayName": "", "details": {}},
            "sourceIdentity": {"identityType": "User", "id": "", "displayName": "", "details": {}},
            "targetIdentity": {"identityType": "User", "id": "", "displayName": "", "details": {}},
            "provisioningStatusInfo": {"status": "success", "errorInformation": null},
            "modifiedProperties": [], "provisioningSteps": []
        }))
        .unwrap()
    }

    #[test]
    fn log_records_keep_their_order_across_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state")).unwrap();
        let record = |n: usize| log_record(&format!("e{n}"), "2026-11-25T00:00:00Z");
        for n in 0..30 {
            store.append_log(&record(n)).unwrap();
            if n % 7 == 0 {
                store.commit_behind().unwrap();
            }
        }
        let ids: Vec<String> = store.logs().unwrap().into_iter().map(|l| l.id).collect();
        let want: Vec<String> = (0..30).map(|n| format!("e{n}")).collect();
        assert_eq!(ids, want);
        // Some records, by position: the others are skipped unparsed.
        let mut some = Vec::new();
        store
            .for_each_log_where(
                |i| i % 10 == 3,
                |i, log| {
                    some.push((i, log.id));
                    Ok::<(), StoreError>(())
                },
            )
            .unwrap();
        assert_eq!(
            some,
            [(3, "e3".into()), (13, "e13".into()), (23, "e23".into())]
        );
    }

    #[test]
    fn log_records_past_their_retention_are_dropped_about_daily() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let record = |id: &str, days_ago: f64| {
            let at = now - chrono::Duration::seconds((days_ago * 86_400.0) as i64);
            log_record(id, &at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        };
        let ids = |store: &Store| -> Vec<String> {
            store.logs().unwrap().into_iter().map(|l| l.id).collect()
        };
        let (cutoff, day) = (now - chrono::Duration::days(30), chrono::Duration::days(1));
        // The oldest is past the cutoff by less than a day: nothing is rewritten yet.
        for (id, days_ago) in [("a", 30.5), ("b", 10.0)] {
            store.append_log(&record(id, days_ago)).unwrap();
        }
        assert_eq!(store.prune_logs(cutoff, day).unwrap(), 0);
        assert_eq!(ids(&store), ["a", "b"]);
        // Later, every record past the cutoff goes, in one rewrite.
        for (id, days_ago) in [("c", 5.0), ("d", 1.0)] {
            store.append_log(&record(id, days_ago)).unwrap();
        }
        let later = cutoff + chrono::Duration::days(21);
        assert_eq!(store.prune_logs(later, day).unwrap(), 2);
        assert_eq!(ids(&store), ["c", "d"]);
        // Appends go on after the rewrite, and the state reopens with them.
        store.append_log(&record("e", 0.0)).unwrap();
        store.commit().unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&store), ["c", "d", "e"]);
        assert_eq!(store.prune_logs(later, day).unwrap(), 0);
    }
}
