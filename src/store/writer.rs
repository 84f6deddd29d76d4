//! The store's writer thread: takes committed batches in order and makes each durable — log
//! records appended and synced first, then the batch applied to sled and sled flushed — so the
//! engine's loop never waits on the disk unless it asks to.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use super::StoreError;
use super::logfile::LogFile;
use super::snapshot::{self, Counts};

/// sled's trees of a job's state.
#[derive(Clone)]
pub struct Trees {
    pub db: sled::Db,
    pub anchors: sled::Tree,
    pub watermarks: sled::Tree,
    pub meta: sled::Tree,
    pub escrows: sled::Tree,
    pub known: sled::Tree,
}

/// Which tree a write goes to.
#[derive(Debug, Clone, Copy)]
pub enum Tree {
    Anchors,
    Watermarks,
    Meta,
    Escrows,
    Known,
}

impl Trees {
    pub fn tree(&self, tree: Tree) -> &sled::Tree {
        match tree {
            Tree::Anchors => &self.anchors,
            Tree::Watermarks => &self.watermarks,
            Tree::Meta => &self.meta,
            Tree::Escrows => &self.escrows,
            Tree::Known => &self.known,
        }
    }
}

/// One sled write.
#[derive(Debug)]
pub enum Op {
    Put(Tree, Vec<u8>, Vec<u8>),
    Remove(Tree, Vec<u8>),
    Clear(Tree),
}

/// Writes not yet committed: sled operations in order, and log lines (each ending in `\n`).
#[derive(Debug, Default)]
pub struct Batch {
    pub ops: Vec<Op>,
    pub logs: Vec<u8>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.logs.is_empty()
    }
}

/// The handle on the writer thread.
pub struct Writer {
    jobs: Option<Sender<Batch>>,
    results: Mutex<Receiver<Result<(), StoreError>>>,
    /// Batches submitted whose result has not been collected.
    in_flight: Mutex<usize>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread.
    pub fn start(
        state: &Path,
        log_path: PathBuf,
        trees: Trees,
        logs: Arc<Mutex<LogFile>>,
        counts: Arc<Mutex<Option<Counts>>>,
    ) -> Result<Self, StoreError> {
        let (jobs, inbox) = mpsc::channel::<Batch>();
        let (done, results) = mpsc::channel();
        let state = state.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("state-writer".into())
            .spawn(move || {
                // Durability in the background: never at the request loop's expense.
                crate::sched::step_aside_on_wakeup();
                let mut connections = Connections {
                    counts,
                    marked_stale: false,
                };
                for batch in inbox {
                    let result = write(&state, &log_path, &trees, &logs, &mut connections, batch);
                    if done.send(result).is_err() {
                        break;
                    }
                }
            })
            .map_err(|source| StoreError::Io {
                path: PathBuf::from("state-writer thread"),
                source,
            })?;
        Ok(Self {
            jobs: Some(jobs),
            results: Mutex::new(results),
            in_flight: Mutex::new(0),
            thread: Some(thread),
        })
    }

    /// Hands a batch to the thread.
    pub fn submit(&self, batch: Batch) -> Result<(), StoreError> {
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(batch).is_ok());
        if !sent {
            return Err(stopped());
        }
        *self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        Ok(())
    }

    /// Whether a submitted batch is still being written; collects (and reports the failure of)
    /// every batch that finished.
    pub fn busy(&self) -> Result<bool, StoreError> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
        while *in_flight > 0 {
            match results.try_recv() {
                Ok(result) => {
                    *in_flight -= 1;
                    result?;
                }
                Err(TryRecvError::Empty) => return Ok(true),
                Err(TryRecvError::Disconnected) => {
                    *in_flight = 0;
                    return Err(stopped());
                }
            }
        }
        Ok(false)
    }

    /// Waits until every submitted batch is written.
    pub fn wait(&self) -> Result<(), StoreError> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
        let mut first_error = None;
        while *in_flight > 0 {
            *in_flight -= 1;
            match results.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    *in_flight = 0;
                    first_error.get_or_insert_with(stopped);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread once it has written what it was given.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Io {
        path: PathBuf::from("state-writer thread"),
        source: std::io::Error::other("the state writer stopped"),
    }
}

/// The writer's count of connections (see `snapshot`): `None` when not known.
struct Connections {
    counts: Arc<Mutex<Option<Counts>>>,
    /// Whether the snapshot's counts were marked stale in this session.
    marked_stale: bool,
}

impl Connections {
    fn add(&self, key: &[u8], delta: i64) {
        if let Some(counts) = self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            counts.add(key, delta);
        }
    }
}

/// Makes one batch durable: log records first, then sled.
fn write(
    state: &Path,
    log_path: &Path,
    trees: &Trees,
    logs: &Mutex<LogFile>,
    connections: &mut Connections,
    batch: Batch,
) -> Result<(), StoreError> {
    if !batch.logs.is_empty() {
        let mut log = logs.lock().unwrap_or_else(PoisonError::into_inner);
        log.append(&batch.logs)
            .and_then(|()| log.sync())
            .map_err(|source| StoreError::Io {
                path: log_path.to_path_buf(),
                source,
            })?;
    }
    let db_err = |source| StoreError::Db {
        path: state.to_path_buf(),
        source,
    };
    let changes_connections = batch.ops.iter().any(|op| {
        matches!(
            op,
            Op::Put(Tree::Anchors, ..) | Op::Remove(Tree::Anchors, _) | Op::Clear(Tree::Anchors)
        )
    });
    if changes_connections && !connections.marked_stale {
        snapshot::mark_stale(state).map_err(|source| StoreError::Io {
            path: state.to_path_buf(),
            source,
        })?;
        connections.marked_stale = true;
    }
    for op in batch.ops {
        // sled answers what a key held before: the connections are counted as they change.
        match op {
            Op::Put(tree, key, value) => {
                let before = trees.tree(tree).insert(&*key, value).map_err(db_err)?;
                if matches!(tree, Tree::Anchors) && before.is_none() {
                    connections.add(&key, 1);
                }
            }
            Op::Remove(tree, key) => {
                let before = trees.tree(tree).remove(&*key).map_err(db_err)?;
                if matches!(tree, Tree::Anchors) && before.is_some() {
                    connections.add(&key, -1);
                }
            }
            Op::Clear(tree) => {
                trees.tree(tree).clear().map_err(db_err)?;
                if matches!(tree, Tree::Anchors) {
                    *connections
                        .counts
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(Counts::default());
                }
            }
        }
    }
    trees.db.flush().map_err(db_err)?;
    Ok(())
}
