//! Durable job state — the only module that touches sled. It keeps what Entra keeps between cycles:
//! object connections (anchors), the per-object watermark, the provisioning logs and job metadata.
//! Writes are buffered and made durable together by [`Store::commit`] — once per entry, before
//! the next request that could depend on it. The provisioning log is an append-only file beside
//! sled's (`logfile`).

mod logfile;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Serialize, de::DeserializeOwned};

use crate::plan::{Anchor, ObjectKey};
use crate::policy::{EscrowEntry, Escrows, JobState};
use crate::provlog::LogEntry;

use logfile::LogFile;

/// Why the state directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, corruption, or another process holds the lock).
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

/// sled's page cache for a job's state.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// The provisioning log's file in the state directory.
const LOG_FILE: &str = "logs.jsonl";

/// The state of one job.
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    anchors: sled::Tree,
    watermarks: sled::Tree,
    logs: Mutex<LogFile>,
    meta: sled::Tree,
    escrows: sled::Tree,
    known: sled::Tree,
}

impl Store {
    /// Opens (creating if needed) the state directory.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let err = |source| StoreError::Db {
            path: path.to_path_buf(),
            source,
        };
        // sled releases its lock file a moment after the last handle is dropped (its flusher
        // thread exits asynchronously), so a state directory just closed — by this process or
        // another one that is ending — is retried for up to two seconds.
        let mut attempts = 0;
        let db = loop {
            // sled's page cache defaults to 1 GiB; the state is read once per cycle, so a small
            // cache keeps a large tenant's process lean.
            match sled::Config::new()
                .path(path)
                .cache_capacity(CACHE_BYTES)
                .open()
            {
                Err(sled::Error::Io(e))
                    if attempts < 100 && e.to_string().contains("could not acquire lock") =>
                {
                    attempts += 1;
                    crate::clock::pause(std::time::Duration::from_millis(20));
                }
                other => break other.map_err(err)?,
            }
        };
        let log_path = path.join(LOG_FILE);
        let logs = LogFile::open(&log_path).map_err(|source| StoreError::Io {
            path: log_path,
            source,
        })?;
        Ok(Self {
            anchors: db.open_tree("anchors").map_err(err)?,
            watermarks: db.open_tree("watermarks").map_err(err)?,
            logs: Mutex::new(logs),
            meta: db.open_tree("meta").map_err(err)?,
            escrows: db.open_tree("escrows").map_err(err)?,
            known: db.open_tree("known").map_err(err)?,
            db,
            path: path.to_path_buf(),
        })
    }

    fn db_err(&self, source: sled::Error) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match tree.get(key.as_bytes()).map_err(|e| self.db_err(e))? {
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

    fn put<T: Serialize>(
        &self,
        tree: &sled::Tree,
        key: &[u8],
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            key: String::from_utf8_lossy(key).into_owned(),
            source,
        })?;
        tree.insert(key, bytes).map_err(|e| self.db_err(e))?;
        Ok(())
    }

    fn remove(&self, tree: &sled::Tree, key: &str) -> Result<(), StoreError> {
        tree.remove(key.as_bytes()).map_err(|e| self.db_err(e))?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(|e| self.db_err(e))
    }

    /// Makes every write so far durable (one fsync). Writes are buffered until then: callers
    /// commit once per entry, before anything that depends on it.
    pub fn commit(&self) -> Result<(), StoreError> {
        // Log records first: a record without its connection is harmless (the next cycle matches
        // the object again), a connection without its record would lose the log.
        self.log_file()
            .sync()
            .map_err(|source| self.log_err(source))?;
        self.flush()
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

    /// The connection of a source object, if it has one.
    pub fn anchor(&self, key: &ObjectKey) -> Result<Option<Anchor>, StoreError> {
        self.get(&self.anchors, &key.to_string())
    }

    /// Every connection.
    pub fn anchors(&self) -> Result<Vec<(ObjectKey, Anchor)>, StoreError> {
        let mut out = Vec::new();
        for item in self.anchors.iter() {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let anchor = serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                key: key.clone(),
                source,
            })?;
            if let Some(object) = ObjectKey::parse(&key) {
                out.push((object, anchor));
            }
        }
        Ok(out)
    }

    /// Records (or replaces) a connection.
    pub fn put_anchor(&self, key: &ObjectKey, anchor: &Anchor) -> Result<(), StoreError> {
        self.put(&self.anchors, key.to_string().as_bytes(), anchor)
    }

    /// Forgets a connection.
    pub fn remove_anchor(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.remove(&self.anchors, &key.to_string())
    }

    /// The fingerprint of the source object as of its last fully processed change.
    pub fn watermark(&self, key: &ObjectKey) -> Result<Option<String>, StoreError> {
        self.get(&self.watermarks, &key.to_string())
    }

    /// Every watermarked object with its fingerprint.
    pub fn watermarks(&self) -> Result<Vec<(ObjectKey, String)>, StoreError> {
        let mut out = Vec::new();
        for item in self.watermarks.iter() {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let fingerprint = serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                key: key.clone(),
                source,
            })?;
            if let Some(object) = ObjectKey::parse(&key) {
                out.push((object, fingerprint));
            }
        }
        Ok(out)
    }

    /// Advances an object's watermark.
    pub fn set_watermark(&self, key: &ObjectKey, fingerprint: &str) -> Result<(), StoreError> {
        self.put(&self.watermarks, key.to_string().as_bytes(), &fingerprint)
    }

    /// Drops an object's watermark (it will be processed again).
    pub fn remove_watermark(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.remove(&self.watermarks, &key.to_string())
    }

    /// Drops every watermark: the next cycle is initial.
    pub fn clear_watermarks(&self) -> Result<(), StoreError> {
        self.watermarks.clear().map_err(|e| self.db_err(e))?;
        self.flush()
    }

    /// A job-level value.
    pub fn meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.get(&self.meta, name)
    }

    /// Sets a job-level value.
    pub fn set_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<(), StoreError> {
        self.put(&self.meta, name.as_bytes(), value)
    }

    /// Records what the target holds for an object, as far as Entra knows.
    pub fn put_known(
        &self,
        key: &ObjectKey,
        resource: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.put(&self.known, key.to_string().as_bytes(), resource)
    }

    /// Forgets what the target held for an object.
    pub fn remove_known(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.remove(&self.known, &key.to_string())
    }

    /// Every object's last known target state.
    pub fn known(&self) -> Result<Vec<(ObjectKey, serde_json::Value)>, StoreError> {
        let mut out = Vec::new();
        for item in self.known.iter() {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let resource = serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                key: key.clone(),
                source,
            })?;
            if let Some(object) = ObjectKey::parse(&key) {
                out.push((object, resource));
            }
        }
        Ok(out)
    }

    /// Every escrow entry.
    pub fn escrows(&self) -> Result<Escrows, StoreError> {
        let mut entries = Vec::new();
        for item in self.escrows.iter() {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            let entry: EscrowEntry =
                serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                    path: self.path.clone(),
                    key: String::from_utf8_lossy(&k).into_owned(),
                    source,
                })?;
            entries.push(entry);
        }
        Ok(entries.into_iter().collect())
    }

    /// Records (or replaces) an object's escrow entry.
    pub fn put_escrow(&self, entry: &EscrowEntry) -> Result<(), StoreError> {
        self.put(&self.escrows, entry.object.as_bytes(), entry)
    }

    /// Drops an object's escrow entry.
    pub fn remove_escrow(&self, object: &str) -> Result<(), StoreError> {
        self.remove(&self.escrows, object)
    }

    /// Drops every escrow entry.
    pub fn clear_escrows(&self) -> Result<(), StoreError> {
        self.escrows.clear().map_err(|e| self.db_err(e))?;
        self.flush()
    }

    /// Drops every connection (restart with `Full`).
    pub fn clear_anchors(&self) -> Result<(), StoreError> {
        self.anchors.clear().map_err(|e| self.db_err(e))?;
        self.flush()
    }

    /// The job's state (quarantine, last execution, …); the default before the first cycle.
    pub fn job_state(&self) -> Result<JobState, StoreError> {
        Ok(self.meta("job_state")?.unwrap_or_default())
    }

    /// Persists the job's state.
    pub fn set_job_state(&self, state: &JobState) -> Result<(), StoreError> {
        self.set_meta("job_state", state)
    }

    /// Appends a provisioning-log record.
    pub fn append_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(entry).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            key: format!("log {}", entry.id),
            source,
        })?;
        self.log_file()
            .append(&bytes)
            .map_err(|source| self.log_err(source))
    }

    /// Every provisioning-log record, oldest first.
    pub fn logs(&self) -> Result<Vec<LogEntry>, StoreError> {
        let records = self
            .log_file()
            .records()
            .map_err(|source| self.log_err(source))?;
        records
            .into_iter()
            .map(|(line, text)| {
                serde_json::from_str(&text).map_err(|source| StoreError::Corrupt {
                    path: self.path.join(LOG_FILE),
                    key: format!("line {line}"),
                    source,
                })
            })
            .collect()
    }
}
