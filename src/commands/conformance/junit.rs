//! `conformance --junit FILE`: the results as JUnit XML, which GitHub Actions, GitLab and Jenkins
//! show — one `testsuite` per mode, one `testcase` per test (classname the mode); a FAILED test
//! carries a `failure`, a WARNING a `system-out` note, a SKIPPED test `skipped`.

use std::fmt::Write as _;

use super::suite::{TestRecord, TestResult};

/// `text` with XML's five special characters escaped, and control characters XML 1.0 cannot
/// carry dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if c < ' ' => {}
            c => out.push(c),
        }
    }
    out
}

/// The body of a failure: details, what Entra does, the fix, the requests.
fn failure_text(r: &TestRecord) -> String {
    let mut text = r.details.clone();
    for line in r.entra.iter().chain(&r.hint) {
        text.push('\n');
        text.push_str(line);
    }
    for q in &r.requests {
        let status = q.status.map_or("no answer".into(), |s| s.to_string());
        let _ = write!(text, "\n{} {} -> {status}", q.method.as_str(), q.path);
    }
    text
}

fn testcase(out: &mut String, r: &TestRecord) {
    let seconds = r.duration_ms as f64 / 1000.0;
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{seconds:.3}\"",
        escape(r.mode),
        escape(r.test_name)
    );
    match r.test_result {
        TestResult::Passed => out.push_str("/>\n"),
        TestResult::Failed => {
            let _ = write!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(&r.details),
                escape(&failure_text(r))
            );
        }
        TestResult::Warning => {
            let _ = write!(
                out,
                ">\n      <system-out>WARNING (optional test): {}</system-out>\n    </testcase>\n",
                escape(&failure_text(r))
            );
        }
        TestResult::Skipped => {
            let _ = write!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                escape(&r.details)
            );
        }
    }
}

/// The JUnit document of `records`, one suite per mode in the order they ran.
pub fn document(records: &[TestRecord]) -> String {
    let mut modes: Vec<&str> = Vec::new();
    for r in records {
        if !modes.contains(&r.mode) {
            modes.push(r.mode);
        }
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"entra-sim conformance\">\n",
    );
    for mode in modes {
        let cases: Vec<&TestRecord> = records.iter().filter(|r| r.mode == mode).collect();
        let count = |result| cases.iter().filter(|r| r.test_result == result).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            escape(mode),
            cases.len(),
            count(TestResult::Failed),
            count(TestResult::Skipped)
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
    use super::*;

    /// The five special characters are escaped; control characters dropped.
    #[test]
    fn escapes() {
        assert_eq!(
            escape("a<b>&\"c\"'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;\n"
        );
    }
}
