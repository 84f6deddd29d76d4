//! Restart scopes (§1.4): Graph `POST …/jobs/{jobId}/restart` with `criteria.resetScope`, a
//! comma-separated, case-insensitive list of `Watermark`, `Escrows`, `QuarantineState`,
//! `ForceDeletes`, `Full`, `ConnectorDataStore`. Empty or absent means the portal's "Restart
//! provisioning": `Watermark, Escrows, QuarantineState`. `Full` is all of the clearing scopes and
//! also breaks the object connections; it does not imply `ForceDeletes`.

use serde::{Deserialize, Serialize};

use super::quarantine::{JobCode, JobState};

/// The scopes of a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetScope {
    /// Re-evaluate every object (new initial cycle).
    pub watermark: bool,
    /// Stop retrying current failures.
    pub escrows: bool,
    /// Lift the quarantine.
    pub quarantine_state: bool,
    /// Push the deletes held back by the accidental-deletion guard.
    pub force_deletes: bool,
    /// Clear the connector data store (Entra's cache of managed objects).
    pub connector_data_store: bool,
    /// All of the above except `ForceDeletes`, and break the object connections.
    pub full: bool,
}

/// A `resetScope` word that is not a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown reset scope '{word}' (expected a comma-separated list of Watermark, Escrows, QuarantineState, ForceDeletes, Full, ConnectorDataStore)"
)]
pub struct ResetScopeError {
    /// The word as given.
    pub word: String,
}

impl ResetScope {
    /// The portal's "Restart provisioning": `Watermark, Escrows, QuarantineState`.
    pub fn default_restart() -> Self {
        Self {
            watermark: true,
            escrows: true,
            quarantine_state: true,
            ..Self::default()
        }
    }

    /// Parses a `resetScope` value; `None`, empty or blank is [`ResetScope::default_restart`].
    /// Empty items (a trailing comma) are ignored.
    pub fn parse(value: Option<&str>) -> Result<Self, ResetScopeError> {
        let words: Vec<&str> = value
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Ok(Self::default_restart());
        }
        let mut scope = Self::default();
        for word in words {
            let flag = match word.to_ascii_lowercase().as_str() {
                "watermark" => &mut scope.watermark,
                "escrows" => &mut scope.escrows,
                "quarantinestate" => &mut scope.quarantine_state,
                "forcedeletes" => &mut scope.force_deletes,
                "full" => &mut scope.full,
                "connectordatastore" => &mut scope.connector_data_store,
                _ => {
                    return Err(ResetScopeError {
                        word: word.to_string(),
                    });
                }
            };
            *flag = true;
        }
        Ok(scope)
    }

    /// What this restart clears.
    pub fn plan(&self) -> RestartPlan {
        RestartPlan {
            clear_watermarks: self.watermark || self.full,
            clear_escrows: self.escrows || self.full,
            lift_quarantine: self.quarantine_state || self.full,
            force_deletes: self.force_deletes,
            clear_connector_data_store: self.connector_data_store || self.full,
            clear_connections: self.full,
        }
    }
}

/// What a restart tells the store and the engine to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestartPlan {
    /// Forget every watermark: the next cycle is an initial cycle.
    pub clear_watermarks: bool,
    /// Empty the escrow book.
    pub clear_escrows: bool,
    /// Clear the quarantine (done by [`restart`] on the job state).
    pub lift_quarantine: bool,
    /// Let the next cycle's deletes through the guard (set by [`restart`] on the job state).
    pub force_deletes: bool,
    /// Forget cached exported references (an anchor's last exported manager and members).
    pub clear_connector_data_store: bool,
    /// Forget the anchors themselves: objects are matched again.
    pub clear_connections: bool,
}

/// The job state after a restart with `scope`, and what else to clear. A restart runs the job
/// again (a paused or disabled job becomes active) unless the quarantine stays, in which case the
/// next attempt is now. `escrowsPruned` and the failure count reset with the escrows.
pub fn restart(state: &JobState, scope: &ResetScope) -> (JobState, RestartPlan) {
    let plan = scope.plan();
    let mut next = state.clone();
    if plan.lift_quarantine {
        next.quarantine = None;
    }
    if plan.clear_escrows {
        next.escrows_pruned = false;
        next.count_successive_complete_failures = 0;
    }
    if plan.force_deletes {
        next.force_deletes = true;
    }
    match &mut next.quarantine {
        Some(q) => {
            q.next_attempt = q.current_began.min(q.next_attempt);
            next.code = JobCode::Quarantine;
        }
        None => next.code = JobCode::Active,
    }
    (next, plan)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::policy::quarantine::{CycleCounts, CycleResult, EscrowThresholds, after_cycle};
    use crate::policy::schedule::{ScheduleSettings, next_cycle};

    #[test]
    fn empty_or_absent_is_the_portal_restart() {
        for v in [None, Some(""), Some("  "), Some(",")] {
            assert_eq!(
                ResetScope::parse(v).unwrap(),
                ResetScope::default_restart(),
                "{v:?}"
            );
        }
    }

    #[test]
    fn words_are_case_insensitive_and_comma_separated() {
        let s =
            ResetScope::parse(Some("watermark, ESCROWS,QuarantineState,forceDeletes,")).unwrap();
        assert_eq!(
            s,
            ResetScope {
                watermark: true,
                escrows: true,
                quarantine_state: true,
                force_deletes: true,
                ..ResetScope::default()
            }
        );
        let s = ResetScope::parse(Some("Full,ConnectorDataStore")).unwrap();
        assert!(s.full && s.connector_data_store && !s.watermark);
    }

    #[test]
    fn a_bad_word_is_named() {
        let e = ResetScope::parse(Some("Watermark,Escrow")).unwrap_err();
        assert_eq!(e.word, "Escrow");
        assert!(
            e.to_string().starts_with("unknown reset scope 'Escrow'"),
            "{e}"
        );
        assert_eq!(ResetScope::parse(Some("None")).unwrap_err().word, "None");
    }

    #[test]
    fn plans() {
        let full = ResetScope::parse(Some("Full")).unwrap().plan();
        assert_eq!(
            full,
            RestartPlan {
                clear_watermarks: true,
                clear_escrows: true,
                lift_quarantine: true,
                force_deletes: false,
                clear_connector_data_store: true,
                clear_connections: true,
            }
        );
        let default = ResetScope::default_restart().plan();
        assert!(default.clear_watermarks && default.clear_escrows && default.lift_quarantine);
        assert!(!default.clear_connections && !default.clear_connector_data_store);
        let force = ResetScope::parse(Some("ForceDeletes")).unwrap().plan();
        assert_eq!(
            force,
            RestartPlan {
                force_deletes: true,
                ..RestartPlan::default()
            }
        );
    }

    #[test]
    fn restart_lifts_quarantine_or_retries_at_once() {
        let now = DateTime::parse_from_rfc3339("2026-02-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let sched = ScheduleSettings::default();
        let result = CycleResult {
            cycle_id: "c1".into(),
            began: now,
            is_initial: false,
            job_failure: None,
            counts: CycleCounts::default(),
            staged_deletes: 900,
            escrows_pruned: false,
        };
        let active = JobState {
            code: JobCode::Active,
            ..JobState::default()
        };
        let (quarantined, _) =
            after_cycle(&active, &result, &EscrowThresholds::default(), &sched, now);
        assert_eq!(quarantined.code, JobCode::Quarantine);

        let (allowed, plan) = restart(
            &quarantined,
            &ResetScope::parse(Some("ForceDeletes")).unwrap(),
        );
        assert!(plan.force_deletes && allowed.force_deletes);
        assert_eq!(allowed.code, JobCode::Quarantine);
        assert_eq!(next_cycle(&allowed, &sched, now), Some(now));

        let (restarted, plan) = restart(&quarantined, &ResetScope::default_restart());
        assert!(plan.clear_watermarks);
        assert_eq!(restarted.code, JobCode::Active);
        assert!(restarted.quarantine.is_none());
    }
}
