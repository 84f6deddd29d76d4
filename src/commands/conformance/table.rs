//! The terminal output of `conformance`: one row per test — with both modes, the two verdicts
//! side by side — each failure's details, its last request and answer (with `-v`, every request
//! instead), Entra's reading and fix under its row, then the dialect the server needs and the
//! summary, last.

use crate::error::AppError;
use crate::output::outln;
use crate::scim::ScimMode;

use super::hints::CLEAN_UP;
use super::suite::{self, Category, Overall, TESTS, TestRecord, TestResult};

/// How to print.
pub struct Table<'a> {
    /// The modes that ran, in order: one verdict column each when there are several.
    pub modes: &'a [ScimMode],
    /// Colour the verdicts (a terminal, no `NO_COLOR`).
    pub colour: bool,
    /// Every request under its test.
    pub verbose: bool,
}

/// Where the lines under a row start.
const INDENT: &str = "         ";

impl Table<'_> {
    /// The rows, the dialect line when both modes ran, and the summary.
    pub fn print(
        &self,
        records: &[TestRecord],
        dialect: Option<&str>,
        overall: Overall,
    ) -> Result<(), AppError> {
        if self.modes.len() > 1 {
            self.side_by_side(records)?;
        } else {
            for r in records {
                self.row(r)?;
                self.under(r, "")?;
            }
        }
        if let Some(dialect) = dialect {
            outln!("{dialect}")?;
        }
        outln!("{}", summary_line(records, overall))?;
        Ok(())
    }

    /// One mode: the verdict first, then the test, its mode, category and time.
    fn row(&self, r: &TestRecord) -> Result<(), AppError> {
        outln!(
            "{}  {:<width$}  {:<16}  {:<9}  {} ms",
            verdict_cell(r.test_result, self.colour),
            r.test_name,
            r.mode,
            category(r.category),
            r.duration_ms,
            width = name_width(),
        )?;
        Ok(())
    }

    /// Several modes: a header naming them, then per test its verdict in each, side by side, and
    /// under it what each mode's failure says, marked with the mode.
    fn side_by_side(&self, records: &[TestRecord]) -> Result<(), AppError> {
        let width = name_width();
        let mut header = format!("{:<width$}  {:<9}", "Test", "Category");
        for &mode in self.modes {
            header.push_str(&format!("  {:<16}", suite::mode_name(mode)));
        }
        outln!("{}", header.trim_end())?;
        for test in TESTS {
            let runs: Vec<&TestRecord> = records
                .iter()
                .filter(|r| r.test_name == test.name)
                .collect();
            let Some(first) = runs.first() else {
                continue;
            };
            let mut line = format!("{:<width$}  {:<9}", test.name, category(first.category));
            for r in &runs {
                let time = format!("{} ms", r.duration_ms);
                line.push_str(&format!(
                    "  {} {time:>8}",
                    verdict_cell(r.test_result, self.colour)
                ));
            }
            outln!("{line}")?;
            for r in &runs {
                self.under(r, &format!("[{}] ", r.mode))?;
            }
        }
        Ok(())
    }

    /// What a record says under its row: its requests with their step (verbose), details, Entra's reading, the
    /// fix and what it left on the server, each line after `mark`.
    fn under(&self, r: &TestRecord, mark: &str) -> Result<(), AppError> {
        if self.verbose {
            for q in &r.requests {
                let status = q.status.map_or("no answer".into(), |s| s.to_string());
                let (method, path, step) = (q.method.as_str(), &q.path, &q.step);
                outln!("{INDENT}{mark}{method} {path} → {status}  ({step})")?;
            }
        }
        if !r.details.is_empty() {
            outln!("{INDENT}{mark}{}", r.details)?;
        }
        if !self.verbose && matches!(r.test_result, TestResult::Failed | TestResult::Warning) {
            last_exchange(r, mark)?;
        }
        if let Some(entra) = &r.entra {
            outln!("{INDENT}{mark}{entra}")?;
        }
        if let Some(hint) = &r.hint {
            outln!("{INDENT}{mark}fix: {hint}")?;
        }
        for path in &r.left_behind {
            outln!("{INDENT}{mark}left on the server: {path}")?;
        }
        Ok(())
    }
}

/// The longest request or response body a failure shows on the terminal (the JSON, JUnit and
/// HTML outputs keep more).
const BODY_SHOWN: usize = 300;

/// A failed test's last request before its cleanup, as sent and as answered, bodies cut.
fn last_exchange(r: &TestRecord, mark: &str) -> Result<(), AppError> {
    let Some(q) = r.requests.iter().rev().find(|q| q.step != CLEAN_UP) else {
        return Ok(());
    };
    let mut sent = format!("sent: {} {}", q.method.as_str(), q.path);
    if let Some(body) = &q.body {
        sent.push(' ');
        sent.push_str(&body.to_string());
    }
    suite::cut(&mut sent, BODY_SHOWN);
    outln!("{INDENT}{mark}{sent}")?;
    let mut answered = match q.status {
        Some(status) => format!("answered {status}: {}", q.response),
        None => format!("no answer: {}", q.response),
    };
    suite::cut(&mut answered, BODY_SHOWN);
    outln!("{INDENT}{mark}{}", answered.replace('\n', " "))?;
    Ok(())
}

/// The width of the test-name column.
fn name_width() -> usize {
    TESTS.iter().map(|t| t.name.len()).max().unwrap_or(0)
}

fn category(category: Category) -> &'static str {
    match category {
        Category::Mandatory => "mandatory",
        Category::Optional => "optional",
    }
}

/// The verdict padded to its column, in colour on a terminal.
fn verdict_cell(result: TestResult, colour: bool) -> String {
    let cell = format!("{:<7}", result.as_str());
    let code = match result {
        TestResult::Passed => "32",
        TestResult::Failed => "31",
        TestResult::Warning => "33",
        TestResult::Skipped => "2",
    };
    if colour {
        format!("\x1b[{code}m{cell}\x1b[0m")
    } else {
        cell
    }
}

/// `3 passed, 1 failed, 0 warnings, 1 skipped: Failed`, the last line of every output.
pub fn summary_line(records: &[TestRecord], overall: Overall) -> String {
    let count = |result: TestResult| records.iter().filter(|r| r.test_result == result).count();
    format!(
        "{} passed, {} failed, {} warnings, {} skipped: {}",
        count(TestResult::Passed),
        count(TestResult::Failed),
        count(TestResult::Warning),
        count(TestResult::Skipped),
        match overall {
            Overall::Succeeded => "Succeeded",
            Overall::Failed => "Failed",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Colour only when asked.
    #[test]
    fn colour_is_optional() {
        assert_eq!(verdict_cell(TestResult::Passed, false), "PASSED ");
        assert_eq!(
            verdict_cell(TestResult::Failed, true),
            "\x1b[31mFAILED \x1b[0m"
        );
    }
}
