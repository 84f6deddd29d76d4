//! What a cycle did: its entry counts and the [`CycleReport`] that `cycle`, `run`, `plan` and
//! `status` print, built in one place ([`CycleReport::new`]).

use serde::Serialize;

use crate::plan::CycleKind;
use crate::policy::{Escrows, JobCode, QuarantineState};
use crate::provlog::{LogEntry, ProvisioningAction, Status};

/// Counts of a cycle's entries, as the summary line prints them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Objects created.
    pub created: usize,
    /// Objects updated (incl. manager and member exports).
    pub updated: usize,
    /// Users disabled.
    pub disabled: usize,
    /// Objects deleted.
    pub deleted: usize,
    /// Entries skipped (nothing to do, or out of scope).
    pub skipped: usize,
    /// Entries that failed (retried next cycle).
    pub failed: usize,
}

impl Counts {
    /// Counts one log entry.
    pub fn add(&mut self, log: &LogEntry) {
        match (log.provisioning_status_info.status, log.provisioning_action) {
            (Status::Failure, _) => self.failed += 1,
            (Status::Skipped, _) => self.skipped += 1,
            (_, ProvisioningAction::Create) => self.created += 1,
            (_, ProvisioningAction::Disable) => self.disabled += 1,
            (_, ProvisioningAction::Delete) => self.deleted += 1,
            (_, _) => self.updated += 1,
        }
    }
}

/// What a cycle did.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleReport {
    /// The cycle's id ("Activity ID").
    pub cycle_id: String,
    /// Initial or incremental.
    pub kind: CycleKind,
    /// When it began and ended (UTC, as Graph writes times: seven fractional digits).
    pub time_began: String,
    /// When it ended.
    pub time_ended: String,
    /// Entry counts.
    pub counts: Counts,
    /// The job-level failure that stopped the cycle, if any.
    pub job_failure: Option<String>,
    /// The job's status after the cycle (`Active`, `Quarantine`, `Paused`, `Disabled`).
    pub job_status: JobCode,
    /// The quarantine reason, when quarantined.
    pub quarantine: Option<String>,
    /// Deletes and disables held back by the accidental-deletion guard.
    pub staged_deletes: usize,
    /// Objects waiting in escrow after the cycle.
    pub escrowed: usize,
    /// When the first of them is due to be retried (Graph's time format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_escrow_due: Option<String>,
    /// Requests sent to the target.
    pub requests: u64,
    /// The source was byte-for-byte that of the last clean cycle, so it was not read at all
    /// ([`crate::engine::unchanged_cycle`]).
    #[serde(default)]
    pub source_unchanged: bool,
}

/// Which cycle ran, and when.
pub(super) struct Ran {
    /// The cycle's id.
    pub cycle_id: String,
    /// Initial or incremental.
    pub kind: CycleKind,
    /// When it began.
    pub began: chrono::DateTime<chrono::Utc>,
    /// When its last entry was done.
    pub ended: chrono::DateTime<chrono::Utc>,
    /// The source was not read at all.
    pub source_unchanged: bool,
}

/// What a cycle did, as its report counts it (all zero for a cycle that read nothing).
#[derive(Default)]
pub(super) struct Tally {
    /// Entry counts.
    pub counts: Counts,
    /// The job-level failure that stopped it.
    pub job_failure: Option<String>,
    /// Deletes and disables held back.
    pub staged_deletes: usize,
    /// Objects waiting in escrow.
    pub escrowed: usize,
    /// When the first of them is retried.
    pub next_escrow_due: Option<String>,
    /// Requests sent.
    pub requests: u64,
}

impl Tally {
    /// The escrow figures of a tally: how many wait, and when the first is retried.
    pub fn escrows(escrows: &Escrows) -> (usize, Option<String>) {
        let next = escrows.iter().map(|e| e.next_retry).min().map(stamp);
        (escrows.len(), next)
    }
}

impl CycleReport {
    /// The report of the cycle `ran`, which did `tally` and left the job in `status` (with
    /// `quarantine`, when it is quarantined).
    pub(super) fn new(
        ran: Ran,
        tally: Tally,
        status: JobCode,
        quarantine: Option<&QuarantineState>,
    ) -> Self {
        CycleReport {
            cycle_id: ran.cycle_id,
            kind: ran.kind,
            time_began: stamp(ran.began),
            time_ended: stamp(ran.ended),
            counts: tally.counts,
            job_failure: tally.job_failure,
            job_status: status,
            quarantine: quarantine.map(|q| q.reason.as_str().to_string()),
            staged_deletes: tally.staged_deletes,
            escrowed: tally.escrowed,
            next_escrow_due: tally.next_escrow_due,
            requests: tally.requests,
            source_unchanged: ran.source_unchanged,
        }
    }

    /// Whether the cycle ended clean: no failure of any kind, nothing escrowed or held back, the
    /// job active — what lets the next cycle over the same bytes skip reading them.
    pub(super) fn is_clean(&self, status: JobCode) -> bool {
        self.job_failure.is_none()
            && self.counts.failed == 0
            && self.staged_deletes == 0
            && self.escrowed == 0
            && status == JobCode::Active
    }
}

/// A report's time as Graph writes times (`cycle --json` prints the report).
fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::provlog::graph_time(t)
}
