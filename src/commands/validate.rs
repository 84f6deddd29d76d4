//! `entra-sim validate`: checks a job file and the directory and mapping files it names without
//! touching the network, and reports every problem of every file at once as
//! `file:line:column: field: message` (or as JSON), exit code 3 when there is any. Warnings (an
//! inline token, a reference naming no object — a deleted one) are printed and do not fail the
//! job, unless `--strict` makes them errors.

use crate::cli::ValidateArgs;
use crate::config::{self, ConfigError, JobCheck};
use crate::error::AppError;
use crate::output::outln;
use crate::yaml::{Location, Problem, Problems};

pub fn run(args: ValidateArgs) -> Result<i32, AppError> {
    let mut check = match config::check_job(&args.job) {
        Ok(check) => check,
        // The job file has no referrer to point at, so its own first position stands for it.
        Err(err @ ConfigError::Read { .. }) => JobCheck {
            loaded: None,
            problems: Problems(vec![Problem {
                file: args.job.display().to_string(),
                location: Location { line: 1, column: 1 },
                field: String::new(),
                message: err.to_string(),
            }]),
            warnings: Vec::new(),
            files: Vec::new(),
        },
        Err(err) => return Err(err.into()),
    };
    if args.strict {
        check.warnings_as_problems();
    }
    let problems = &check.problems.0;
    if args.json {
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
        let list: Vec<serde_json::Value> = problems
            .iter()
            .map(|p| entry(p, "error"))
            .chain(check.warnings.iter().map(|w| entry(w, "warning")))
            .collect();
        let text = serde_json::to_string_pretty(&list)?;
        outln!("{text}")?;
    } else {
        for warning in &check.warnings {
            eprintln!("warning: {warning}");
        }
        if !problems.is_empty() {
            outln!("{}", check.problems)?;
        }
    }
    match (&check.loaded, problems.len()) {
        (Some((job, compiled)), 0) => {
            if !args.json {
                let groups = compiled
                    .groups
                    .as_ref()
                    .map(|g| format!(" and {} group", g.attributes.len()))
                    .unwrap_or_default();
                outln!(
                    "{}: valid ({}: {} users, {} groups; {}: {} user{groups} attribute mappings)",
                    job.file.display(),
                    job.directory_path.display(),
                    job.directory.users().len(),
                    job.directory.groups().len(),
                    job.mapping_path.display(),
                    compiled.users.attributes.len(),
                )?;
            }
            Ok(0)
        }
        (_, count) => {
            if !args.json {
                let files: std::collections::BTreeSet<&str> =
                    problems.iter().map(|p| p.file.as_str()).collect();
                eprintln!(
                    "{count} problem{} in {} file{}",
                    if count == 1 { "" } else { "s" },
                    files.len(),
                    if files.len() == 1 { "" } else { "s" }
                );
            }
            Ok(3)
        }
    }
}
