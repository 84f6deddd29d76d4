//! The job's status in Graph's `synchronizationJob` shape (§11.2; Graph docs
//! `synchronization-synchronizationjob-get.md`, `synchronization-synchronizationstatus.md`,
//! `-synchronizationtaskexecution.md`, `-synchronizationprogress.md`): `id`, `templateId`,
//! `schedule`, `status` (code, counters, executions, progress, quarantine, steady-state times,
//! entry counts by type, troubleshooting URL) and `synchronizationJobSettings`. What Graph does
//! not show (the escrow count, the next cycle) goes under an `entraSim` key that Graph clients
//! ignore.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::quarantine::{JobCode, JobState, QuarantineState, SyncError, TaskExecution};

/// `TimeSpan.MaxValue`, Graph's interval for a paused or disabled job.
const NEVER_INTERVAL: &str = "P10675199DT2H48M5.4775807S";
/// Graph's `DateTime.MinValue`, for steady state never achieved.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// What the status shows beyond the job state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    /// The job's id (`id`, the records' `jobId`).
    pub job_id: String,
    /// Users connected to a target object.
    pub synchronized_users: u64,
    /// Groups connected to a target object.
    pub synchronized_groups: u64,
    /// Objects currently escrowed.
    pub escrow_count: usize,
    /// When the next cycle runs ([`super::next_cycle`]).
    pub next_cycle: Option<DateTime<Utc>>,
    /// The healthy interval.
    pub interval: Duration,
    /// `QuarantineTooManyDeletesThreshold`, when the guard is on.
    pub deletion_threshold: Option<u32>,
}

/// `status.code` and `schedule.state` as Graph shows the job: `Disabled` is ours, shown as a
/// quarantined (or paused) code with a disabled schedule.
pub fn graph_status(state: &JobState) -> (JobCode, &'static str) {
    match state.code {
        JobCode::NotRun => (JobCode::NotRun, "Active"),
        JobCode::Active => (JobCode::Active, "Active"),
        JobCode::Quarantine => (JobCode::Quarantine, "Active"),
        JobCode::Paused => (JobCode::Paused, "Paused"),
        JobCode::Disabled if state.quarantine.is_some() => (JobCode::Quarantine, "Disabled"),
        JobCode::Disabled => (JobCode::Paused, "Disabled"),
    }
}

/// Renders the job as Graph's `GET …/synchronization/jobs/{jobId}` shows it.
pub fn status_json(state: &JobState, view: &StatusView) -> Value {
    let (code, schedule_state) = graph_status(state);
    let interval = match state.code {
        JobCode::Paused | JobCode::Disabled => NEVER_INTERVAL.to_string(),
        _ => iso_duration(view.interval),
    };
    let settings: Vec<Value> = view
        .deletion_threshold
        .map(|t| json!({"name": "QuarantineTooManyDeletesThreshold", "value": t.to_string()}))
        .into_iter()
        .collect();
    // Entra reads the source as one page per cycle here: a finished cycle is 1 of 1 pages.
    let progress: Vec<Value> = state
        .last_execution
        .iter()
        .map(|e| {
            json!({
                "completedUnits": 1,
                "progressObservationDateTime": time(e.time_ended),
                "totalUnits": 1,
                "units": "pages",
            })
        })
        .collect();
    json!({
        "id": view.job_id,
        // The non-gallery SCIM app's template (spec §11.2).
        "templateId": "scim",
        "schedule": {
            "expiration": null,
            "interval": interval,
            "state": schedule_state,
        },
        "status": {
            "code": code.as_str(),
            "countSuccessiveCompleteFailures": state.count_successive_complete_failures,
            "escrowsPruned": state.escrows_pruned,
            "lastExecution": state.last_execution.as_ref().map(execution),
            "lastSuccessfulExecution": state.last_successful_execution.as_ref().map(execution),
            "lastSuccessfulExecutionWithExports": state.last_successful_execution_with_exports.as_ref().map(execution),
            "progress": progress,
            "quarantine": state.quarantine.as_ref().map(quarantine),
            "steadyStateFirstAchievedTime": state.steady_state_first_achieved_time.map_or_else(|| NEVER.to_string(), time),
            "steadyStateLastAchievedTime": state.steady_state_last_achieved_time.map_or_else(|| NEVER.to_string(), time),
            // Keys as in the only public example (a cloud-sync job: "user to User"); inferred for
            // a SCIM app's user and group object mappings.
            "synchronizedEntryCountByType": [
                {"key": "user to User", "value": view.synchronized_users},
                {"key": "group to Group", "value": view.synchronized_groups},
            ],
            "troubleshootingUrl": "",
        },
        "synchronizationJobSettings": settings,
        "entraSim": {
            "escrowCount": view.escrow_count,
            "nextCycle": view.next_cycle.map(time),
        },
    })
}

fn time(t: DateTime<Utc>) -> String {
    crate::provlog::graph_time(t)
}

fn error(e: &SyncError) -> Value {
    json!({"code": e.code, "message": e.message, "tenantActionable": e.tenant_actionable})
}

fn execution(e: &TaskExecution) -> Value {
    json!({
        "activityIdentifier": e.activity_identifier,
        "countEntitled": e.imports.count_entitled,
        "countEntitledForProvisioning": e.imports.count_entitled_for_provisioning,
        "countEscrowed": e.count_escrowed,
        "countEscrowedRaw": e.count_escrowed_raw,
        "countExported": e.count_exported,
        "countExports": e.imports.count_exports,
        "countImported": e.imports.count_imported,
        "countImportedDeltas": e.imports.count_imported_deltas,
        "countImportedReferenceDeltas": e.imports.count_imported_reference_deltas,
        "error": e.error.as_ref().map(error),
        "state": e.state,
        "timeBegan": time(e.time_began),
        "timeEnded": time(e.time_ended),
    })
}

fn quarantine(q: &QuarantineState) -> Value {
    json!({
        "currentBegan": time(q.current_began),
        "nextAttempt": time(q.next_attempt),
        "reason": q.reason.as_str(),
        "seriesBegan": time(q.series_began),
        "seriesCount": q.series_count,
        "error": error(&q.error),
    })
}

/// An ISO-8601 duration as .NET prints a `TimeSpan` in Graph (`PT40M`, `P1D`, `PT1H30M`,
/// `PT0.5S`); negative durations print as `PT0S`.
pub fn iso_duration(d: Duration) -> String {
    let d = d.max(Duration::zero());
    let days = d.num_days();
    let rest = d - Duration::days(days);
    let hours = rest.num_hours();
    let minutes = rest.num_minutes() % 60;
    let seconds = rest.num_seconds() % 60;
    let ticks = (rest.subsec_nanos() / 100).max(0);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || seconds > 0 || ticks > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 || ticks > 0 {
            let fraction = format!("{ticks:07}");
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                out.push_str(&format!("{seconds}S"));
            } else {
                out.push_str(&format!("{seconds}.{fraction}S"));
            }
        } else if hours == 0 && minutes == 0 {
            out.push_str("0S");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::quarantine::{
        CycleCounts, CycleResult, EscrowThresholds, JobFailure, after_cycle,
    };
    use crate::policy::schedule::{ScheduleSettings, next_cycle};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn view(state: &JobState, now: DateTime<Utc>) -> StatusView {
        StatusView {
            job_id: "scim.entrasim.job".into(),
            synchronized_users: 3,
            synchronized_groups: 1,
            escrow_count: 2,
            next_cycle: next_cycle(state, &ScheduleSettings::default(), now),
            interval: Duration::minutes(40),
            deletion_threshold: Some(500),
        }
    }

    #[test]
    fn a_job_that_never_ran() {
        let now = t("2026-02-01T09:00:00Z");
        let state = JobState::default();
        let v = status_json(&state, &view(&state, now));
        assert_eq!(
            v,
            json!({
                "id": "scim.entrasim.job",
                "templateId": "scim",
                "schedule": {"expiration": null, "interval": "PT40M", "state": "Active"},
                "status": {
                    "code": "NotRun",
                    "countSuccessiveCompleteFailures": 0,
                    "escrowsPruned": false,
                    "lastExecution": null,
                    "lastSuccessfulExecution": null,
                    "lastSuccessfulExecutionWithExports": null,
                    "progress": [],
                    "quarantine": null,
                    "steadyStateFirstAchievedTime": "0001-01-01T00:00:00Z",
                    "steadyStateLastAchievedTime": "0001-01-01T00:00:00Z",
                    "synchronizedEntryCountByType": [
                        {"key": "user to User", "value": 3},
                        {"key": "group to Group", "value": 1},
                    ],
                    "troubleshootingUrl": "",
                },
                "synchronizationJobSettings": [
                    {"name": "QuarantineTooManyDeletesThreshold", "value": "500"}
                ],
                "entraSim": {"escrowCount": 2, "nextCycle": "2026-02-01T09:00:00.0000000Z"},
            })
        );
    }

    #[test]
    fn a_quarantined_job() {
        let now = t("2026-02-01T09:00:00Z");
        let result = CycleResult {
            cycle_id: "c1".into(),
            began: now,
            is_initial: false,
            job_failure: Some(JobFailure::quarantine_exception(
                "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
                "invalid credentials",
            )),
            counts: CycleCounts::default(),
            staged_deletes: 0,
            escrows_pruned: false,
        };
        let ended = now + Duration::seconds(2);
        let (state, _) = after_cycle(
            &JobState::default(),
            &result,
            &EscrowThresholds::default(),
            &ScheduleSettings::default(),
            ended,
        );
        let v = status_json(&state, &view(&state, ended));
        assert_eq!(v["status"]["code"], "Quarantine");
        assert_eq!(v["schedule"]["state"], "Active");
        assert_eq!(
            v["status"]["quarantine"],
            json!({
                "currentBegan": "2026-02-01T09:00:02.0000000Z",
                "nextAttempt": "2026-02-01T15:00:02.0000000Z",
                "reason": "EncounteredQuarantineException",
                "seriesBegan": "2026-02-01T09:00:02.0000000Z",
                "seriesCount": 0,
                "error": {
                    "code": "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
                    "message": "invalid credentials",
                    "tenantActionable": true,
                },
            })
        );
        assert_eq!(v["status"]["lastExecution"]["state"], "Failed");
        assert_eq!(
            v["status"]["lastExecution"]["timeBegan"],
            "2026-02-01T09:00:00.0000000Z"
        );
        assert_eq!(v["status"]["lastSuccessfulExecution"], Value::Null);
        assert_eq!(v["status"]["countSuccessiveCompleteFailures"], 1);
        assert_eq!(v["entraSim"]["nextCycle"], "2026-02-01T15:00:02.0000000Z");

        let disabled = JobState {
            code: JobCode::Disabled,
            ..state
        };
        let v = status_json(&disabled, &view(&disabled, ended));
        assert_eq!(v["status"]["code"], "Quarantine");
        assert_eq!(v["schedule"]["state"], "Disabled");
        assert_eq!(v["schedule"]["interval"], NEVER_INTERVAL);
        assert_eq!(v["entraSim"]["nextCycle"], Value::Null);
    }

    #[test]
    fn no_settings_without_a_threshold() {
        let state = JobState::default();
        let mut v = view(&state, t("2026-02-01T09:00:00Z"));
        v.deletion_threshold = None;
        assert_eq!(
            status_json(&state, &v)["synchronizationJobSettings"],
            json!([])
        );
    }

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration(Duration::minutes(40)), "PT40M");
        assert_eq!(iso_duration(Duration::hours(24)), "P1D");
        assert_eq!(iso_duration(Duration::minutes(90)), "PT1H30M");
        assert_eq!(iso_duration(Duration::zero()), "PT0S");
        assert_eq!(iso_duration(Duration::seconds(-5)), "PT0S");
        assert_eq!(iso_duration(Duration::milliseconds(500)), "PT0.5S");
        assert_eq!(
            iso_duration(Duration::days(2) + Duration::seconds(5)),
            "P2DT5S"
        );
    }
}
