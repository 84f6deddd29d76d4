//! What commands print for people: one line per provisioning-log entry and the cycle summary,
//! and `outln!`, the `println!` that returns a failed write (a closed pipe)
//! as an error instead of panicking.

use std::io::Write;

use crate::engine::{Counts, CycleReport};
use crate::error::AppError;
use crate::plan::{Reply, Request};
use crate::provlog::{LogEntry, ProvisioningAction, Status};

/// `println!` that returns `Result<(), AppError>`: a write to a closed standard output
/// (`entra-sim status | head -1`) is an [`AppError::Stdout`], which `main` takes as success.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes `line` and a newline to standard output (what `outln!` expands to).
pub fn write_line(line: std::fmt::Arguments<'_>) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").map_err(AppError::Stdout)
}

/// `create   success  User  adele@contoso.com  → 0a1b…` and the like.
pub fn entry_line(log: &LogEntry) -> String {
    let action = match log.provisioning_action {
        ProvisioningAction::Create => "create",
        ProvisioningAction::Update => "update",
        ProvisioningAction::Delete => "delete",
        ProvisioningAction::StagedDelete => "staged",
        ProvisioningAction::Disable => "disable",
        ProvisioningAction::Other => "other",
    };
    let detail = match (
        &log.provisioning_status_info.error_information,
        log.provisioning_status_info.status,
    ) {
        (Some(info), Status::Failure) => {
            format!("{}: {}", info.error_code, first_line(&info.reason))
        }
        (Some(info), _) => info.error_code.clone(),
        (None, _) if is_reference(log) => {
            let what: Vec<&str> = log
                .modified_properties
                .iter()
                .map(|p| p.display_name.rsplit(':').next().unwrap_or_default())
                .collect();
            format!("reference: {}", what.join(", "))
        }
        (None, _) if !log.target_identity.id.is_empty() => format!("id {}", log.target_identity.id),
        (None, _) => String::new(),
    };
    let mut line = format!(
        "{:<8} {:<8} {:<5} {:<45} {}",
        action,
        log.provisioning_status_info.status.as_str(),
        log.source_identity.identity_type,
        log.source_identity.display_name,
        detail
    )
    .trim_end()
    .to_string();
    for step in &log.provisioning_steps {
        if step.status == Status::Warning {
            line.push_str("\n  warning: ");
            line.push_str(first_line(&step.description));
        }
    }
    printable(line)
}

/// `text` with the control characters a server may put in its answers (a terminal escape, a
/// bell, NUL) replaced by U+FFFD, line breaks and tabs kept: what a server says reaches a
/// terminal, and the JSON, JUnit and HTML files, as text. Text without any comes back as it is,
/// not copied.
pub fn printable(text: String) -> String {
    let unprintable = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unprintable) {
        return text;
    }
    text.chars()
        .map(|c| if unprintable(c) { '\u{fffd}' } else { c })
        .collect()
}

fn is_reference(log: &LogEntry) -> bool {
    log.provisioning_steps
        .first()
        .is_some_and(|s| s.provisioning_step_type == crate::provlog::StepType::ReferenceResolution)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// A record's `activityDateTime` (Graph's seven fractional digits) to the second, as commands print
/// times for people (`2026-12-06T02:25:22Z`); text that is not a time, as it is.
pub fn whole_seconds(time: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Err(_) => time.to_string(),
    }
}

/// The summary of counts.
pub fn counts_line(counts: &Counts) -> String {
    format!(
        "{} created, {} updated, {} disabled, {} deleted, {} skipped, {} failed",
        counts.created,
        counts.updated,
        counts.disabled,
        counts.deleted,
        counts.skipped,
        counts.failed
    )
}

/// The closing lines of a cycle.
pub fn cycle_summary(report: &CycleReport) -> String {
    let kind = match report.kind {
        crate::plan::CycleKind::Initial => "initial",
        crate::plan::CycleKind::Incremental => "incremental",
    };
    let mut out = format!(
        "{kind} cycle {}: {}",
        report.cycle_id,
        counts_line(&report.counts)
    );
    if report.source_unchanged {
        out.push_str(
            "\nthe source is byte for byte that of the last clean cycle: no object compared, nothing sent",
        );
    } else if report.counts == Counts::default() && report.job_failure.is_none() {
        out.push_str("\nnothing changed since the last cycle");
        if let Some(due) = &report.next_escrow_due {
            let (n, s) = match report.escrowed {
                1 => (1, " waits"),
                n => (n, "s wait"),
            };
            out.push_str(&format!(
                "; {n} object{s} in escrow, the first due for a retry at {} (a cycle from then on retries it)",
                whole_seconds(due)
            ));
        }
    }
    if let Some(reason) = &report.job_failure {
        out.push_str(&format!("\njob failed: {reason}"));
    }
    out
}

/// `  GET /Users?filter=… → 200`, for --verbose.
pub fn exchange_line(request: &Request, reply: &Reply) -> String {
    let answer = match reply {
        Reply::Http { status, .. } => status.to_string(),
        Reply::Transport { timeout: true, .. } => "timeout".to_string(),
        Reply::Transport { message, .. } => format!("transport error: {message}"),
        Reply::NoToken { message } => format!("not sent: {message}"),
    };
    let mut line = format!(
        "    {} {} → {answer}",
        request.method.as_str(),
        request.path
    );
    if let Some(body) = &request.body {
        line.push_str(&format!("\n      {body}"));
    }
    printable(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A failed create whose server put a terminal escape, a bell and NUL into its answer, and
    /// into the id it returned: the printed line carries none of them.
    #[test]
    fn a_servers_control_characters_never_reach_the_terminal() {
        let system = json!({"id": "", "displayName": "", "details": {}});
        let identity = |id: &str| json!({"identityType": "User", "id": id, "displayName": "alice", "details": {}});
        let log: LogEntry = serde_json::from_value(json!({
            "id": "e", "activityDateTime": "2026-03-01T08:00:00Z", "jobId": "j", "cycleId": "c",
            "changeId": "x", "provisioningAction": "create", "durationInMilliseconds": 1,
            "initiatedBy": {"initiatingType": "system", "id": "", "displayName": ""},
            "sourceSystem": system, "targetSystem": system,
            "sourceIdentity": identity("s1"), "targetIdentity": identity("t\u{1b}[2J"),
            "provisioningStatusInfo": {"status": "failure", "errorInformation": {
                "errorCode": "SystemForCrossDomainIdentityManagementServiceIncompatible",
                "reason": "Web Response: \u{1b}]0;owned\u{7} \u{0}",
                "additionalDetails": null, "errorCategory": "NonServiceFailure",
                "recommendedAction": null,
            }},
            "modifiedProperties": [], "provisioningSteps": [],
        }))
        .unwrap();
        let line = entry_line(&log);
        assert!(
            line.contains("Web Response: \u{fffd}]0;owned\u{fffd} \u{fffd}"),
            "{line:?}"
        );
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        let request = Request {
            method: crate::plan::Method::Get,
            path: "/Users/t\u{1b}[2J".into(),
            body: None,
        };
        let reply = Reply::Transport {
            timeout: false,
            connect: false,
            message: "reset \u{1b}[31m".into(),
        };
        let line = exchange_line(&request, &reply);
        assert!(!line.contains('\u{1b}'), "{line:?}");
    }

    #[test]
    fn record_times_are_printed_to_the_second() {
        assert_eq!(
            whole_seconds("2026-12-06T02:25:22.5829546Z"),
            "2026-12-06T02:25:22Z"
        );
        assert_eq!(
            whole_seconds("2026-12-06T03:25:22.9+01:00"),
            "2026-12-06T02:25:22Z"
        );
        assert_eq!(whole_seconds("not a time"), "not a time");
    }
}
