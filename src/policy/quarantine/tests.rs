//! Quarantine tests in simulated time: the spec's threshold examples, a 401 that quarantines the job
//! until it is disabled, lifting by a good cycle, initial-cycle pruning, staged deletes.

use chrono::Duration;

use super::*;
use crate::policy::ladder::RetryLadder;
use crate::policy::schedule::{cycle_delay, next_cycle};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn cycle(began: DateTime<Utc>, counts: CycleCounts) -> CycleResult {
    CycleResult {
        cycle_id: format!("cycle-{}", began.timestamp()),
        began,
        is_initial: false,
        job_failure: None,
        counts,
        staged_deletes: 0,
        escrows_pruned: false,
    }
}

fn unauthorized(began: DateTime<Utc>) -> CycleResult {
    CycleResult {
        job_failure: Some(JobFailure::quarantine_exception(
            "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
            "You appear to have entered invalid credentials.",
        )),
        ..cycle(
            began,
            CycleCounts {
                ..CycleCounts::default()
            },
        )
    }
}

fn active() -> JobState {
    JobState {
        code: JobCode::Active,
        ..JobState::default()
    }
}

#[test]
fn the_specs_threshold_examples() {
    let th = EscrowThresholds::default();
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                failures: 45_000,
                ..CycleCounts::default()
            },
            &th
        ),
        Some(QuarantineReason::EncounteredBaseEscrowThreshold)
    );
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                successes: 5_000,
                failures: 30_000,
                ..CycleCounts::default()
            },
            &th
        ),
        Some(QuarantineReason::EncounteredEscrowProportionThreshold)
    );
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                successes: 100_000,
                failures: 20_000,
                ..CycleCounts::default()
            },
            &th
        ),
        None
    );
}

#[test]
fn thresholds_start_at_5000_and_count_references_only_in_the_total() {
    let th = EscrowThresholds::default();
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                failures: 4_999,
                ..CycleCounts::default()
            },
            &th
        ),
        None
    );
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                failures: 5_000,
                ..CycleCounts::default()
            },
            &th
        ),
        Some(QuarantineReason::EncounteredEscrowProportionThreshold)
    );
    // Reference failures are not part of the ratio or the 40,000 cap …
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                successes: 100_000,
                failures: 1_000,
                reference_failures: 50_000,
                ..CycleCounts::default()
            },
            &th
        ),
        None
    );
    // … but are part of the 60,000 cap.
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                successes: 1_000_000,
                failures: 30_000,
                reference_failures: 30_001,
                ..CycleCounts::default()
            },
            &th
        ),
        Some(QuarantineReason::EncounteredTotalEscrowThreshold)
    );
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                successes: 1_000_000,
                failures: 30_000,
                reference_failures: 30_000,
                ..CycleCounts::default()
            },
            &th
        ),
        None
    );
    // Exactly 40 % is not more than 40 %.
    assert_eq!(
        escrow_threshold(
            &CycleCounts {
                successes: 9_000,
                failures: 6_000,
                ..CycleCounts::default()
            },
            &th
        ),
        None
    );
}

#[test]
fn threshold_quarantine_after_an_incremental_cycle() {
    let now = t("2026-01-01T00:00:00Z");
    let (state, decision) = after_cycle(
        &active(),
        &cycle(
            now,
            CycleCounts {
                successes: 5_000,
                failures: 30_000,
                ..CycleCounts::default()
            },
        ),
        &EscrowThresholds::default(),
        &ScheduleSettings::default(),
        now + Duration::minutes(10),
    );
    assert_eq!(
        decision,
        Decision::Quarantined {
            reason: QuarantineReason::EncounteredEscrowProportionThreshold,
            notify: true
        }
    );
    assert_eq!(state.code, JobCode::Quarantine);
    let exec = state.last_execution.unwrap();
    assert_eq!(exec.state, ExecutionState::EntryLevelErrors);
    assert_eq!((exec.count_exported, exec.count_escrowed), (5_000, 30_000));
    let (_, decision) = after_cycle(
        &active(),
        &cycle(
            now,
            CycleCounts {
                successes: 100_000,
                failures: 20_000,
                ..CycleCounts::default()
            },
        ),
        &EscrowThresholds::default(),
        &ScheduleSettings::default(),
        now,
    );
    assert_eq!(decision, Decision::Healthy);
}

/// Pitfall 15: 401 → `EncounteredQuarantineException`; cycles back off to daily; disabled after
/// four weeks.
#[test]
fn unauthorized_quarantines_backs_off_to_daily_and_disables_at_28_days() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let start = t("2026-02-01T09:00:00Z");
    let (mut state, decision) = after_cycle(&active(), &unauthorized(start), &th, &sched, start);
    assert_eq!(
        decision,
        Decision::Quarantined {
            reason: QuarantineReason::EncounteredQuarantineException,
            notify: true
        }
    );
    let q = state.quarantine.clone().unwrap();
    assert_eq!((q.series_began, q.series_count), (start, 0));
    assert_eq!(state.count_successive_complete_failures, 1);
    let mut gaps = Vec::new();
    let mut now = start;
    let last = loop {
        let next = next_cycle(&state, &sched, now).unwrap();
        assert_eq!(cycle_delay(&state, &sched), Some(next - now));
        gaps.push((next - now).num_hours());
        now = next;
        let (s, d) = after_cycle(&state, &unauthorized(now), &th, &sched, now);
        state = s;
        match d {
            Decision::Quarantined { notify, .. } => assert!(!notify),
            Decision::Disabled => break now,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(&gaps[..4], &[6, 6, 12, 24]);
    assert!(gaps[3..].iter().all(|g| *g == 24));
    assert_eq!(last - start, Duration::days(28));
    assert_eq!(state.code, JobCode::Disabled);
    assert_eq!(next_cycle(&state, &sched, last), None);
    let q = state.quarantine.unwrap();
    assert_eq!(q.series_began, start);
    assert_eq!(q.series_count as usize, gaps.len());
    assert_eq!(
        state.count_successive_complete_failures as usize,
        gaps.len() + 1
    );
}

#[test]
fn doubling_backoff_from_forty_minutes_reaches_daily() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings {
        quarantine_ladder: RetryLadder::doubling(Duration::minutes(40), Duration::hours(24)),
        ..ScheduleSettings::default()
    };
    let start = t("2026-02-01T09:00:00Z");
    let (mut state, _) = after_cycle(&active(), &unauthorized(start), &th, &sched, start);
    let mut gaps = Vec::new();
    let mut now = start;
    for _ in 0..9 {
        let next = next_cycle(&state, &sched, now).unwrap();
        gaps.push((next - now).num_minutes());
        now = next;
        state = after_cycle(&state, &unauthorized(now), &th, &sched, now).0;
    }
    assert_eq!(gaps, [40, 80, 160, 320, 640, 1280, 1440, 1440, 1440]);
}

#[test]
fn a_good_cycle_lifts_quarantine_and_resumes_the_interval() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let start = t("2026-02-01T09:00:00Z");
    let (state, _) = after_cycle(&active(), &unauthorized(start), &th, &sched, start);
    let retry = next_cycle(&state, &sched, start).unwrap();
    assert_eq!(retry, start + Duration::hours(6));
    let ended = retry + Duration::minutes(3);
    let (state, decision) = after_cycle(
        &state,
        &cycle(
            retry,
            CycleCounts {
                successes: 3,
                ..CycleCounts::default()
            },
        ),
        &th,
        &sched,
        ended,
    );
    assert_eq!(decision, Decision::QuarantineLifted);
    assert_eq!(state.code, JobCode::Active);
    assert!(state.quarantine.is_none());
    assert_eq!(state.count_successive_complete_failures, 0);
    assert_eq!(state.steady_state_first_achieved_time, Some(ended));
    assert_eq!(
        next_cycle(&state, &sched, ended),
        Some(ended + Duration::minutes(40))
    );
    // A later quarantine starts a new series.
    let later = ended + Duration::days(1);
    let (state, _) = after_cycle(&state, &unauthorized(later), &th, &sched, later);
    let q = state.quarantine.unwrap();
    assert_eq!((q.series_began, q.series_count), (later, 0));
}

#[test]
fn a_changed_reason_notifies_again_within_the_series() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let now = t("2026-02-01T09:00:00Z");
    let (state, _) = after_cycle(&active(), &unauthorized(now), &th, &sched, now);
    let later = now + Duration::hours(6);
    let (state, decision) = after_cycle(
        &state,
        &cycle(
            later,
            CycleCounts {
                failures: 45_000,
                ..CycleCounts::default()
            },
        ),
        &th,
        &sched,
        later,
    );
    assert_eq!(
        decision,
        Decision::Quarantined {
            reason: QuarantineReason::EncounteredBaseEscrowThreshold,
            notify: true
        }
    );
    let q = state.quarantine.unwrap();
    assert_eq!(
        (q.series_began, q.series_count, q.current_began),
        (now, 1, later)
    );
}

#[test]
fn an_initial_cycle_prunes_escrows_then_pauses() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let now = t("2026-02-01T09:00:00Z");
    let initial = CycleResult {
        is_initial: true,
        ..cycle(
            now,
            CycleCounts {
                successes: 1_000,
                failures: 45_000,
                ..CycleCounts::default()
            },
        )
    };
    let (state, decision) = after_cycle(&JobState::default(), &initial, &th, &sched, now);
    assert_eq!(decision, Decision::PruneEscrowsAndPause);
    assert_eq!(state.code, JobCode::Paused);
    assert!(state.escrows_pruned);
    assert!(state.quarantine.is_none());
    assert_eq!(next_cycle(&state, &sched, now), None);
    let resumed = start(&state);
    assert_eq!(resumed.code, JobCode::Active);
    assert_eq!(
        next_cycle(&resumed, &sched, now),
        Some(now + Duration::minutes(40))
    );
    // Pruned mid-cycle by the engine: the end counts are low but the job still pauses.
    let pruned = CycleResult {
        is_initial: true,
        escrows_pruned: true,
        ..cycle(
            now,
            CycleCounts {
                successes: 1_000,
                ..CycleCounts::default()
            },
        )
    };
    let (state, decision) = after_cycle(&JobState::default(), &pruned, &th, &sched, now);
    assert_eq!(decision, Decision::PruneEscrowsAndPause);
    assert!(state.escrows_pruned);
}

#[test]
fn credential_failure_in_an_initial_cycle_quarantines_regardless_of_counts() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let now = t("2026-02-01T09:00:00Z");
    let result = CycleResult {
        is_initial: true,
        counts: CycleCounts {
            failures: 45_000,
            ..CycleCounts::default()
        },
        ..unauthorized(now)
    };
    let (state, decision) = after_cycle(&JobState::default(), &result, &th, &sched, now);
    assert_eq!(
        decision,
        Decision::Quarantined {
            reason: QuarantineReason::EncounteredQuarantineException,
            notify: true
        }
    );
    assert!(!state.escrows_pruned);
    assert_eq!(state.last_execution.unwrap().state, ExecutionState::Failed);
    assert!(state.last_successful_execution.is_none());
}

#[test]
fn staged_deletes_quarantine_until_allowed() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let now = t("2026-02-01T09:00:00Z");
    let staged = CycleResult {
        staged_deletes: 600,
        ..cycle(
            now,
            CycleCounts {
                successes: 10,
                ..CycleCounts::default()
            },
        )
    };
    let (state, decision) = after_cycle(&active(), &staged, &th, &sched, now);
    assert_eq!(
        decision,
        Decision::Quarantined {
            reason: QuarantineReason::TooManyDeletes,
            notify: true
        }
    );
    assert!(
        state
            .quarantine
            .as_ref()
            .unwrap()
            .error
            .message
            .starts_with("600 ")
    );
    // "Allow deletes": the next cycle processes them and the quarantine lifts.
    let allowed = JobState {
        force_deletes: true,
        ..state
    };
    let later = now + Duration::hours(6);
    let (state, decision) = after_cycle(
        &allowed,
        &cycle(
            later,
            CycleCounts {
                successes: 600,
                ..CycleCounts::default()
            },
        ),
        &th,
        &sched,
        later,
    );
    assert_eq!(decision, Decision::QuarantineLifted);
    assert!(!state.force_deletes);
}

#[test]
fn an_admin_pause_during_a_cycle_holds_after_it() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let now = t("2026-02-01T09:00:00Z");
    let paused = pause(&active());
    let (state, decision) = after_cycle(
        &paused,
        &cycle(
            now,
            CycleCounts {
                successes: 1,
                ..CycleCounts::default()
            },
        ),
        &th,
        &sched,
        now,
    );
    assert_eq!(decision, Decision::Healthy);
    assert_eq!(state.code, JobCode::Paused);
    assert_eq!(next_cycle(&state, &sched, now), None);
}

#[test]
fn on_demand_quarantine_and_start_clears_it() {
    let sched = ScheduleSettings::default();
    let now = t("2026-02-01T09:00:00Z");
    let (state, decision) = quarantine_on_demand(&active(), &sched, now);
    assert_eq!(
        decision,
        Decision::Quarantined {
            reason: QuarantineReason::QuarantinedOnDemand,
            notify: true
        }
    );
    let started = start(&state);
    assert_eq!(started.code, JobCode::Active);
    assert!(started.quarantine.is_none());
}

#[test]
fn job_state_round_trips_as_json() {
    let th = EscrowThresholds::default();
    let sched = ScheduleSettings::default();
    let now = t("2026-02-01T09:00:00Z");
    let (state, _) = after_cycle(&active(), &unauthorized(now), &th, &sched, now);
    let json = serde_json::to_string(&state).unwrap();
    assert!(
        json.contains("\"reason\":\"EncounteredQuarantineException\""),
        "{json}"
    );
    assert!(json.contains("\"tenantActionable\":true"), "{json}");
    let back: JobState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
    let empty: JobState = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, JobState::default());
}

/// `cycle --json` prints a report's `jobStatus` by `JobCode`'s serde form, which must stay the
/// text `as_str` gives (it was printed from `as_str` before the report held a `JobCode`).
#[test]
fn a_job_code_serializes_as_graph_spells_it() {
    for code in [
        JobCode::NotRun,
        JobCode::Active,
        JobCode::Paused,
        JobCode::Quarantine,
        JobCode::Disabled,
    ] {
        let json = serde_json::to_value(code).unwrap();
        assert_eq!(json, serde_json::json!(code.as_str()));
        assert_eq!(serde_json::from_value::<JobCode>(json).unwrap(), code);
    }
}
