//! The copy of a job's state that `run --virtual-time` works on (issue 18, item 4): the simulated
//! clock's cycles and logs, stamped days or weeks ahead, stay out of the job's real state.

use std::path::{Path, PathBuf};

use crate::error::AppError;
use crate::store::Store;

/// The copy of a job's state that a `--virtual-time` run works on, in the temporary directory:
/// a simulated month of cycles and logs stamped in the future would otherwise sit in the real
/// job's state, confusing every later real `run`, `cycle` and `status` (issue 18, item 4).
pub(super) struct VirtualState {
    /// Where the copy is.
    pub(super) path: PathBuf,
}

impl VirtualState {
    /// Copies the state in `real` (if there is one yet), holding it open meanwhile, so that no
    /// other process writes it half-way through the copy.
    pub(super) fn copy(real: &Path) -> Result<Self, AppError> {
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "job".into());
        let base = std::env::temp_dir();
        let mut attempt = 0u32;
        let path = loop {
            let path = base.join(format!(
                "entra-sim-virtual-{name}-{}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => break path,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(io_error(&path, e)),
            }
        };
        let copy = Self { path };
        if real.is_dir() {
            let copied = Store::open(real).map_err(AppError::from).and_then(|store| {
                store.commit()?;
                copy_dir(real, &copy.path)
            });
            if let Err(e) = copied {
                copy.remove();
                return Err(e);
            }
        }
        Ok(copy)
    }

    /// Removes the copy.
    pub(super) fn remove(self) {
        // Best effort: a copy left in the temporary directory harms nothing.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Copies the files under `from` into `to`, which exists.
fn copy_dir(from: &Path, to: &Path) -> Result<(), AppError> {
    let entries = std::fs::read_dir(from).map_err(|e| io_error(from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(from, e))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| io_error(&source, e))?;
        if kind.is_dir() {
            std::fs::create_dir(&target).map_err(|e| io_error(&target, e))?;
            copy_dir(&source, &target)?;
        } else if kind.is_file() {
            std::fs::copy(&source, &target).map_err(|e| io_error(&source, e))?;
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: std::io::Error) -> AppError {
    AppError::StateCopy {
        path: path.to_path_buf(),
        source: e,
    }
}
