//! The accidental-deletion guard (§4.4). With a threshold set (`QuarantineTooManyDeletesThreshold`),
//! a cycle whose pending user deletes and disables plus group deletes exceed it stages all of them:
//! each is logged with action `stageddelete` and nothing is sent, and the cycle reports the count so
//! the job is quarantined with `TooManyDeletes`. A pending `ForceDeletes` restart ("Allow deletes")
//! lets them through.

/// What a cycle plans to delete or disable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PendingDeletes {
    /// `DELETE /Users/{id}`.
    pub user_deletes: u32,
    /// `active=false` PATCHes.
    pub user_disables: u32,
    /// `DELETE /Groups/{id}`.
    pub group_deletes: u32,
}

impl PendingDeletes {
    /// All of them: they count together against the threshold.
    pub fn total(&self) -> u32 {
        self.user_deletes
            .saturating_add(self.user_disables)
            .saturating_add(self.group_deletes)
    }
}

/// The guard's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionDecision {
    /// Send them.
    Allow,
    /// Stage every one (log `stageddelete`, send nothing) and report `staged` in
    /// [`super::CycleResult::staged_deletes`].
    Stage {
        /// How many are staged.
        staged: u32,
        /// The threshold they exceeded.
        threshold: u32,
    },
}

/// Decides whether a cycle's deletes and disables go out. `threshold` `None` turns the guard off;
/// `force_deletes` is [`super::JobState::force_deletes`].
pub fn deletion_guard(
    threshold: Option<u32>,
    pending: &PendingDeletes,
    force_deletes: bool,
) -> DeletionDecision {
    match threshold {
        Some(threshold) if !force_deletes && pending.total() > threshold => {
            DeletionDecision::Stage {
                staged: pending.total(),
                threshold,
            }
        }
        _ => DeletionDecision::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_without_a_threshold() {
        assert_eq!(
            deletion_guard(
                None,
                &PendingDeletes {
                    user_deletes: 10_000,
                    user_disables: 10_000,
                    group_deletes: 10_000
                },
                false
            ),
            DeletionDecision::Allow
        );
    }

    #[test]
    fn deletes_disables_and_group_deletes_count_together() {
        assert_eq!(
            deletion_guard(
                Some(500),
                &PendingDeletes {
                    user_deletes: 200,
                    user_disables: 200,
                    group_deletes: 100
                },
                false
            ),
            DeletionDecision::Allow
        );
        assert_eq!(
            deletion_guard(
                Some(500),
                &PendingDeletes {
                    user_deletes: 200,
                    user_disables: 200,
                    group_deletes: 101
                },
                false
            ),
            DeletionDecision::Stage {
                staged: 501,
                threshold: 500
            }
        );
        assert_eq!(
            deletion_guard(
                Some(0),
                &PendingDeletes {
                    user_deletes: 0,
                    user_disables: 1,
                    group_deletes: 0
                },
                false
            ),
            DeletionDecision::Stage {
                staged: 1,
                threshold: 0
            }
        );
    }

    #[test]
    fn force_deletes_lets_them_through() {
        assert_eq!(
            deletion_guard(
                Some(500),
                &PendingDeletes {
                    user_deletes: 1_000,
                    user_disables: 0,
                    group_deletes: 0
                },
                true
            ),
            DeletionDecision::Allow
        );
    }

    #[test]
    fn counts_saturate() {
        assert_eq!(
            PendingDeletes {
                user_deletes: u32::MAX,
                user_disables: 1,
                group_deletes: 1
            }
            .total(),
            u32::MAX
        );
    }
}
