//! Entra's failure behaviour as pure functions of (state, event, `now`): the escrow ladder for
//! object-level failures (§9), the 429 policy (§3, pitfall 14), quarantine and the job state
//! machine (§8, pitfall 15), the quarantine-adjusted schedule (§1.1), the accidental-deletion guard
//! (§4.4), restart scopes (§1.4) and the job status in Graph's shape (§11.2).
//!
//! Nothing here does IO or reads the clock: the engine passes `now`, persists the returned state
//! (every state type is serde-serializable as JSON) and acts on the returned decisions.
//! Timings the spec marks UNCONFIRMED are settings with documented defaults.

pub mod deletes;
pub mod escrow;
pub mod ladder;
pub mod quarantine;
pub mod reset;
pub mod schedule;
pub mod status;
pub mod throttle;

pub use deletes::{DeletionDecision, PendingDeletes, deletion_guard};
pub use escrow::{
    EscrowEntry, EscrowFailure, EscrowLadder, EscrowOperation, EscrowRecord, Escrows,
    entra_retry_timestamp, record_failure,
};
pub use ladder::RetryLadder;
pub use quarantine::{
    CycleCounts, CycleResult, Decision, EscrowThresholds, ExecutionState, ImportCounts, JobCode,
    JobFailure, JobState, QuarantineReason, QuarantineState, SyncError, TaskExecution, after_cycle,
    escrow_threshold, pause, quarantine_on_demand, start,
};
pub use reset::{ResetScope, ResetScopeError, RestartPlan, restart};
pub use schedule::{ScheduleSettings, cycle_delay, next_cycle, next_try};
pub use status::{StatusView, graph_status, iso_duration, status_json};
pub use throttle::{RetryAfterPolicy, ThrottleDecision, on_too_many_requests};

/// Every policy setting, with the defaults described on each part.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicySettings {
    /// When escrowed objects are retried and when they expire.
    pub escrow: EscrowLadder,
    /// What a 429 does within a cycle.
    pub retry_after: RetryAfterPolicy,
    /// When escrow counts quarantine the job.
    pub thresholds: EscrowThresholds,
    /// The cycle interval, the quarantine back-off and when a quarantined job is disabled.
    pub schedule: ScheduleSettings,
}

/// `t + d`, saturating at the largest representable instant instead of overflowing.
fn add(t: chrono::DateTime<chrono::Utc>, d: chrono::Duration) -> chrono::DateTime<chrono::Utc> {
    t.checked_add_signed(d)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}
