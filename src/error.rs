//! The top-level error of every command and its exit code. The README's exit-code table is a
//! contract: 0 ok, 1 entry-level errors, 2 job-level failure, 3 bad input, 4 state or internal error.

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A file or argument is invalid (YAML, attribute, expression, regex, flag). Already names the
    /// file, line, column and field.
    #[error("{0}")]
    Input(String),
    /// The job as a whole failed: cannot connect, bad credentials, SCIM-compliance failure.
    #[error("{0}")]
    Job(String),
    /// Some objects failed; the cycle itself ran.
    #[error("{0}")]
    Entries(String),
    /// The state directory or another local resource failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Anything else local (I/O, binding a port).
    #[error("{0}")]
    Local(String),
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Entries(_) => 1,
            AppError::Job(_) => 2,
            AppError::Input(_) => 3,
            AppError::Store(_) | AppError::Local(_) => 4,
        }
    }
}

impl From<crate::engine::CycleError> for AppError {
    /// A paused or disabled job is a job-level failure (exit 2); the state failing is a state
    /// error (4), as is a line-delta directory fed to an initial cycle (a local fault).
    fn from(error: crate::engine::CycleError) -> Self {
        use crate::engine::CycleError;
        match error {
            CycleError::JobDisabled | CycleError::JobPaused => AppError::Job(error.to_string()),
            CycleError::PartialInitial => AppError::Local(error.to_string()),
            CycleError::Store(e) => AppError::Store(e),
        }
    }
}
