//! `SelectUniqueValue` (spec §7.2): "the first candidate no object in the target holds". Asking the
//! target is IO, which the core never does, so evaluation stops at the candidate list and the
//! planner asks: before a create, one query per candidate in order, each answer fed to
//! [`UniqueCandidates::candidate`] until one is free.

use super::error::{ErrorKind, ExprError, Span};

/// The candidates of one `SelectUniqueValue`, in argument order; null and empty ones are left out
/// (Entra has nothing to check for them). A candidate that failed to evaluate is kept as its error:
/// it fails the object only when every candidate before it is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueCandidates {
    candidates: Vec<Result<String, ExprError>>,
    span: Span,
}

impl UniqueCandidates {
    pub(crate) fn new(candidates: Vec<Result<String, ExprError>>, span: Span) -> Self {
        Self { candidates, span }
    }

    /// The candidate to ask the target about once the first `taken` candidates are known to be
    /// taken. `Err` when none is left (Entra escrows the object) or when this candidate could not
    /// be evaluated.
    pub fn candidate(&self, taken: usize) -> Result<&str, ExprError> {
        match self.candidates.get(taken) {
            Some(Ok(candidate)) => Ok(candidate),
            Some(Err(e)) => Err(e.clone()),
            None => Err(ExprError::new(
                ErrorKind::NoUniqueValue {
                    candidates: self
                        .candidates
                        .iter()
                        .filter_map(|c| c.as_ref().ok().cloned())
                        .collect(),
                },
                self.span,
            )),
        }
    }
}
