//! `entra-sim logs`: the job's provisioning logs, filtered by cycle and status, as lines, as Graph
//! `provisioningObjectSummary` JSON, or as the portal's three-file CSV download.

use std::path::{Path, PathBuf};

use crate::cli::{LogFormat, LogsArgs};
use crate::error::AppError;
use crate::output;
use crate::portal_csv;

/// The file `--format json --out DIR` writes.
const JSON_FILE: &str = "ProvisioningLogs.json";

pub fn run(args: LogsArgs) -> Result<i32, AppError> {
    let format = if args.json {
        Some(LogFormat::Json)
    } else {
        args.format
    };
    if format.is_none() && args.out.is_some() {
        return Err(AppError::Input(
            "--out: needs --format json or --format csv".to_owned(),
        ));
    }
    let loaded = super::load(&args.job)?;
    if let Some(status) = &args.status
        && !["success", "failure", "skipped", "warning"].contains(&status.as_str())
    {
        return Err(AppError::Input(format!(
            "--status: unknown status {status:?} (use success, failure, skipped or warning)"
        )));
    }
    let store = loaded.store()?;
    let logs: Vec<_> = store
        .logs()?
        .into_iter()
        .filter(|l| args.cycle.as_ref().is_none_or(|c| &l.cycle_id == c))
        .filter(|l| {
            args.status
                .as_ref()
                .is_none_or(|s| l.provisioning_status_info.status.as_str() == s)
        })
        .collect();
    match format {
        Some(LogFormat::Json) => {
            let text =
                serde_json::to_string_pretty(&logs).map_err(|e| AppError::Local(e.to_string()))?;
            match &args.out {
                None => println!("{text}"),
                Some(dir) => {
                    let path = write(dir, JSON_FILE, &(text + "\n"))?;
                    println!("{} records: {}", logs.len(), path.display());
                }
            }
        }
        Some(LogFormat::Csv) => {
            let dir = args.out.as_deref().unwrap_or(Path::new("."));
            let mut written = Vec::new();
            for (name, text) in portal_csv::export(&logs) {
                written.push(write(dir, name, &text)?.display().to_string());
            }
            println!("{} records: {}", logs.len(), written.join(", "));
        }
        None => {
            for log in &logs {
                println!(
                    "{} {} {}",
                    log.activity_date_time,
                    &log.cycle_id[..8.min(log.cycle_id.len())],
                    output::entry_line(log)
                );
            }
        }
    }
    Ok(0)
}

/// Writes `text` to `dir/name`, creating `dir`.
fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, AppError> {
    let local = |e: std::io::Error| AppError::Local(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(local)?;
    let path = dir.join(name);
    std::fs::write(&path, text)
        .map_err(|e| AppError::Local(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}
