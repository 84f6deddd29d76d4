//! `entra-sim validate`: checks a job file and the directory and mapping files it names without
//! touching the network, and reports every problem of every file at once as
//! `file:line:column: field: message` (or as JSON), exit code 3 when there is any. Warnings (an
//! inline token, a reference naming no object — a deleted one) are printed and do not fail the
//! job, unless `--strict` makes them errors.

use std::path::Path;

use crate::cli::ValidateArgs;
use crate::config::{self, ConfigError, Job, JobCheck};
use crate::error::AppError;
use crate::output::outln;
use crate::plan::desired::CompiledMapping;
use crate::yaml::{Location, Problem, Problems};

pub fn run(args: ValidateArgs) -> Result<i32, AppError> {
    let mut check = check(&args.job)?;
    if args.strict {
        check.warnings_as_problems();
    }
    if args.json {
        print_json(&check)?;
    } else {
        for warning in &check.warnings {
            eprintln!("warning: {warning}");
        }
        if !check.problems.0.is_empty() {
            outln!("{}", check.problems)?;
        }
    }
    match (&check.loaded, check.problems.0.len()) {
        (Some((job, compiled)), 0) => {
            if !args.json {
                outln!("{}", valid_line(job, compiled))?;
            }
            Ok(0)
        }
        (_, count) => {
            if !args.json {
                eprintln!("{}", problem_count(&check.problems.0, count));
            }
            Ok(3)
        }
    }
}

/// Checks the job; a job file that cannot be read is one problem of that file.
fn check(path: &Path) -> Result<JobCheck, AppError> {
    match config::check_job(path) {
        Ok(check) => Ok(check),
        // The job file has no referrer to point at, so its own first position stands for it.
        Err(err @ ConfigError::Read { .. }) => Ok(JobCheck {
            loaded: None,
            problems: Problems(vec![Problem {
                file: path.display().to_string(),
                location: Location { line: 1, column: 1 },
                field: String::new(),
                message: err.to_string(),
            }]),
            warnings: Vec::new(),
            files: Vec::new(),
        }),
        Err(err) => Err(err.into()),
    }
}

/// Problems (`"severity": "error"`) then warnings, one JSON array on standard output.
fn print_json(check: &JobCheck) -> Result<(), AppError> {
    let entry = |p: &Problem, severity: &str| {
        serde_json::json!({
            "file": p.file,
            "line": p.location.line,
            "column": p.location.column,
            "field": p.field,
            "message": p.message,
            "severity": severity,
        })
    };
    let list: Vec<serde_json::Value> = check
        .problems
        .0
        .iter()
        .map(|p| entry(p, "error"))
        .chain(check.warnings.iter().map(|w| entry(w, "warning")))
        .collect();
    let text = serde_json::to_string_pretty(&list)?;
    outln!("{text}")?;
    Ok(())
}

/// What a valid job holds: its users, groups and attribute mappings.
fn valid_line(job: &Job, compiled: &CompiledMapping) -> String {
    let groups = compiled
        .groups
        .as_ref()
        .map(|g| format!(" and {} group", g.attributes.len()))
        .unwrap_or_default();
    format!(
        "{}: valid ({}: {} users, {} groups; {}: {} user{groups} attribute mappings)",
        job.file.display(),
        job.directory_path.display(),
        job.directory.users().len(),
        job.directory.groups().len(),
        job.mapping_path.display(),
        compiled.users.attributes.len(),
    )
}

/// `N problems in M files`.
fn problem_count(problems: &[Problem], count: usize) -> String {
    let files: std::collections::BTreeSet<&str> =
        problems.iter().map(|p| p.file.as_str()).collect();
    format!(
        "{count} problem{} in {} file{}",
        if count == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    )
}
