//! Job control: `status` (Graph's job status, §11.2), `restart --scope …` (§1.4), `pause` and
//! `start`. Each reads and writes only the job's state directory, and reads of the job only its
//! file: a million-user directory is not loaded to show a status.
//!
//! None of them waits for a running cycle: `status` then shows the snapshot the state's last
//! writer left (and says so), and `pause`, `start` and `restart` write the job's state between
//! cycles — a `run` daemon reads it before each — or say which process holds it.

use crate::cli::{JobArgs, RestartArgs};
use crate::clock::{Clock, SystemClock};
use crate::config::JobSettings;
use crate::error::{AppError, argument};
use crate::output::outln;
use crate::policy::{self, ResetScope, StatusView};
use crate::store::{Store, Summary};

/// What the status shows beyond the job state.
pub(super) fn view(job: &JobSettings, summary: &Summary) -> StatusView {
    let settings = &job.settings;
    StatusView {
        job_id: job.app.job_id.clone(),
        synchronized_users: summary.counts.users,
        synchronized_groups: summary.counts.groups,
        escrow_count: summary.escrows.len(),
        next_cycle: policy::next_cycle(
            &summary.job_state,
            &settings.policy.schedule,
            SystemClock.now(),
        ),
        interval: settings.policy.schedule.interval,
        deletion_threshold: settings.deletion_threshold,
    }
}

/// The job's [`Summary`], saying on standard error when it is the snapshot of a state another
/// process holds.
pub(super) fn summary(job: &JobSettings) -> Result<Summary, AppError> {
    let summary = Store::summary_of(&job.settings.state_dir)?;
    if let Some(in_use) = &summary.in_use {
        eprintln!("note: {in_use}");
    }
    Ok(summary)
}

/// `entra-sim status`.
pub fn status(args: JobArgs) -> Result<i32, AppError> {
    let job = super::load_settings(&args.job)?;
    let summary = summary(&job)?;
    let state = &summary.job_state;
    let view = view(&job, &summary);
    if args.json {
        let json = policy::status_json(state, &view);
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
        return Ok(0);
    }
    outln!("job {}: {}", job.name, state.code)?;
    if let Some(q) = &state.quarantine {
        outln!(
            "quarantine: {} since {} (series began {}, {} re-evaluations); next attempt {}",
            q.reason.as_str(),
            stamp(q.current_began),
            stamp(q.series_began),
            q.series_count,
            stamp(q.next_attempt)
        )?;
        let message = crate::output::printable(q.error.message.clone());
        outln!("  {}: {message}", q.error.code)?;
    }
    if let Some(last) = &state.last_execution {
        // Graph counts references apart (countEscrowed leaves them out, countEscrowedRaw has
        // them): one number here, with how many of them are references.
        outln!(
            "last cycle {}: {:?}, {} exported, {} escrowed{}, {} → {}",
            last.activity_identifier,
            last.state,
            last.count_exported,
            last.count_escrowed_raw,
            references(last.count_escrowed_raw.saturating_sub(last.count_escrowed)),
            stamp(last.time_began),
            stamp(last.time_ended)
        )?;
    }
    let in_escrow = summary.escrows.len();
    match summary.escrows.iter().map(|e| e.next_retry).min() {
        Some(next) => outln!(
            "in escrow now: {in_escrow}{}, next retried in the first cycle from {}",
            references(summary.escrows.iter().filter(|e| e.reference).count() as u64),
            stamp(next)
        )?,
        None => outln!("in escrow now: none")?,
    }
    if state.escrows_pruned {
        outln!(
            "escrows were pruned during the initial cycle: fix the errors, then `entra-sim start`"
        )?;
    }
    match &state.steady_state_last_achieved_time {
        Some(t) => outln!("steady state last achieved {}", stamp(*t))?,
        None => outln!("steady state never achieved")?,
    }
    match view.next_cycle {
        Some(t) => outln!("next cycle {}", stamp(t))?,
        None => outln!("no cycle is scheduled")?,
    }
    Ok(0)
}

/// `entra-sim restart --scope …`.
pub fn restart(args: RestartArgs) -> Result<i32, AppError> {
    let scope =
        ResetScope::parse(args.scope.as_deref()).map_err(|e| argument("--scope")(e.into()))?;
    let job = super::load_settings(&args.job)?;
    let store = Store::open(&job.settings.state_dir)?;
    let (state, plan) = policy::restart(&store.job_state()?, &scope);
    store.forget_source_digest()?;
    if plan.clear_watermarks {
        store.clear_watermarks()?;
        store.set_mapping_fingerprint("")?;
    }
    if plan.clear_escrows {
        store.clear_escrows()?;
    }
    if plan.clear_connections {
        store.clear_anchors()?;
    } else if plan.clear_connector_data_store {
        for (key, mut anchor) in store.anchors()? {
            anchor.manager = None;
            anchor.members.clear();
            store.put_anchor(&key, &anchor)?;
        }
    }
    store.set_job_state(&state)?;
    store.commit()?;
    outln!(
        "job {} restarted ({}): {}",
        job.name,
        args.scope
            .as_deref()
            .unwrap_or("Watermark,Escrows,QuarantineState"),
        state.code
    )?;
    Ok(0)
}

/// `entra-sim pause` / `entra-sim start`.
pub fn set_running(args: JobArgs, running: bool) -> Result<i32, AppError> {
    let job = super::load_settings(&args.job)?;
    let store = Store::open(&job.settings.state_dir)?;
    let current = store.job_state()?;
    let state = if running {
        policy::start(&current)
    } else {
        policy::pause(&current)
    };
    store.set_job_state(&state)?;
    store.commit()?;
    outln!("job {}: {}", job.name, state.code)?;
    Ok(0)
}

/// ` (2 of them references)`, or nothing when there are none.
fn references(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} of them references)")
    }
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
