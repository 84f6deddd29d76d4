//! `entra-sim report`: reads the job's state directory (logs, job state, escrows, the last
//! cycle) and writes the self-contained HTML page that `crate::report` renders.

use std::path::Path;

use rand::SeedableRng;

use crate::cli::ReportArgs;
use crate::clock::{Clock, SystemClock};
use crate::engine::{self, CycleReport};
use crate::error::AppError;
use crate::policy::{self, EscrowEntry};
use crate::report::{self, ReportInput};
use crate::store::Store;

pub fn run(args: ReportArgs) -> Result<i32, AppError> {
    let job = match &args.job {
        Some(path) => super::load_settings(path)?,
        None => super::cycle::sample_settings()?,
    };
    let store = Store::open(&job.settings.state_dir)?;
    let state = store.job_state()?;
    let view = super::job::view(&job.settings, &store, &state)?;
    let status = policy::status_json(&state, &view);
    let logs = store.logs()?;
    let escrows: Vec<EscrowEntry> = store.escrows()?.iter().cloned().collect();
    let last_cycle: Option<CycleReport> = store.meta("last_cycle")?;
    // A fresh nonce per page: the Content-Security-Policy runs only the script carrying it.
    let nonce = engine::guid(&mut rand::rngs::StdRng::from_os_rng()).replace('-', "");
    let page = report::render(&ReportInput {
        job_name: &job.name,
        generated: SystemClock.now(),
        status: &status,
        logs: &logs,
        escrows: &escrows,
        last_cycle: last_cycle.as_ref(),
        nonce: &nonce,
    });
    write(&args.out, &page)?;
    println!(
        "report of {} log entries ({} escrowed objects): {}",
        logs.len(),
        escrows.len(),
        args.out.display()
    );
    Ok(0)
}

fn write(path: &Path, text: &str) -> Result<(), AppError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::Local(format!("{}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| AppError::Local(format!("cannot write {}: {e}", path.display())))
}
