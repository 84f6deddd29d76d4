//! After the phases: each object's watermark advanced or taken back, the cycle's result fed to
//! the job's state machine (§8), and the source index the next cycle reads line-level deltas
//! by, written once the cycle's state is durable.

use std::collections::{BTreeSet, HashMap};

use super::classify::{Worklist, member_ref};
use super::drive::Cycle;
use super::report::Ran;
use super::{CycleEnv, CycleError, CycleReport};
use crate::directory::index::assignment_digest;
use crate::plan::{Anchors, CycleKind, ObjectKey, SourceObject};
use crate::policy::{
    CycleCounts, CycleResult, ImportCounts, JobFailure as PolicyJobFailure, JobState, after_cycle,
    escrow_threshold,
};

/// Advances the watermark of every object whose entries all succeeded; a failed, staged or
/// escrowed object loses its watermark so that a later cycle retries it even when it does not
/// change again; an object whose escrow expired is given up on until it changes. A cycle a
/// job-level failure stopped advances nothing.
pub(super) fn advance_watermarks(
    cycle: &Cycle<'_, '_>,
    work: &Worklist,
    objects: &HashMap<ObjectKey, &SourceObject>,
) -> Result<(), CycleError> {
    if cycle.job_failure.is_some() {
        return Ok(());
    }
    let store = cycle.env.store;
    let staged: BTreeSet<&ObjectKey> = work.staged.iter().map(super::classify::work_key).collect();
    // In key order: sled takes a run of neighbouring keys far faster than scattered ones.
    let mut keys: Vec<&ObjectKey> = work.keys().collect();
    keys.sort();
    for key in keys {
        if (cycle.failed.contains(key) && !cycle.expired.contains(key)) || staged.contains(key) {
            store.remove_watermark(key)?;
            continue;
        }
        match objects.get(key) {
            Some(obj) => store.set_watermark(key, &obj.fingerprint)?,
            None => store.remove_watermark(key)?,
        }
    }
    store.set_mapping_fingerprint(&cycle.env.compiled.fingerprint)?;
    Ok(())
}

/// Feeds the cycle's result to the job's state machine and stores the state it moves to. An
/// escrow threshold during an initial cycle prunes the escrows instead of quarantining (§8);
/// expired escrows are dropped.
pub(super) fn job_state(
    cycle: &mut Cycle<'_, '_>,
    ran: &Ran,
    objects: &[SourceObject],
    work: &Worklist,
    state: &JobState,
) -> Result<JobState, CycleError> {
    let store = cycle.env.store;
    let policy = &cycle.env.job.settings.policy;
    let counts = cycle_counts(cycle, objects, work);
    let mut escrows_pruned = false;
    if ran.kind == CycleKind::Initial
        && cycle.job_failure.is_none()
        && escrow_threshold(&counts, &policy.thresholds).is_some()
    {
        cycle.escrows.clear();
        store.clear_escrows()?;
        escrows_pruned = true;
    }
    for expired in cycle.escrows.prune_expired(&policy.escrow, ran.ended) {
        store.remove_escrow(&expired.object)?;
    }
    let result = CycleResult {
        cycle_id: ran.cycle_id.clone(),
        began: ran.began,
        is_initial: ran.kind == CycleKind::Initial,
        job_failure: cycle
            .job_failure
            .as_ref()
            .map(|f| PolicyJobFailure::quarantine_exception(f.code.as_str(), &f.reason)),
        counts,
        staged_deletes: u32::try_from(work.staged.len()).unwrap_or(u32::MAX),
        escrows_pruned,
    };
    let (next, _decision) = after_cycle(
        state,
        &result,
        &policy.thresholds,
        &policy.schedule,
        ran.ended,
    );
    store.set_job_state(&next)?;
    Ok(next)
}

/// The counters of Graph's task execution for this cycle.
fn cycle_counts(cycle: &Cycle<'_, '_>, objects: &[SourceObject], work: &Worklist) -> CycleCounts {
    let (failures, reference_failures) = cycle.escrows.threshold_counts();
    let c = &cycle.counts;
    CycleCounts {
        successes: cycle.successes,
        failures,
        reference_failures,
        imports: ImportCounts {
            count_entitled: objects
                .iter()
                .filter(|o| {
                    o.out_of_scope_reason
                        != Some(crate::provlog::SkipReason::NotEffectivelyEntitled)
                })
                .count() as u64,
            count_entitled_for_provisioning: objects.iter().filter(|o| o.in_scope).count() as u64,
            count_exports: (c.created + c.updated + c.disabled + c.deleted + c.failed) as u64,
            count_imported: objects.len() as u64,
            count_imported_deltas: work.len() as u64,
            count_imported_reference_deltas: cycle.reference_entries,
        },
    }
}

/// Stores the report; after a clean cycle, the source's fingerprint (the next cycle over the
/// same bytes need not read them) and the index for the next cycle's line-level deltas (the
/// connections still held for objects the source no longer has are its orphans). The index is
/// written while the writer makes the cycle's state durable, and put in place only once
/// everything it vouches for is.
pub(super) fn write_next_index(
    env: &CycleEnv<'_>,
    anchors: &Anchors,
    report: &CycleReport,
    next: &JobState,
) -> Result<(), CycleError> {
    let store = env.store;
    store.set_last_cycle(report)?;
    let clean = report.is_clean(next.code);
    if clean && let Some(digest) = &env.job.source_digest {
        store.set_source_digest(digest)?;
    }
    let directory = &env.job.directory;
    let index = store.commit_while(|| {
        if !(clean && env.job.settings.line_deltas && directory.has_lines()) {
            return Ok(None);
        }
        let mut orphans: Vec<_> = anchors
            .keys()
            .map(member_ref)
            .filter(|r| !directory.contains(r))
            .collect();
        orphans.sort();
        let assignments = env.job.assignment_index();
        let digest = |id: &str| assignment_digest(assignments.user_parts(id, env.job.scope));
        let target = |id: &str| {
            anchors
                .get(&ObjectKey::user(id))
                .map(|a| a.target_id.as_str())
        };
        store
            .write_source_index(|out| {
                directory.write_source_index(
                    &env.compiled.fingerprint,
                    digest,
                    target,
                    &orphans,
                    out,
                )
            })
            .map(Some)
    })??;
    crate::stage!("state durable");
    if let Some(index) = index {
        store.keep_source_index(index)?;
        crate::stage!("source index written");
    }
    Ok(())
}
