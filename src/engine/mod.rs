//! Runs one provisioning cycle (spec §1.2–§1.3) as a short list of stages, each in its own file:
//! whether the job may run and the cycle is initial or incremental (here); the connections it
//! reads and the work it classifies and holds back (`classify`); the phases — users, groups,
//! references, deprovisioning, staged — driven with bounded concurrency, each outcome persisted
//! as it arrives (`drive`, `prepare`); then the watermarks advanced, the job's state settled
//! and the next source index written (`settle`). Whether a cycle needs to read the tenant at
//! all is decided before, by [`start`] (`source`); what it did is a [`CycleReport`].

mod classify;
mod drive;
mod error;
mod prepare;
mod report;
mod settle;
mod source;

use std::collections::HashMap;
use std::sync::Arc;

use rand::RngCore;

use crate::clock::Clock;
use crate::config::Job;
use crate::plan::desired::{self, CompiledMapping, Sources};
use crate::plan::{
    Anchors, CycleKind, EntryContext, EntryOutcome, ObjectKey, SourceObject, StateChange,
};
use crate::policy::{JobCode, JobState};
use crate::provlog::LogEntry;
use crate::runner::{Observer, Transport};
use crate::scim::{CreateSettings, PrimaryType, ScimMode};
use crate::store::Store;

pub use error::CycleError;
pub use report::{Counts, CycleReport};
pub use source::{Files, Start, start, unchanged_cycle};

use drive::Cycle;
use report::Ran;

/// Everything a cycle needs.
pub struct CycleEnv<'a> {
    /// The validated job.
    pub job: &'a Job,
    /// Its compiled mapping.
    pub compiled: &'a CompiledMapping,
    /// Its state.
    pub store: &'a Store,
    /// Where requests go: the HTTP client for the Tenant URL, or a planning transport.
    pub client: &'a dyn Transport,
    /// Default or `aadOptscim062020`.
    pub mode: ScimMode,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// Plan only: the transport answers writes itself and nothing is persisted.
    pub dry_run: bool,
}

pub use crate::expr::guid;

/// What every entry of a job's cycle shares, from the job's settings.
pub fn entry_context(
    job: &Job,
    mode: ScimMode,
    cycle_id: &str,
    change_id: String,
    now: chrono::DateTime<chrono::Utc>,
) -> EntryContext {
    let settings = &job.settings;
    EntryContext {
        job_id: job.app.job_id.as_str().into(),
        cycle_id: cycle_id.into(),
        change_id,
        now,
        mode,
        target_name: job.app.display_name.as_str().into(),
        app: Arc::new(job.app.clone()),
        delete_not_found_is_success: settings.delete_not_found_is_success,
        member_batch_size: settings.member_batch_size as usize,
        create_settings: Arc::new(CreateSettings {
            primary_types: settings
                .primary_email_types
                .iter()
                .map(|t| PrimaryType {
                    attr: "emails".into(),
                    type_value: t.clone(),
                })
                .collect(),
            empty_roles: settings.send_empty_roles,
        }),
    }
}

/// Applies an entry's connection changes to an in-memory anchor map (after the store has them);
/// they are taken out of the outcome (a large group's anchor is not copied).
pub fn apply_changes(anchors: &mut Anchors, outcome: &mut EntryOutcome) {
    for change in outcome.changes.drain(..) {
        match change {
            StateChange::PutAnchor(k, a) => {
                anchors.insert(k, a);
            }
            StateChange::RemoveAnchor(k) => {
                anchors.remove(&k);
            }
            StateChange::Known(..) => {}
        }
    }
}

/// Sees every finished entry (the CLI prints a line for each).
pub trait EntrySink: Observer {
    /// Called once per finished entry that produced a log record.
    fn entry(&mut self, log: &LogEntry);

    /// Whether [`Observer::exchange`] should be called (keeping every reply costs memory).
    fn wants_exchanges(&self) -> bool {
        false
    }

    /// Called when a phase (`users`, `groups`, `references`, `deprovisioning`, `staged`) starts,
    /// with how many objects it has to process; the CLI shows progress.
    fn planned(&mut self, _phase: &'static str, _total: usize) {}

    /// Called when one object of the current phase is processed, whether or not it produced a log
    /// record.
    fn processed(&mut self) {}
}

/// Runs one cycle that reads the tenant (whether one is needed at all is [`start`]'s question,
/// asked before).
pub async fn run_cycle(
    env: &CycleEnv<'_>,
    rng: &mut dyn RngCore,
    sink: &mut dyn EntrySink,
) -> Result<CycleReport, CycleError> {
    let began = env.clock.now();
    let state = job_may_run(env, began)?;
    let kind = cycle_kind(env)?;
    let sources = Sources {
        directory: &env.job.directory,
        assignments: env.job.assignment_index(),
        scope: env.job.scope,
    };
    // Objects are only glanced at here (identity, scope, fingerprint); the ones with work get
    // their log steps and mapped state as their flows start, so an incremental cycle over a large
    // tenant costs what its changes cost and an initial one holds them only while in flight.
    let objects = desired::source_objects(env.compiled, &sources);
    crate::stage!("source objects glanced at");
    let connections = classify::read_connections(env, kind, &objects)?;
    crate::stage!("anchors and watermarks read");
    let escrows = env.store.escrows()?;
    let work = classify::classify(env, kind, &objects, &connections, &escrows, &state, began);
    let by_key: HashMap<ObjectKey, &SourceObject> =
        objects.iter().map(|o| (o.key.clone(), o)).collect();
    let mut cycle = Cycle::new(
        env,
        &sources,
        began,
        rng,
        sink,
        connections.anchors,
        escrows,
    );
    cycle.drive(&work, &by_key).await?;
    let ran = Ran {
        cycle_id: cycle.cycle_id.clone(),
        kind,
        began,
        ended: env.clock.now(),
        source_unchanged: false,
    };
    let tally = cycle.tally(work.staged.len());
    if env.dry_run {
        return Ok(CycleReport::new(ran, tally, state.code, None));
    }
    settle::advance_watermarks(&cycle, &work, &by_key)?;
    let next = settle::job_state(&mut cycle, &ran, &objects, &work, &state)?;
    let tally = cycle.tally(work.staged.len());
    let report = CycleReport::new(ran, tally, next.code, next.quarantine.as_ref());
    settle::write_next_index(env, &cycle.anchors, &report, &next)?;
    Ok(report)
}

/// The job's state, when it may run a cycle: not paused, not disabled. A cycle that persists
/// starts by forgetting the source's fingerprint (until it ends clean, the next one reads the
/// whole source again) and dropping log records past their retention.
fn job_may_run(
    env: &CycleEnv<'_>,
    began: chrono::DateTime<chrono::Utc>,
) -> Result<JobState, CycleError> {
    let state = env.store.job_state()?;
    match state.code {
        JobCode::Disabled => return Err(CycleError::JobDisabled),
        JobCode::Paused => return Err(CycleError::JobPaused),
        _ => {}
    }
    if !env.dry_run {
        env.store.forget_source_digest()?;
        source::prune_logs(env.store, env.job.settings.log_retention_days, began)?;
    }
    Ok(state)
}

/// Initial when the mapping changed since the last cycle (or there was none), else incremental.
fn cycle_kind(env: &CycleEnv<'_>) -> Result<CycleKind, CycleError> {
    let previous = env.store.mapping_fingerprint()?;
    Ok(
        if previous.as_deref() == Some(env.compiled.fingerprint.as_str()) {
            CycleKind::Incremental
        } else {
            CycleKind::Initial
        },
    )
}
