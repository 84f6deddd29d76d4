//! `conformance --html FILE`: the run as one self-contained page in the style of the job report
//! (its stylesheet, escaping and builder, [`crate::report::markup`]) — the verdict first, a table of
//! tests × modes (side by side when both ran), then per failure and warning what failed, what
//! Entra does with the answer, the fix and the requests (collapsible, bodies cut), the skipped
//! tests with their reasons, and the summary last. No script, no fetch: the page's policy allows
//! neither. Every text from the server goes through the escaping.

use serde_json::Value as Json;

use super::Document;
use super::suite::{self, Category, Overall, RequestRecord, TestRecord, TestResult};
use crate::report::markup::Html;
use crate::report::times;

/// What the conformance page adds to the shared stylesheet.
const CSS: &str = include_str!("page.css");

/// The most characters of a body (pretty-printed) the page shows.
const BODY_CUT: usize = 4000;

/// The page of a run.
pub fn page(document: &Document<'_>, dialect: Option<&str>) -> String {
    let title = format!("entra-sim conformance: {}", document.url);
    let capacity = 32 * 1024 + document.tests.len() * 2048;
    let mut h = Html::page(capacity, &title, None, CSS);
    header(&mut h, document, dialect);
    h.raw("<main>");
    cards(&mut h, document.tests);
    table(&mut h, document);
    failures(&mut h, document.tests);
    skipped(&mut h, document.tests);
    h.raw("<section id=\"summary\"><h2>Summary</h2><p class=\"summary-line\">")
        .text(&super::table::summary_line(
            document.tests,
            document.overall_result,
        ))
        .raw("</p>");
    if let Some(dialect) = dialect {
        h.raw("<p>").text(dialect).raw("</p>");
    }
    h.raw("</section></main>\n</body></html>\n");
    h.finish()
}

/// The badge class and label of a verdict.
fn verdict(result: TestResult) -> (&'static str, &'static str) {
    let class = match result {
        TestResult::Passed => "success",
        TestResult::Failed => "failure",
        TestResult::Warning => "warning",
        TestResult::Skipped => "skipped",
    };
    (class, result.as_str())
}

fn header(h: &mut Html, document: &Document<'_>, dialect: Option<&str>) {
    let (class, label) = match document.overall_result {
        Overall::Succeeded => ("success", "Succeeded"),
        Overall::Failed => ("failure", "Failed"),
    };
    let took = chrono::Duration::milliseconds(i64::try_from(document.duration_ms).unwrap_or(0));
    h.raw("<header><h1>SCIM conformance <span class=\"job\">")
        .text(document.url)
        .raw("</span> <span class=\"badge overall ")
        .raw(class)
        .raw("\" id=\"overall\">")
        .text(label)
        .raw("</span></h1><p class=\"muted\">Started ")
        .text(&times::time_text(&document.started_at))
        .raw(" · took ")
        .text(&times::duration(took))
        .raw(" · modes: ")
        .text(&document.modes.join(", "))
        .raw(" · run prefix <code>")
        .text(document.run_prefix)
        .raw("</code></p>");
    if let Some(dialect) = dialect {
        h.raw("<p class=\"dialect\" id=\"dialect\">")
            .text(dialect)
            .raw("</p>");
    }
    h.raw("</header>\n");
}

fn cards(h: &mut Html, records: &[TestRecord]) {
    h.raw("<section class=\"cards\" aria-label=\"Verdicts\">");
    for (result, id, label) in [
        (TestResult::Passed, "passed", "Passed"),
        (TestResult::Failed, "failed", "Failed"),
        (TestResult::Warning, "warning", "Warnings"),
        (TestResult::Skipped, "skipped", "Skipped"),
    ] {
        let n = records.iter().filter(|r| r.test_result == result).count();
        h.raw("<div class=\"card ")
            .raw(id)
            .raw("\"><div class=\"num\" id=\"count-")
            .raw(id)
            .raw("\">")
            .num(n)
            .raw("</div><div class=\"label\">")
            .raw(label)
            .raw("</div></div>");
    }
    h.raw("</section>\n");
}

/// The anchor of a record's details.
fn anchor(r: &TestRecord) -> String {
    format!("t-{}-{}", r.mode, r.test_name)
}

/// Tests × modes: one row per test, in the order they ran, a verdict cell per mode.
fn table(h: &mut Html, document: &Document<'_>) {
    let records = document.tests;
    h.raw("<section id=\"tests\"><h2>Tests</h2><div class=\"scroll\"><table class=\"data results\" id=\"results\"><thead><tr><th>Test</th><th>Category</th>");
    for mode in &document.modes {
        h.raw("<th>").text(mode).raw("</th>");
    }
    h.raw("</tr></thead><tbody>");
    let mut names: Vec<&str> = Vec::new();
    for r in records {
        if !names.contains(&r.test_name) {
            names.push(r.test_name);
        }
    }
    for name in names {
        let row: Vec<&TestRecord> = records.iter().filter(|r| r.test_name == name).collect();
        let category = match row.first().map(|r| r.category) {
            Some(Category::Optional) => "optional",
            _ => "mandatory",
        };
        h.raw("<tr><td><code>")
            .text(name)
            .raw("</code></td><td class=\"muted\">")
            .raw(category)
            .raw("</td>");
        for mode in &document.modes {
            match row.iter().find(|r| r.mode == *mode) {
                Some(r) => verdict_cell(h, r),
                None => {
                    h.raw("<td></td>");
                }
            }
        }
        h.raw("</tr>");
    }
    h.raw("</tbody></table></div></section>\n");
}

/// A verdict with its duration; a failure or warning links to its details.
fn verdict_cell(h: &mut Html, r: &TestRecord) {
    let (class, label) = verdict(r.test_result);
    h.raw("<td>");
    if matches!(r.test_result, TestResult::Failed | TestResult::Warning) {
        h.raw("<a href=\"#")
            .text(&anchor(r))
            .raw("\">")
            .badge(class, label)
            .raw("</a>");
    } else {
        h.badge(class, label);
    }
    if r.test_result != TestResult::Skipped {
        let took = chrono::Duration::milliseconds(i64::try_from(r.duration_ms).unwrap_or(0));
        h.raw(" <span class=\"muted\">")
            .text(&times::duration(took))
            .raw("</span>");
    }
    h.raw("</td>");
}

/// Every failure, then every warning: what failed, Entra's reading, the fix, the requests.
fn failures(h: &mut Html, records: &[TestRecord]) {
    h.raw("<section id=\"failures\"><h2>Failures and warnings</h2>");
    let shown: Vec<&TestRecord> = [TestResult::Failed, TestResult::Warning]
        .iter()
        .flat_map(|result| records.iter().filter(move |r| r.test_result == *result))
        .collect();
    if shown.is_empty() {
        h.raw("<p class=\"muted\">Every test that ran passed.</p>");
    }
    for r in shown {
        failure(h, r);
    }
    h.raw("</section>\n");
}

fn failure(h: &mut Html, r: &TestRecord) {
    let (class, label) = verdict(r.test_result);
    h.raw("<details class=\"failure-group test-failure ")
        .raw(class)
        .raw("\" id=\"")
        .text(&anchor(r))
        .raw("\" open><summary>")
        .badge(class, label)
        .raw(" <code class=\"code\">")
        .text(r.test_name)
        .raw("</code> <span class=\"muted\">")
        .text(r.mode)
        .raw("</span></summary><p class=\"details\">")
        .text(&r.details)
        .raw("</p>");
    if let Some(entra) = &r.entra {
        h.raw("<h4>What Entra does</h4><p class=\"entra\">")
            .text(entra)
            .raw("</p>");
    }
    if let Some(hint) = &r.hint {
        h.raw("<h4>Fix</h4><p class=\"hint\">")
            .text(hint)
            .raw("</p>");
    }
    if !r.left_behind.is_empty() {
        h.raw("<h4>Left on the server</h4><ul>");
        for path in &r.left_behind {
            h.raw("<li><code>").text(path).raw("</code></li>");
        }
        h.raw("</ul>");
    }
    if !r.requests.is_empty() {
        h.raw("<h4>Requests</h4>");
        for q in &r.requests {
            request(h, q);
        }
    }
    h.raw("</details>\n");
}

/// One request, collapsed: method, path, status and step; opened, the bodies.
fn request(h: &mut Html, q: &RequestRecord) {
    let status = q.status.map_or("no answer".to_string(), |s| s.to_string());
    // Refusals stand out; a success is not marked, since a test may fail on one (a 204 where a
    // 404 was due).
    let class = match q.status {
        Some(200..=299) => "status",
        _ => "status refused",
    };
    h.raw("<details class=\"request\"><summary><code class=\"path\">")
        .text(q.method.as_str())
        .raw(" ")
        .text(&q.path)
        .raw("</code> → <b class=\"")
        .raw(class)
        .raw("\">")
        .text(&status)
        .raw("</b> <span class=\"muted\">")
        .text(&q.step)
        .raw("</span></summary>");
    if let Some(sent) = sent_body(q) {
        h.raw("<h4>Sent</h4><pre>").text(&sent).raw("</pre>");
    }
    h.raw("<h4>Answered</h4><pre>")
        .text(&answered_body(q))
        .raw("</pre></details>");
}

/// The request's body pretty-printed and cut, when it had one.
pub(super) fn sent_body(q: &RequestRecord) -> Option<String> {
    let mut text = serde_json::to_string_pretty(q.body.as_ref()?).ok()?;
    suite::cut(&mut text, BODY_CUT);
    Some(text)
}

/// The response body pretty-printed when it is JSON (a cut body is not), cut; "(empty)" when
/// none.
pub(super) fn answered_body(q: &RequestRecord) -> String {
    if q.response.is_empty() {
        return "(empty)".into();
    }
    let mut text = serde_json::from_str::<Json>(&q.response)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or_else(|| q.response.clone());
    suite::cut(&mut text, BODY_CUT);
    text
}

/// The tests not run, with why.
fn skipped(h: &mut Html, records: &[TestRecord]) {
    let skipped: Vec<&TestRecord> = records
        .iter()
        .filter(|r| r.test_result == TestResult::Skipped)
        .collect();
    if skipped.is_empty() {
        return;
    }
    h.raw("<section id=\"skipped\"><h2>Skipped</h2><table class=\"data reasons\"><thead><tr><th>Test</th><th>Mode</th><th>Why</th></tr></thead><tbody>");
    for r in skipped {
        h.raw("<tr><td><code>")
            .text(r.test_name)
            .raw("</code></td><td>")
            .text(r.mode)
            .raw("</td><td class=\"why\">")
            .text(&r.details)
            .raw("</td></tr>");
    }
    h.raw("</tbody></table></section>\n");
}

/// Records of every kind, in both modes, for the page's and the JUnit file's tests: a failure
/// whose server answered markup and control characters, a warning, a skip, passes.
#[cfg(test)]
pub(super) fn sample_records() -> Vec<TestRecord> {
    use super::suite::TESTS;
    use crate::plan::Method;
    use crate::scim::ScimMode;
    let test = |name: &str| TESTS.iter().find(|t| t.name == name).unwrap();
    let mut records = Vec::new();
    for mode in [ScimMode::Default, ScimMode::Aad062020] {
        let mut failed = suite::skipped(test("SCIM_User_Create_Test"), mode, "");
        failed.test_result = TestResult::Failed;
        failed.details = "create a user: answered 500: <b>boom</b>\u{1}".into();
        failed.entra = Some("Entra logs InternalServerError: retried".into());
        failed.hint = Some("accept a POST /Users".into());
        failed.duration_ms = 1234;
        failed.requests = vec![RequestRecord {
            step: "create a user".into(),
            method: Method::Post,
            path: "/Users".into(),
            body: Some(serde_json::json!({"userName": "a&b"})),
            status: Some(500),
            response: "<script>alert(1)</script>\u{0}\u{b}\u{fffe}".into(),
        }];
        let mut warning = suite::skipped(test("Delete_NonExistent_Test"), mode, "");
        warning.test_result = TestResult::Warning;
        warning.details = "delete nothing: expected 404; answered 204".into();
        let mut passed = suite::skipped(test("Schema_Discoverability_Test"), mode, "");
        passed.test_result = TestResult::Passed;
        passed.duration_ms = 7;
        records.extend([
            passed,
            failed,
            warning,
            suite::skipped(test("Filter_NonExistent_Test"), mode, "skipped with --skip"),
        ]);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(records: &[TestRecord]) -> Document<'_> {
        Document {
            overall_result: Overall::Failed,
            url: "http://127.0.0.1:1/scim/v2",
            run_prefix: "es1234abcd",
            modes: vec!["default", "aadOptscim062020"],
            started_at: "2026-12-06T08:00:00.000Z".into(),
            duration_ms: 2500,
            tests: records,
        }
    }

    /// The verdict, a row per test with a cell per mode, each failure with its reading, fix and
    /// escaped requests, the skipped tests and the summary last; no script anywhere.
    #[test]
    fn the_page_shows_every_part_escaped() {
        let records = sample_records();
        let page = page(&document(&records), Some("Neither dialect works."));
        for part in [
            "id=\"overall\">Failed</span>",
            "Started 2026-12-06 08:00:00 UTC · took 2 s · modes: default, aadOptscim062020 · run prefix <code>es1234abcd</code></p>",
            "<th>default</th><th>aadOptscim062020</th>",
            "id=\"count-failed\">2<",
            "href=\"#t-aadOptscim062020-SCIM_User_Create_Test\"",
            "id=\"t-default-SCIM_User_Create_Test\"",
            "answered 500: &lt;b&gt;boom&lt;/b&gt;\u{fffd}</p>",
            "What Entra does</h4><p class=\"entra\">Entra logs InternalServerError",
            "<p class=\"hint\">accept a POST /Users</p>",
            "&quot;userName&quot;: &quot;a&amp;b&quot;",
            "&lt;script&gt;alert(1)&lt;/script&gt;\u{fffd}\u{fffd}\u{fffd}",
        ] {
            assert!(page.contains(part), "{part:?} not in {page}");
        }
        assert_eq!(page.matches("<tr><td><code>").count(), 4 + 2);
        assert!(!page.contains("<script"));
        assert!(!page.contains('\u{0}'));
        assert!(page.contains("<td class=\"why\">skipped with --skip</td>"));
        let summary = page
            .find("2 passed, 2 failed, 2 warnings, 2 skipped: Failed")
            .unwrap();
        assert!(summary > page.find("id=\"skipped\"").unwrap());
        assert!(page.contains("id=\"dialect\">Neither dialect works.</p>"));
    }

    /// A long body is cut; a JSON one pretty-printed; none shows as empty.
    #[test]
    fn bodies_are_cut_and_pretty() {
        let mut q = sample_records().remove(1).requests.remove(0);
        q.response = "x".repeat(BODY_CUT + 10);
        assert_eq!(answered_body(&q).chars().count(), BODY_CUT + 1);
        q.response = "{\"a\":1}".into();
        assert_eq!(answered_body(&q), "{\n  \"a\": 1\n}");
        q.response.clear();
        assert_eq!(answered_body(&q), "(empty)");
        assert_eq!(sent_body(&q).unwrap(), "{\n  \"userName\": \"a&b\"\n}");
    }
}
