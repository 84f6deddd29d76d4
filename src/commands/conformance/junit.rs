//! `conformance --junit FILE`: the results as JUnit XML in the shape GitHub Actions' test
//! reporters, GitLab and Jenkins read — a `testsuites` root with the totals, one `testsuite` per
//! mode (tests, failures, errors, skipped, time), one `testcase` per test (`classname` the mode,
//! `name` Microsoft's test name, `time` in seconds).
//!
//! - FAILED: a `failure` whose `message` is the details and whose text adds Entra's reading, the
//!   fix, the last request with its answer, and every request's line.
//! - SKIPPED: `skipped` with the reason as `message`.
//! - WARNING (an optional test failed): a *passing* testcase with the same text in `system-out`.
//!   JUnit has no warning; a `failure` would turn CI red on a run whose `overallResult` is
//!   Succeeded and whose exit code is 0, and a `skipped` would claim the test did not run. The
//!   reporters show a case's `system-out`, so the warning stays visible without changing the verdict.
//! - `errors` is always 0: every FAILED is a verdict on the server's behaviour (no answer at all
//!   included), not an error of the test itself.
//!
//! Every text goes through [`escape`], which also replaces the characters XML 1.0 forbids, so a
//! server that answers with control characters cannot make the file ill-formed.

use std::fmt::Write as _;

use super::Document;
use super::html::{answered_body, sent_body};
use super::suite::{TestRecord, TestResult};
use crate::report::escape;

/// Seconds with milliseconds, as JUnit's `time` attributes carry them.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Counts of a set of records, as the `testsuites` and `testsuite` attributes carry them.
fn counts(records: &[&TestRecord]) -> String {
    let count = |result| records.iter().filter(|r| r.test_result == result).count();
    format!(
        "tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\"",
        records.len(),
        count(TestResult::Failed),
        count(TestResult::Skipped)
    )
}

/// What a failure (or warning) carries: details, Entra's reading, the fix, the last request with
/// its answer, every request's line.
fn failure_text(r: &TestRecord) -> String {
    let mut text = r.details.clone();
    if let Some(entra) = &r.entra {
        let _ = write!(text, "\nWhat Entra does: {entra}");
    }
    if let Some(hint) = &r.hint {
        let _ = write!(text, "\nFix: {hint}");
    }
    for path in &r.left_behind {
        let _ = write!(text, "\nLeft on the server: {path}");
    }
    if let Some(q) = r.requests.iter().rev().find(|q| q.step != "clean up") {
        let status = q.status.map_or("no answer".into(), |s| s.to_string());
        let _ = write!(
            text,
            "\n\nLast request ({}):\n{} {}",
            q.step,
            q.method.as_str(),
            q.path
        );
        if let Some(sent) = sent_body(q) {
            let _ = write!(text, "\n{sent}");
        }
        let _ = write!(text, "\nAnswered {status}:\n{}", answered_body(q));
    }
    if !r.requests.is_empty() {
        text.push_str("\n\nRequests:");
    }
    for q in &r.requests {
        let status = q.status.map_or("no answer".into(), |s| s.to_string());
        let _ = write!(text, "\n{} {} -> {status}", q.method.as_str(), q.path);
    }
    text
}

fn testcase(out: &mut String, r: &TestRecord) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
        escape(r.mode),
        escape(r.test_name),
        seconds(r.duration_ms)
    );
    let _ = match r.test_result {
        TestResult::Passed => writeln!(out, "/>"),
        TestResult::Failed => writeln!(
            out,
            ">\n      <failure message=\"{}\" type=\"FAILED\">{}</failure>\n    </testcase>",
            escape(&r.details),
            escape(&failure_text(r))
        ),
        TestResult::Warning => writeln!(
            out,
            ">\n      <system-out>WARNING (an optional test failed): {}</system-out>\n    </testcase>",
            escape(&failure_text(r))
        ),
        TestResult::Skipped => writeln!(
            out,
            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
            escape(&r.details)
        ),
    };
}

/// The JUnit document of a run, one suite per mode in the order they ran.
pub fn document(document: &Document<'_>) -> String {
    let all: Vec<&TestRecord> = document.tests.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"entra-sim conformance\" {} time=\"{}\">",
        counts(&all),
        seconds(document.duration_ms)
    );
    for mode in &document.modes {
        let cases: Vec<&TestRecord> = all.iter().copied().filter(|r| r.mode == *mode).collect();
        let time: u64 = cases.iter().map(|r| r.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" {} time=\"{}\">\n    <properties>\n      <property name=\"url\" value=\"{}\"/>\n    </properties>",
            escape(mode),
            counts(&cases),
            seconds(time),
            escape(document.url)
        );
        for r in cases {
            testcase(&mut out, r);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::html::sample_records;
    use super::super::suite::Overall;
    use super::*;

    /// Parsed by an XML parser: totals on the root, a suite per mode with its counts, the
    /// testcases' classname, name and time, a failure with its text, a warning as a passing case
    /// with system-out, a skip with its reason; the control characters replaced.
    #[test]
    fn the_document_parses_with_its_counts() {
        let records = sample_records();
        let doc = Document {
            overall_result: Overall::Failed,
            url: "http://127.0.0.1:1/scim/v2?a=1&b=2",
            run_prefix: "es1234abcd",
            modes: vec!["default", "aadOptscim062020"],
            started_at: "2026-12-06T08:00:00.000Z".into(),
            duration_ms: 2500,
            tests: &records,
        };
        let xml = document(&doc);
        let parsed = roxmltree::Document::parse(&xml).unwrap();
        let root = parsed.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let attrs = |n: roxmltree::Node, names: &[&str]| -> Vec<String> {
            names
                .iter()
                .map(|a| n.attribute(*a).unwrap_or("-").to_string())
                .collect()
        };
        let totals = ["tests", "failures", "errors", "skipped", "time"];
        assert_eq!(attrs(root, &totals), ["8", "2", "0", "2", "2.500"]);
        let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[1].attribute("name"), Some("aadOptscim062020"));
        assert_eq!(attrs(suites[0], &totals), ["4", "1", "0", "1", "1.241"]);
        let url = suites[0].descendants().find(|n| n.has_tag_name("property"));
        assert_eq!(url.unwrap().attribute("value"), Some(doc.url));
        let cases: Vec<_> = suites[0]
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 4);
        assert_eq!(
            attrs(cases[1], &["classname", "name", "time"]),
            ["default", "SCIM_User_Create_Test", "1.234"]
        );
        let failure = cases[1].first_element_child().unwrap();
        assert_eq!(failure.tag_name().name(), "failure");
        assert_eq!(
            failure.attribute("message"),
            Some("create a user: answered 500: <b>boom</b>\u{fffd}")
        );
        let text = failure.text().unwrap();
        for part in [
            "What Entra does: Entra logs InternalServerError",
            "Fix: accept a POST /Users",
            "Last request (create a user):\nPOST /Users\n{\n  \"userName\": \"a&b\"\n}",
            "Answered 500:\n<script>alert(1)</script>\u{fffd}\u{fffd}\u{fffd}",
            "Requests:\nPOST /Users -> 500",
        ] {
            assert!(text.contains(part), "{part:?} not in {text}");
        }
        let warning = cases[2].first_element_child().unwrap();
        assert_eq!(warning.tag_name().name(), "system-out");
        assert!(
            warning
                .text()
                .unwrap()
                .starts_with("WARNING (an optional test failed): delete nothing")
        );
        assert!(cases[0].first_element_child().is_none());
        let skipped = cases[3].first_element_child().unwrap();
        assert_eq!(skipped.tag_name().name(), "skipped");
        assert_eq!(skipped.attribute("message"), Some("skipped with --skip"));
    }

    /// Milliseconds as seconds.
    #[test]
    fn seconds_keep_milliseconds() {
        assert_eq!(seconds(0), "0.000");
        assert_eq!(seconds(61_005), "61.005");
    }
}
