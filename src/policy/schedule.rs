//! When the next cycle runs (§1.1, §8). A healthy job runs every interval (default 40 min) counted
//! from the end of the last cycle; a quarantined job backs off along a ladder counted from the start
//! of the quarantine series. Entra says only that the frequency is "gradually reduced to once per
//! day"; the default ladder is the quarantine doc's retry schedule (+6 h, +12 h, +24 h, then every
//! 24 h), and [`RetryLadder::doubling`] gives the alternative 40m, 80m, 160m … 24 h. A paused or
//! disabled job has no next cycle. A cron-driven scheduler can use [`cycle_delay`] as the minimum
//! gap between runs; [`next_try`] is the next tick after one on which no cycle could run.

use chrono::{DateTime, Duration, Utc};

use super::add;
use super::ladder::RetryLadder;
use super::quarantine::{JobCode, JobState};

/// Schedule settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// The healthy interval between cycles (default 40 min; Entra's is fixed, "approximately 40
    /// minutes").
    pub interval: Duration,
    /// The quarantine back-off, measured from `seriesBegan` (default [`RetryLadder::documented`]).
    pub quarantine_ladder: RetryLadder,
    /// A job still quarantined this long after `seriesBegan` is disabled (default 28 days: "more
    /// than four weeks").
    pub disable_after: Duration,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            interval: Duration::minutes(40),
            quarantine_ladder: RetryLadder::documented(),
            disable_after: Duration::days(28),
        }
    }
}

/// When the next cycle should start, never before `now` (an overdue cycle runs now): at once for
/// a job that never ran, an interval after the last cycle ended when healthy, the quarantine's
/// `nextAttempt` when quarantined, `None` when paused or disabled.
pub fn next_cycle(
    state: &JobState,
    settings: &ScheduleSettings,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let at = match state.code {
        JobCode::Paused | JobCode::Disabled => return None,
        JobCode::NotRun => now,
        JobCode::Active => match &state.last_execution {
            Some(last) => add(last.time_ended, settings.interval),
            None => now,
        },
        JobCode::Quarantine => match &state.quarantine {
            Some(q) => q.next_attempt,
            None => now,
        },
    };
    Some(at.max(now))
}

/// The gap from the last cycle to the next: the interval when healthy, the current quarantine
/// step when quarantined, `None` when paused or disabled.
pub fn cycle_delay(state: &JobState, settings: &ScheduleSettings) -> Option<Duration> {
    match state.code {
        JobCode::Paused | JobCode::Disabled => None,
        JobCode::NotRun | JobCode::Active => Some(settings.interval),
        JobCode::Quarantine => Some(match &state.quarantine {
            Some(q) => (q.next_attempt - q.current_began).max(Duration::zero()),
            None => settings.interval,
        }),
    }
}

/// When to try again after a tick on which no cycle could run (the job's files did not load): one
/// step — the interval, or the quarantine's current step, at least a second — after `now`, and
/// never before [`next_cycle`]. An overdue job's [`next_cycle`] is `now`, so a daemon waiting for
/// it would try again at once, forever (issue 18, item 2). `None` when paused or disabled.
pub fn next_try(
    state: &JobState,
    settings: &ScheduleSettings,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let step = cycle_delay(state, settings)?.max(Duration::seconds(1));
    let next = next_cycle(state, settings, now)?;
    Some(next.max(add(now, step)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::quarantine::{ExecutionState, TaskExecution};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn healthy_jobs_run_an_interval_after_the_last_cycle_ended() {
        let s = ScheduleSettings::default();
        let ended = t("2026-02-01T09:05:00Z");
        let state = JobState {
            code: JobCode::Active,
            last_execution: Some(TaskExecution {
                activity_identifier: "c1".into(),
                count_exported: 1,
                count_escrowed: 0,
                count_escrowed_raw: 0,
                imports: Default::default(),
                error: None,
                state: ExecutionState::Succeeded,
                time_began: t("2026-02-01T09:00:00Z"),
                time_ended: ended,
            }),
            ..JobState::default()
        };
        assert_eq!(
            next_cycle(&state, &s, ended),
            Some(t("2026-02-01T09:45:00Z"))
        );
        let late = t("2026-02-01T12:00:00Z");
        assert_eq!(next_cycle(&state, &s, late), Some(late));
        assert_eq!(cycle_delay(&state, &s), Some(Duration::minutes(40)));
        assert_eq!(next_cycle(&JobState::default(), &s, late), Some(late));
        // A tick that could not run a cycle waits a step from now, not from the last cycle.
        assert_eq!(next_try(&state, &s, late), Some(t("2026-02-01T12:40:00Z")));
        assert_eq!(next_try(&state, &s, ended), Some(t("2026-02-01T09:45:00Z")));
        let paused = JobState {
            code: JobCode::Paused,
            ..state
        };
        assert_eq!(next_try(&paused, &s, late), None);
    }
}
