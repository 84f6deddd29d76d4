//! `entra-sim report`: real cycles against the built-in target (an escrowed 500, a 409 whose answer
//! carries a script, an update, a quarantine), then the HTML checked for the counts per cycle, the
//! failure groups with the server's answers, the quarantine, and markup rendered inert.

use entra_sim::engine::Counts;
use entra_sim::policy::JobCode;
use entra_sim::target::parse_spec;
use serde_json::{Value, json};

use crate::support::{Harness, JobFiles, Test, tenant, user};

fn users(given: &str) -> Vec<String> {
    (0..5)
        .map(|i| {
            user(&format!("u{i}"))
                .nick(&format!("user{i}"))
                .given(given)
                .yaml()
        })
        .collect()
}

/// The JSON the page's script reads.
fn embedded(page: &str) -> Value {
    let data = page
        .split("<script type=\"application/json\" id=\"report-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    serde_json::from_str(data).unwrap()
}

fn add(total: &mut Counts, c: &Counts) {
    total.created += c.created;
    total.updated += c.updated;
    total.disabled += c.disabled;
    total.deleted += c.deleted;
    total.skipped += c.skipped;
    total.failed += c.failed;
}

#[tokio::test]
async fn the_report_shows_cycles_failures_quarantine_and_keeps_server_answers_inert() {
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users("User"), &[]),
        ..JobFiles::default()
    })
    .await;
    let mut faults = parse_spec("POST /Users=500:times=1; POST /Users=409:times=1").unwrap();
    faults[1].body = Some(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "409",
        "detail": "<script>alert('owned')</script> already exists",
    }));
    h.target.set_faults(faults);
    let mut total = Counts::default();
    // 1: initial, two creations fail; 2: the 500 is retried and succeeds; 3: a rename, refused
    // with bad credentials: quarantine.
    let (first, _) = h.cycle().await;
    assert_eq!((first.counts.created, first.counts.failed), (3, 2));
    add(&mut total, &first.counts);
    h.target.set_faults(Vec::new());
    let (second, _) = h.cycle().await;
    assert_eq!(second.counts.created, 1);
    add(&mut total, &second.counts);
    h.set_directory(&tenant(&users("Renamed"), &[]));
    h.target.set_faults(parse_spec("* *=unauthorized").unwrap());
    let (third, _) = h.cycle().await;
    assert_eq!(third.job_status, JobCode::Quarantine);
    add(&mut total, &third.counts);
    h.close_store();

    let out = Test::new()
        .args(["report", "--job", "job.yaml", "--out", "out/report.html"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    out.status(0);
    let page = std::fs::read_to_string(h.dir.path().join("out/report.html")).unwrap();

    let data = embedded(&page);
    assert_eq!(data["totals"], serde_json::to_value(total).unwrap());
    assert_eq!(data["cycles"], 3);
    assert_eq!(data["totals"]["failed"], 3);
    // One timeline row per cycle, oldest first, with its id.
    let rows: Vec<&str> = page
        .split("<table class=\"data\" id=\"cycles\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap()
        .split("<tr><td class=\"time\"")
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 3);
    for (row, report) in rows.iter().zip([&first, &second, &third]) {
        assert!(row.contains(&report.cycle_id), "{row}");
    }
    // First cycle: 5 entries, 5 creates, 3 successes and 2 failures.
    assert!(
        rows[0].contains("<td class=\"n\">5</td><td class=\"n\">5</td>"),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains("<td class=\"n\">3</td><td class=\"n\">2</td>"),
        "{}",
        rows[0]
    );
    // Failures by code, with what the server answered.
    for code in [
        "InternalServerError",
        "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering",
        "Unauthorized",
    ] {
        assert!(
            page.contains(&format!("<code class=\"code\">{code}</code>")),
            "{code}"
        );
    }
    assert!(page.contains("injected fault: HTTP 500"));
    // The script in the server's answer is text, not markup: only the page's two scripts exist.
    assert!(page.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; already exists"));
    assert!(!page.contains("<script>alert"));
    assert_eq!(page.matches("<script").count(), 2);
    // Status and quarantine.
    assert!(page.contains("id=\"job-status\">Quarantine<"));
    assert!(page.contains("Quarantine: EncounteredQuarantineException"));
    // The 409 waits in escrow; drill-down per object with steps and modified properties.
    assert!(page.contains("Escrowed objects <span class=\"muted\">1</span>"));
    assert_eq!(page.matches("<details class=\"obj\"").count(), 5);
    assert!(page.contains("<th>Modified property</th>"));
    assert!(page.contains("<code>EntryExportAdd</code>"));

    // Issue 18, item 16: what people read shows times to the second and durations in words —
    // the page (the text it writes, not the titles and data kept for tools, nor the records'
    // reasons, which quote Entra's "retried again after this date: …0000000Z"), `logs`, `status`.
    let text = visible_text(&page);
    assert!(page.contains("after this date: 2026-03-01T08:40:00.0000000Z UTC"));
    let fraction = regex::Regex::new(r"\d:\d\d[.,]\d").unwrap();
    assert!(!fraction.is_match(&text), "{text}");
    let iso_duration = regex::Regex::new(r"\bP(\d+D)?T\d").unwrap();
    assert!(!iso_duration.is_match(&text), "{text}");
    assert!(text.contains(" UTC"), "{text}");
    let interval = text.split("Interval").nth(1).unwrap().trim_start();
    assert!(
        interval.starts_with(|c: char| c.is_ascii_digit()),
        "{interval}"
    );
    assert!(
        interval
            .split(" Next cycle")
            .next()
            .unwrap()
            .ends_with(" min"),
        "{interval}"
    );
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    let stamped = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \w{8} ").unwrap();
    assert_eq!(logs.stdout.lines().count(), 7, "{}", logs.stdout);
    for line in logs.stdout.lines() {
        assert!(stamped.is_match(line), "{line}");
    }
    let status = Test::new()
        .args(["status", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    status.stdout_contains("since 2026-03-01T09:20:00Z");
    assert!(!fraction.is_match(&status.stdout), "{}", status.stdout);
}

/// The text the page writes itself: no markup, attributes, styles or scripts, and no quoted text
/// (`<pre>`: a record's reason, a server's answer).
fn visible_text(page: &str) -> String {
    let tags =
        regex::Regex::new(r"(?s)<script.*?</script>|<style.*?</style>|<pre>.*?</pre>|<[^>]*>")
            .unwrap();
    tags.replace_all(page, " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
