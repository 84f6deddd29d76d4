//! `entra-sim report`: reads the job's state directory (logs, job state, escrows, the last
//! cycle) and writes the self-contained HTML page that `crate::report` renders.

use std::collections::BTreeMap;
use std::path::Path;

use rand::SeedableRng;

use crate::cli::ReportArgs;
use crate::clock::{Clock, SystemClock};
use crate::engine::{self, CycleReport};
use crate::error::AppError;
use crate::output::outln;
use crate::policy::{self, EscrowEntry};
use crate::report::{self, ReportInput};
use crate::store::Store;

pub fn run(args: ReportArgs) -> Result<i32, AppError> {
    let job = match &args.job {
        Some(path) => super::load_settings(path)?,
        None => super::cycle::sample_settings()?,
    };
    // The job's state, or while a cycle holds it the snapshot its last writer left; the log is
    // a plain file, read either way.
    let state = super::job::summary(&job)?;
    let view = super::job::view(&job, &state);
    let status = policy::status_json(&state.job_state, &view);
    let state_dir = &job.settings.state_dir;
    // Two passes over the logs, which may be gigabytes: one summarizes them, the other keeps the
    // few entries the drill-down shows.
    let mut summarizer = report::Summarizer::default();
    Store::for_each_log_in(
        state_dir,
        |_| true,
        |_, log| {
            summarizer.add(&log);
            Ok::<(), AppError>(())
        },
    )?;
    let summary = summarizer.finish();
    let wanted = summary.drill_entries();
    let mut shown = BTreeMap::new();
    Store::for_each_log_in(
        state_dir,
        |i| wanted.contains(&i),
        |i, log| {
            shown.insert(i, log);
            Ok::<(), AppError>(())
        },
    )?;
    let escrows: Vec<EscrowEntry> = state.escrows.iter().cloned().collect();
    let last_cycle: Option<CycleReport> = state.last_cycle();
    // A fresh nonce per page: the Content-Security-Policy runs only the script carrying it.
    let nonce = engine::guid(&mut rand::rngs::StdRng::from_os_rng()).replace('-', "");
    let input = ReportInput {
        job_name: &job.name,
        generated: SystemClock.now(),
        status: &status,
        code: policy::graph_status(&state.job_state).0,
        escrows: &escrows,
        last_cycle: last_cycle.as_ref(),
        nonce: &nonce,
    };
    let page = report::render_summary(&input, &summary, &shown);
    // Beside the state by default: not a stray file in whatever directory the command ran from.
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| state_dir.join("report.html"));
    write(&out, &page)?;
    outln!(
        "report of {} log entries ({} escrowed objects): {}",
        summary.entries,
        escrows.len(),
        out.display()
    )?;
    Ok(0)
}

fn write(path: &Path, text: &str) -> Result<(), AppError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| AppError::Write {
        path: path.to_path_buf(),
        source,
    })
}
