//! Quarantine and the job state machine (§8, §11.2). A job is quarantined when a cycle hits a
//! job-level failure (bad credentials, a SCIM-compliance failure: `EncounteredQuarantineException`
//! regardless of counts), crosses an escrow threshold, or stages deletes over the accidental-deletion
//! threshold (`TooManyDeletes`). During an initial cycle an escrow threshold prunes escrows instead
//! and the job pauses when the cycle ends. A cycle with none of these lifts the quarantine. A job
//! still quarantined four weeks after the series began is disabled.
//!
//! Threshold names are inferred from Graph's enum: `EncounteredTotalEscrowThreshold` is the
//! 60,000 cap including reference failures, `EncounteredBaseEscrowThreshold` the 40,000
//! non-reference cap, `EncounteredEscrowProportionThreshold` the >40 % ratio. Messages are ours.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::schedule::ScheduleSettings;

/// Graph's `quarantine.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuarantineReason {
    /// More than 40,000 non-reference failures.
    EncounteredBaseEscrowThreshold,
    /// More than 60,000 failures, reference failures included.
    EncounteredTotalEscrowThreshold,
    /// More than 40 % of provisioning events failed.
    EncounteredEscrowProportionThreshold,
    /// Invalid credentials, cannot connect, or a SCIM-compliance failure.
    EncounteredQuarantineException,
    /// Quarantined by an admin (the doc page spells it `QuarantineOnDemand`).
    QuarantinedOnDemand,
    /// Pending deletes exceeded the accidental-deletion threshold.
    TooManyDeletes,
    /// Anything else.
    Unknown,
}

impl QuarantineReason {
    /// The name Graph uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EncounteredBaseEscrowThreshold => "EncounteredBaseEscrowThreshold",
            Self::EncounteredTotalEscrowThreshold => "EncounteredTotalEscrowThreshold",
            Self::EncounteredEscrowProportionThreshold => "EncounteredEscrowProportionThreshold",
            Self::EncounteredQuarantineException => "EncounteredQuarantineException",
            Self::QuarantinedOnDemand => "QuarantinedOnDemand",
            Self::TooManyDeletes => "TooManyDeletes",
            Self::Unknown => "Unknown",
        }
    }
}

/// Graph's `synchronizationError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncError {
    /// The error code, e.g. `SystemForCrossDomainIdentityManagementCredentialValidationFailure`.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// True when the tenant admin can fix it.
    pub tenant_actionable: bool,
}

/// Graph's `synchronizationQuarantine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuarantineState {
    /// When the quarantine was last evaluated and imposed.
    pub current_began: DateTime<Utc>,
    /// When the next cycle is attempted.
    pub next_attempt: DateTime<Utc>,
    /// Why.
    pub reason: QuarantineReason,
    /// When this series began (the first imposition since the last lift).
    pub series_began: DateTime<Utc>,
    /// Times the quarantine was re-evaluated and left in effect in this series (0 when first
    /// imposed).
    pub series_count: u32,
    /// The error behind it.
    pub error: SyncError,
}

/// The job's state. `Disabled` (quarantined for four weeks) is ours: Graph shows it as
/// `schedule.state = Disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum JobCode {
    /// Never ran.
    #[default]
    NotRun,
    /// Running on the normal schedule.
    Active,
    /// Paused by an admin, or after an initial cycle that pruned escrows.
    Paused,
    /// Quarantined: running on the back-off schedule.
    Quarantine,
    /// Stopped after four weeks in quarantine.
    Disabled,
}

impl JobCode {
    /// The code as Graph spells `status.code` (`Active`, `Quarantine`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRun => "NotRun",
            Self::Active => "Active",
            Self::Paused => "Paused",
            Self::Quarantine => "Quarantine",
            Self::Disabled => "Disabled",
        }
    }
}

impl std::fmt::Display for JobCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Graph's `synchronizationTaskExecution.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionState {
    /// Every entry succeeded.
    Succeeded,
    /// The cycle hit a job-level failure.
    Failed,
    /// Some entries failed.
    EntryLevelErrors,
}

/// Graph's `synchronizationTaskExecution`, as far as entra-sim counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskExecution {
    /// The cycle id ("Activity ID").
    pub activity_identifier: String,
    /// Entries exported successfully.
    pub count_exported: u64,
    /// Non-reference failures.
    pub count_escrowed: u64,
    /// All failures, reference failures included.
    pub count_escrowed_raw: u64,
    /// What the cycle read and exported besides (absent, so zero, in state written before
    /// entra-sim counted them).
    #[serde(flatten, default)]
    pub imports: ImportCounts,
    /// The job-level error, if the cycle failed.
    pub error: Option<SyncError>,
    /// How it ended.
    pub state: ExecutionState,
    /// When it began.
    pub time_began: DateTime<Utc>,
    /// When it ended.
    pub time_ended: DateTime<Utc>,
}

/// The job's persisted policy state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct JobState {
    /// Graph's `status.code` (plus `Disabled`).
    pub code: JobCode,
    /// The quarantine, while quarantined (kept when the job is disabled).
    pub quarantine: Option<QuarantineState>,
    /// An initial cycle hit an escrow threshold and pruned escrows.
    pub escrows_pruned: bool,
    /// Cycles in a row that failed completely (job failure, or every event failed).
    pub count_successive_complete_failures: u32,
    /// The last cycle.
    pub last_execution: Option<TaskExecution>,
    /// The last cycle without a job-level failure.
    pub last_successful_execution: Option<TaskExecution>,
    /// The last cycle without a job-level failure that exported something.
    pub last_successful_execution_with_exports: Option<TaskExecution>,
    /// First time a cycle ended with every entry succeeded.
    pub steady_state_first_achieved_time: Option<DateTime<Utc>>,
    /// Last time a cycle ended with every entry succeeded.
    pub steady_state_last_achieved_time: Option<DateTime<Utc>>,
    /// A restart with `ForceDeletes` ("Allow deletes") is pending: the next cycle's deletes pass
    /// the accidental-deletion guard.
    pub force_deletes: bool,
}

/// A job-level failure a cycle hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// The quarantine reason (normally `EncounteredQuarantineException`).
    pub reason: QuarantineReason,
    /// The error shown in `quarantine.error` and `lastExecution.error`.
    pub error: SyncError,
}

impl JobFailure {
    /// A credential or SCIM-compliance failure: `EncounteredQuarantineException`.
    pub fn quarantine_exception(code: &str, message: &str) -> Self {
        Self {
            reason: QuarantineReason::EncounteredQuarantineException,
            error: SyncError {
                code: code.to_string(),
                message: message.to_string(),
                tenant_actionable: true,
            },
        }
    }
}

/// The counters of Graph's `synchronizationTaskExecution` beyond exports and escrows
/// (`synchronization-synchronizationtaskexecution.md`), as entra-sim reads them: an entry is one
/// object of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ImportCounts {
    /// Objects read that are assigned to the app (or all objects, under "sync all").
    pub count_entitled: u64,
    /// Objects read that are assigned and pass the scoping filters.
    pub count_entitled_for_provisioning: u64,
    /// Entries that exported or tried to (created, updated, disabled, deleted, failed).
    pub count_exports: u64,
    /// Objects read from the source (none when the source was unchanged and not read).
    pub count_imported: u64,
    /// Objects whose change the cycle processed (every object in an initial cycle).
    pub count_imported_deltas: u64,
    /// Manager and member entries the cycle processed.
    pub count_imported_reference_deltas: u64,
}

/// A cycle's counts, as the thresholds read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CycleCounts {
    /// Successful provisioning events (exports) this cycle.
    pub successes: u64,
    /// Non-reference failures: the escrow entries standing at the end of the cycle
    /// ([`super::Escrows::threshold_counts`]).
    pub failures: u64,
    /// Reference (manager, member) failures standing at the end of the cycle.
    pub reference_failures: u64,
    /// What the cycle read, for the status.
    pub imports: ImportCounts,
}

/// What a finished cycle reports to the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleResult {
    /// The cycle id.
    pub cycle_id: String,
    /// When it began.
    pub began: DateTime<Utc>,
    /// An initial cycle (no watermark).
    pub is_initial: bool,
    /// The job-level failure that stopped it, if any.
    pub job_failure: Option<JobFailure>,
    /// Its counts.
    pub counts: CycleCounts,
    /// Deletes and disables held back by the accidental-deletion guard (0 = none).
    pub staged_deletes: u32,
    /// The engine already pruned escrows during this initial cycle (see [`escrow_threshold`]).
    pub escrows_pruned: bool,
}

/// The escrow thresholds (§8, "subject to change").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscrowThresholds {
    /// Evaluation starts at this many failures, reference failures included (default 5,000).
    pub min_failures: u64,
    /// Quarantine above this share of failing events, in percent (default 40).
    pub max_failure_percent: u64,
    /// Quarantine above this many non-reference failures (default 40,000).
    pub max_failures: u64,
    /// Quarantine above this many failures, reference failures included (default 60,000).
    pub max_total_failures: u64,
}

impl Default for EscrowThresholds {
    fn default() -> Self {
        Self {
            min_failures: 5_000,
            max_failure_percent: 40,
            max_failures: 40_000,
            max_total_failures: 60_000,
        }
    }
}

/// What the engine does after a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Healthy: next cycle on the normal interval.
    Healthy,
    /// The quarantine was lifted: normal schedule again.
    QuarantineLifted,
    /// Quarantined (newly or still). `notify` is true when entering quarantine or when the reason
    /// changed (Entra sends an email then) and an audit "Quarantine" record is due.
    Quarantined {
        /// Why.
        reason: QuarantineReason,
        /// Entering quarantine, or the reason changed.
        notify: bool,
    },
    /// Four weeks in quarantine: the job is disabled and runs no more cycles.
    Disabled,
    /// An initial cycle crossed an escrow threshold: clear the escrows (if not done yet); the job
    /// is paused until an admin starts it.
    PruneEscrowsAndPause,
}

/// The threshold a cycle's counts cross, if any. The engine may call it during an initial cycle
/// to prune escrows as soon as the threshold is hit (then set [`CycleResult::escrows_pruned`]).
pub fn escrow_threshold(counts: &CycleCounts, t: &EscrowThresholds) -> Option<QuarantineReason> {
    let failures = u128::from(counts.failures);
    let total = failures + u128::from(counts.reference_failures);
    let events = failures + u128::from(counts.successes);
    if total < u128::from(t.min_failures) {
        None
    } else if total > u128::from(t.max_total_failures) {
        Some(QuarantineReason::EncounteredTotalEscrowThreshold)
    } else if failures > u128::from(t.max_failures) {
        Some(QuarantineReason::EncounteredBaseEscrowThreshold)
    } else if failures * 100 > u128::from(t.max_failure_percent) * events {
        Some(QuarantineReason::EncounteredEscrowProportionThreshold)
    } else {
        None
    }
}

fn threshold_error(reason: QuarantineReason, c: &CycleCounts) -> SyncError {
    SyncError {
        code: reason.as_str().to_string(),
        message: format!(
            "The provisioning job crossed an escrow threshold: {} failures ({} reference failures) against {} successful events.",
            c.failures, c.reference_failures, c.successes
        ),
        tenant_actionable: true,
    }
}

fn too_many_deletes_error(staged: u32) -> SyncError {
    SyncError {
        code: QuarantineReason::TooManyDeletes.as_str().to_string(),
        message: format!(
            "{staged} deletions and disables exceeded the accidental-deletion threshold and were staged. Allow deletes (restart with ForceDeletes) or fix the cause and restart."
        ),
        tenant_actionable: true,
    }
}

/// The job's state after a cycle that ended at `now`, and what the engine should do.
pub fn after_cycle(
    state: &JobState,
    result: &CycleResult,
    thresholds: &EscrowThresholds,
    schedule: &ScheduleSettings,
    now: DateTime<Utc>,
) -> (JobState, Decision) {
    let c = &result.counts;
    let threshold = escrow_threshold(c, thresholds);
    let prune = result.job_failure.is_none()
        && result.is_initial
        && (threshold.is_some() || result.escrows_pruned);
    let trigger = quarantine_trigger(result, threshold, prune);
    let execution = task_execution(result, trigger.as_ref().map(|(_, e)| e), now);
    let mut next = record_execution(state, result, execution, trigger.is_none());
    let decision = if prune {
        next.escrows_pruned = true;
        next.quarantine = None;
        next.code = JobCode::Paused;
        Decision::PruneEscrowsAndPause
    } else if let Some((reason, error)) = trigger {
        impose(&mut next, reason, error, schedule, now)
    } else {
        stay_active(&mut next, now)
    };
    // An admin's pause during the cycle lets it finish but holds afterwards.
    if matches!(state.code, JobCode::Paused | JobCode::Disabled) {
        next.code = state.code;
    }
    (next, decision)
}

/// What quarantines the job after this cycle, if anything: a job-level failure, an escrow
/// threshold (unless the escrows are pruned instead), or deletes the guard staged.
fn quarantine_trigger(
    result: &CycleResult,
    threshold: Option<QuarantineReason>,
    prune: bool,
) -> Option<(QuarantineReason, SyncError)> {
    match (&result.job_failure, threshold) {
        (Some(f), _) => Some((f.reason, f.error.clone())),
        (None, Some(reason)) if !prune => Some((reason, threshold_error(reason, &result.counts))),
        _ if !prune && result.staged_deletes > 0 => Some((
            QuarantineReason::TooManyDeletes,
            too_many_deletes_error(result.staged_deletes),
        )),
        _ => None,
    }
}

/// The cycle as Graph's `lastExecution` shows it; `error` is what quarantines the job, if
/// anything does.
fn task_execution(
    result: &CycleResult,
    error: Option<&SyncError>,
    now: DateTime<Utc>,
) -> TaskExecution {
    let c = &result.counts;
    let all_failures = c.failures.saturating_add(c.reference_failures);
    // A cycle that ends in quarantine did not succeed: entry errors that passed a threshold stay
    // `EntryLevelErrors`; a cycle that staged its deletes sent nothing wrong, but the job
    // stopped, so it `Failed` (it is no success a CI may pass on).
    let state = if result.job_failure.is_some() {
        ExecutionState::Failed
    } else if all_failures > 0 {
        ExecutionState::EntryLevelErrors
    } else if error.is_some() {
        ExecutionState::Failed
    } else {
        ExecutionState::Succeeded
    };
    TaskExecution {
        activity_identifier: result.cycle_id.clone(),
        count_exported: c.successes,
        count_escrowed: c.failures,
        count_escrowed_raw: all_failures,
        imports: c.imports,
        error: error.cloned(),
        state,
        time_began: result.began,
        time_ended: now,
    }
}

/// `state` with the cycle's execution recorded: as the last one, in the count of successive
/// complete failures, and — when nothing quarantines the job (`succeeded`) — as the last
/// successful one.
fn record_execution(
    state: &JobState,
    result: &CycleResult,
    execution: TaskExecution,
    succeeded: bool,
) -> JobState {
    let c = &result.counts;
    let all_failures = c.failures.saturating_add(c.reference_failures);
    let mut next = state.clone();
    next.last_execution = Some(execution.clone());
    let complete_failure = result.job_failure.is_some() || (c.successes == 0 && all_failures > 0);
    next.count_successive_complete_failures = if complete_failure {
        state.count_successive_complete_failures.saturating_add(1)
    } else {
        0
    };
    if succeeded {
        if c.successes > 0 {
            next.last_successful_execution_with_exports = Some(execution.clone());
        }
        next.last_successful_execution = Some(execution);
        next.force_deletes = false;
    }
    next
}

/// Keeps (or makes) the job active after a cycle that nothing quarantines: a quarantine is
/// lifted, and a clean cycle marks the steady state.
fn stay_active(next: &mut JobState, now: DateTime<Utc>) -> Decision {
    let lifted = next.quarantine.take().is_some();
    next.code = JobCode::Active;
    let clean = next
        .last_execution
        .as_ref()
        .is_some_and(|e| e.state == ExecutionState::Succeeded);
    if clean {
        next.steady_state_first_achieved_time.get_or_insert(now);
        next.steady_state_last_achieved_time = Some(now);
    }
    if lifted {
        Decision::QuarantineLifted
    } else {
        Decision::Healthy
    }
}

/// Imposes (or re-imposes) quarantine on `state` at `now`; disables the job when the series is
/// four weeks old.
fn impose(
    state: &mut JobState,
    reason: QuarantineReason,
    error: SyncError,
    schedule: &ScheduleSettings,
    now: DateTime<Utc>,
) -> Decision {
    let (series_began, series_count, notify) = match &state.quarantine {
        Some(q) => (
            q.series_began,
            q.series_count.saturating_add(1),
            q.reason != reason,
        ),
        None => (now, 0, true),
    };
    state.quarantine = Some(QuarantineState {
        current_began: now,
        next_attempt: schedule.quarantine_ladder.next_after(series_began, now),
        reason,
        series_began,
        series_count,
        error,
    });
    if now - series_began >= schedule.disable_after {
        state.code = JobCode::Disabled;
        Decision::Disabled
    } else {
        state.code = JobCode::Quarantine;
        Decision::Quarantined { reason, notify }
    }
}

/// Graph `start`: a paused job continues, a quarantined (or disabled) one has its quarantine
/// cleared; the next cycle runs on the normal schedule.
pub fn start(state: &JobState) -> JobState {
    JobState {
        code: JobCode::Active,
        quarantine: None,
        ..state.clone()
    }
}

/// Graph `pause` / Provisioning Status Off: the current cycle finishes, no more start.
pub fn pause(state: &JobState) -> JobState {
    JobState {
        code: JobCode::Paused,
        ..state.clone()
    }
}

/// An admin quarantines the job (`QuarantinedOnDemand`).
pub fn quarantine_on_demand(
    state: &JobState,
    schedule: &ScheduleSettings,
    now: DateTime<Utc>,
) -> (JobState, Decision) {
    let mut next = state.clone();
    let error = SyncError {
        code: QuarantineReason::QuarantinedOnDemand.as_str().to_string(),
        message: "The provisioning job was quarantined on demand.".to_string(),
        tenant_actionable: true,
    };
    let decision = impose(
        &mut next,
        QuarantineReason::QuarantinedOnDemand,
        error,
        schedule,
        now,
    );
    (next, decision)
}

#[cfg(test)]
mod tests;
