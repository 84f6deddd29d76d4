//! `entra-sim logs`: the job's provisioning logs, filtered by cycle and status, as lines or as Graph
//! `provisioningObjectSummary` JSON.

use crate::cli::LogsArgs;
use crate::error::AppError;
use crate::output;

pub fn run(args: LogsArgs) -> Result<i32, AppError> {
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
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&logs).map_err(|e| AppError::Local(e.to_string()))?
        );
    } else {
        for log in &logs {
            println!(
                "{} {} {}",
                log.activity_date_time,
                &log.cycle_id[..8.min(log.cycle_id.len())],
                output::entry_line(log)
            );
        }
    }
    Ok(0)
}
