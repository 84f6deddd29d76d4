//! Why a cycle could not run or finish: the engine's own error. `AppError::Cycle` carries it to
//! the process's exit code.

use crate::store::StoreError;

/// Why [`super::run_cycle`] failed. A job-level failure the target causes (bad credentials, an
/// unreachable server) is not an error: the cycle ends, and its report and the job's state say so.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The job is disabled (four weeks in quarantine): no cycle runs until a restart.
    #[error(
        "the job is disabled (four weeks in quarantine); fix the cause, then `entra-sim restart`"
    )]
    JobDisabled,
    /// The job is paused: no cycle runs until it is started.
    #[error("the job is paused; `entra-sim start` resumes it")]
    JobPaused,
    /// A directory read by line-level deltas holds only what changed: an initial cycle, which
    /// must see every object, cannot use it.
    #[error("a directory read by line-level deltas cannot feed an initial cycle")]
    PartialInitial,
    /// The job's state could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CycleError {
    /// The README's exit code: a paused or disabled job is a job-level failure (2); the state
    /// failing, or a line-delta directory fed to an initial cycle (a local fault), is 4.
    pub fn exit_code(&self) -> i32 {
        match self {
            CycleError::JobDisabled | CycleError::JobPaused => 2,
            CycleError::PartialInitial | CycleError::Store(_) => 4,
        }
    }
}
