//! Whether a cycle needs to read the tenant at all, decided in one place ([`start`]) for `cycle`,
//! `run` and the tests: a source that has not changed by a byte since the last clean cycle is
//! recorded as a cycle without reading it ([`unchanged_cycle`]); otherwise the answer says whether
//! the job in memory still is the job's files, or with which source index to load them again.

use rand::RngCore;

use super::report::{Ran, Tally};
use super::{CycleReport, guid};
use crate::clock::Clock;
use crate::config::{Job, JobSources};
use crate::directory::LineIndex;
use crate::plan::CycleKind;
use crate::policy::{CycleCounts, CycleResult, JobCode, after_cycle};
use crate::store::{IndexFile, Store, StoreError};

/// The job's files, as a cycle about to start knows them.
pub enum Files<'a> {
    /// Read and fingerprinted just now ([`crate::config::job_sources`]; `None` when they could
    /// not be, or the job file holds an inline token), with the job loaded from them before, if
    /// one is in memory.
    Read {
        /// The files as they are now.
        now: Option<&'a JobSources>,
        /// The job in memory, loaded from the files as they were.
        loaded: Option<&'a Job>,
    },
    /// Not read again: the job was loaded from them just before.
    Loaded(&'a Job),
}

/// How a cycle starts.
#[derive(Debug)]
pub enum Start {
    /// The source has not changed since the last clean cycle: this cycle is recorded, without
    /// reading the tenant.
    Unchanged(Box<CycleReport>),
    /// A full cycle with the job in memory: it still is what the files hold.
    Keep,
    /// A full cycle with the job loaded again: a JSON-lines directory read by line-level deltas
    /// against this index (the last clean cycle's), or every line without one.
    Load(Option<LineIndex>),
}

/// Decides how the next cycle over the job's state `store` (`None`: it has none yet) starts,
/// from the job's `files`. `index` gives the source index read beside the state and the file it
/// came from: it is used only if the state still holds that file (another cycle may have
/// replaced it meanwhile), and asked for only when the job is loaded again. `retention_days` is
/// asked for only when the state holds a fingerprint at all: `cycle` checks the job's token
/// source there, as a cycle that reads the tenant does.
pub fn start<E: From<StoreError>>(
    store: Option<&Store>,
    files: Files<'_>,
    index: impl FnOnce() -> Option<(LineIndex, IndexFile)>,
    retention_days: impl FnOnce() -> Result<u32, E>,
    clock: &dyn Clock,
    rng: &mut dyn RngCore,
) -> Result<Start, E> {
    let digest = match &files {
        Files::Read { now, .. } => now.map(|sources| sources.digest.as_str()),
        Files::Loaded(job) => job.source_digest.as_deref(),
    };
    if let (Some(store), Some(digest)) = (store, digest)
        && store.source_digest()?.is_some()
    {
        let retention = retention_days()?;
        if let Some(report) = unchanged_cycle(store, digest, retention, clock, rng)? {
            return Ok(Start::Unchanged(Box::new(report)));
        }
    }
    let Files::Read { now, loaded } = files else {
        return Ok(Start::Keep);
    };
    if let (Some(job), Some(now)) = (loaded, now)
        && job.source_digest.as_ref() == Some(&now.digest)
        && !job.directory.is_partial()
    {
        return Ok(Start::Keep);
    }
    let index = store.and_then(|store| {
        index()
            .filter(|(_, which)| store.holds_source_index(*which))
            .map(|(index, _)| index)
    });
    Ok(Start::Load(index))
}

/// The cycle over a source that has not changed by a byte since the last clean cycle, when the
/// job is healthy and nothing waits in escrow: every object's watermark already matches, so a
/// full cycle would send nothing and log nothing. This records that cycle — the job's execution
/// and steady state as a full one would — without reading the tenant (Entra's incremental
/// cycle when the delta query returns no change). `None` when a full cycle is needed.
pub fn unchanged_cycle(
    store: &Store,
    digest: &str,
    log_retention_days: u32,
    clock: &dyn Clock,
    rng: &mut dyn RngCore,
) -> Result<Option<CycleReport>, StoreError> {
    if store.source_digest()?.as_deref() != Some(digest) {
        return Ok(None);
    }
    let state = store.job_state()?;
    if state.code != JobCode::Active
        || state.quarantine.is_some()
        || state.force_deletes
        || !store.escrows()?.is_empty()
    {
        return Ok(None);
    }
    let began = clock.now();
    prune_logs(store, log_retention_days, began)?;
    let cycle_id = guid(rng);
    let result = CycleResult {
        cycle_id: cycle_id.clone(),
        began,
        is_initial: false,
        job_failure: None,
        counts: CycleCounts::default(),
        staged_deletes: 0,
        escrows_pruned: false,
    };
    // Nothing counted and no quarantine: the thresholds and the back-off schedule play no part.
    let policy = crate::policy::PolicySettings::default();
    let now = clock.now();
    let (next_state, _) = after_cycle(&state, &result, &policy.thresholds, &policy.schedule, now);
    store.set_job_state(&next_state)?;
    let ran = Ran {
        cycle_id,
        kind: CycleKind::Incremental,
        began,
        ended: now,
        source_unchanged: true,
    };
    let report = CycleReport::new(ran, Tally::default(), next_state.code, None);
    store.set_last_cycle(&report)?;
    store.commit()?;
    Ok(Some(report))
}

/// Entra keeps provisioning logs for a retention period (spec §11.1): every cycle, whether it
/// reads the tenant or not, drops the records past it (the check reads one line; a rewrite
/// happens about daily).
pub(super) fn prune_logs(
    store: &Store,
    retention_days: u32,
    began: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let retention = chrono::Duration::days(i64::from(retention_days));
    store.prune_logs(began - retention, chrono::Duration::days(1))?;
    Ok(())
}
