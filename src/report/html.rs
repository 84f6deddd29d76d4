//! The report's HTML: every piece of text from the logs, the status or the server goes through
//! [`escape`](super::markup::escape), and the data the page's script reads is embedded by [`json_for_script`], so names
//! and server answers render as text, never as markup. The Content-Security-Policy lets only the
//! page's own (nonce-carrying) script run and forbids every fetch.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use serde_json::{Value, json};

use super::markup::{Html, json_for_script};
use super::times;
use super::{
    MAX_CYCLES, MAX_DRILL_ENTRIES, MAX_ENTRIES_PER_OBJECT, MAX_ESCROWS, ObjectSummary, ReportInput,
    Summary,
};
use crate::plan::CycleKind;
use crate::policy::JobCode;
use crate::provlog::{LogEntry, ProvisioningAction};

const JS: &str = include_str!("page.js");

/// The summary cards: element id suffix and label. The page's script fills `count-<id>`.
const CARDS: &[(&str, &str)] = &[
    ("created", "Created"),
    ("updated", "Updated"),
    ("disabled", "Disabled"),
    ("deleted", "Deleted"),
    ("skipped", "Skipped"),
    ("failed", "Failed"),
];

/// The whole page.
pub(super) fn page(
    input: &ReportInput<'_>,
    summary: &Summary,
    shown: &BTreeMap<usize, LogEntry>,
) -> String {
    let title = format!("entra-sim report: {}", input.job_name);
    let capacity = 64 * 1024 + shown.len() * 4096;
    let mut h = Html::page(capacity, &title, Some(input.nonce), "");
    h.raw("<header><h1>Provisioning report <span class=\"job\">")
        .text(input.job_name)
        .raw("</span></h1><p class=\"muted\">Generated ")
        .text(&times::time(input.generated))
        .raw(" from the job's state directory · log entries: <span id=\"count-entries\">–</span> · cycles: <span id=\"count-cycles\">–</span></p></header>\n<main>");
    cards(&mut h);
    status(&mut h, input);
    timeline(&mut h, summary);
    failures(&mut h, summary);
    escrows(&mut h, input, summary);
    objects(&mut h, shown, summary);
    let data = json!({
        "job": input.job_name,
        "entries": summary.entries,
        "cycles": summary.cycles.len(),
        "totals": summary.totals,
        "actions": summary.actions,
        "statuses": summary.statuses,
        "failureCodes": summary.failures.len(),
        "objects": summary.objects.len(),
    });
    h.raw("</main>\n<script type=\"application/json\" id=\"report-data\">")
        .raw(&json_for_script(&data))
        .raw("</script>\n<script nonce=\"")
        .text(input.nonce)
        .raw("\">")
        .raw(JS)
        .raw("</script>\n</body></html>\n");
    h.finish()
}

fn cards(h: &mut Html) {
    h.raw("<section id=\"summary\" class=\"cards\" aria-label=\"Entries over all cycles\">");
    for (id, label) in CARDS {
        let _ = write!(
            h,
            "<div class=\"card {id}\"><div class=\"num\" id=\"count-{id}\">–</div><div class=\"label\">{label}</div></div>"
        );
    }
    h.raw("</section>\n");
}

/// A JSON value as text: strings as they are, `null` as a dash.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn row(h: &mut Html, label: &str, value: &str) {
    h.raw("<tr><th>")
        .text(label)
        .raw("</th><td>")
        .text(value)
        .raw("</td></tr>");
}

fn status(h: &mut Html, input: &ReportInput<'_>) {
    let v = input.status;
    let st = &v["status"];
    let code = input.code;
    let class = match code {
        JobCode::Active => "success",
        JobCode::Quarantine => "failure",
        JobCode::NotRun | JobCode::Paused | JobCode::Disabled => "skipped",
    };
    h.raw("<section id=\"status\"><h2>Job status <span class=\"badge ")
        .raw(class)
        .raw("\" id=\"job-status\">")
        .text(code.as_str())
        .raw("</span></h2><div class=\"grid\"><table class=\"kv\">");
    schedule(h, v);
    h.raw("</table>");
    last_execution(h, &st["lastExecution"], input);
    h.raw("</div>");
    quarantine(h, &st["quarantine"]);
    h.raw("</section>\n");
}

/// The job's schedule and health rows of the status table.
fn schedule(h: &mut Html, v: &Value) {
    let st = &v["status"];
    row(h, "Schedule", &show(&v["schedule"]["state"]));
    row(h, "Interval", &duration(&v["schedule"]["interval"]));
    row(h, "Next cycle", &time(&v["entraSim"]["nextCycle"]));
    row(h, "Escrowed objects", &show(&v["entraSim"]["escrowCount"]));
    row(
        h,
        "Successive complete failures",
        &show(&st["countSuccessiveCompleteFailures"]),
    );
    row(
        h,
        "Steady state last achieved",
        &time(&st["steadyStateLastAchievedTime"]),
    );
    if st["escrowsPruned"] == Value::Bool(true) {
        row(
            h,
            "Escrows pruned",
            "an initial cycle crossed an escrow threshold: fix the errors, then `entra-sim start`",
        );
    }
}

/// The "Last execution" table (none before the first cycle), with the last cycle's report.
fn last_execution(h: &mut Html, last: &Value, input: &ReportInput<'_>) {
    if last.is_null() {
        return;
    }
    h.raw("<table class=\"kv\"><caption>Last execution</caption>");
    row(h, "Cycle", &show(&last["activityIdentifier"]));
    row(h, "State", &show(&last["state"]));
    row(
        h,
        "Time",
        &format!(
            "{} → {}",
            time(&last["timeBegan"]),
            time(&last["timeEnded"])
        ),
    );
    row(h, "Exported", &show(&last["countExported"]));
    row(
        h,
        "Escrowed",
        &format!(
            "{} ({} incl. references)",
            show(&last["countEscrowed"]),
            show(&last["countEscrowedRaw"])
        ),
    );
    if let Some(report) = input.last_cycle {
        let kind = match report.kind {
            CycleKind::Initial => "initial",
            CycleKind::Incremental => "incremental",
        };
        row(h, "Kind", kind);
        row(h, "Staged deletes", &report.staged_deletes.to_string());
        if let Some(failure) = &report.job_failure {
            row(h, "Job failure", failure);
        }
    }
    h.raw("</table>");
}

/// The quarantine box, when the job is in quarantine.
fn quarantine(h: &mut Html, q: &Value) {
    if q.is_null() {
        return;
    }
    h.raw("<div class=\"quarantine\" id=\"quarantine\"><h3>Quarantine: ")
        .text(&show(&q["reason"]))
        .raw("</h3><table class=\"kv\">");
    row(h, "Since", &time(&q["currentBegan"]));
    row(h, "Series began", &time(&q["seriesBegan"]));
    row(h, "Re-evaluations", &show(&q["seriesCount"]));
    row(h, "Next attempt", &time(&q["nextAttempt"]));
    row(h, "Error", &show(&q["error"]["code"]));
    h.raw("</table><pre>")
        .text(&show(&q["error"]["message"]))
        .raw("</pre></div>");
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// A time of the status JSON to the second (`2026-03-01 08:00:00 UTC`); `null` as a dash.
fn time(v: &Value) -> String {
    match v {
        Value::String(s) => times::time_text(s),
        other => show(other),
    }
}

/// An interval of the status JSON (`PT40M`) in words (`40 min`); `null` as a dash.
fn duration(v: &Value) -> String {
    match v {
        Value::String(s) => times::duration_text(s),
        other => show(other),
    }
}

/// A time cell: to the second, the full value as its title.
fn time_cell(h: &mut Html, time: &str) {
    h.raw("<td class=\"time\" title=\"")
        .text(time)
        .raw("\">")
        .text(&times::time_text(time))
        .raw("</td>");
}

fn timeline(h: &mut Html, summary: &Summary) {
    let cycles = &summary.cycles;
    h.raw("<section id=\"timeline\"><h2>Cycles</h2>");
    if cycles.is_empty() {
        h.raw("<p class=\"muted\">No log entries yet: run <code>entra-sim cycle</code>.</p></section>\n");
        return;
    }
    let skip = cycles.len().saturating_sub(MAX_CYCLES);
    if skip > 0 {
        h.raw("<p class=\"note\">The ")
            .num(skip)
            .raw(" oldest cycles are left out; the newest ")
            .num(MAX_CYCLES)
            .raw(" are shown.</p>");
    }
    h.raw("<div class=\"scroll\"><table class=\"data\" id=\"cycles\"><thead><tr><th rowspan=\"2\">Began</th><th rowspan=\"2\">Ended</th><th rowspan=\"2\">Cycle</th><th rowspan=\"2\">Entries</th><th colspan=\"6\">Action</th><th colspan=\"4\">Status</th><th rowspan=\"2\" class=\"barcol\">Outcome</th></tr><tr><th>create</th><th>update</th><th>disable</th><th>delete</th><th>staged</th><th>other</th><th>success</th><th>failure</th><th>skipped</th><th>warning</th></tr></thead><tbody>");
    for c in &cycles[skip..] {
        h.raw("<tr>");
        time_cell(h, &c.began);
        time_cell(h, &c.ended);
        h.raw("<td><code title=\"")
            .text(&c.cycle_id)
            .raw("\">")
            .text(short(&c.cycle_id))
            .raw("</code></td>");
        h.count_cell(c.entries);
        let a = &c.actions;
        for n in [
            a.create,
            a.update,
            a.disable,
            a.delete,
            a.staged_delete,
            a.other,
        ] {
            h.count_cell(n);
        }
        let s = &c.statuses;
        for n in [s.success, s.failure, s.skipped, s.warning] {
            h.count_cell(n);
        }
        h.raw("<td class=\"barcol\"><div class=\"bar\">");
        for (class, n) in [
            ("success", s.success),
            ("warning", s.warning),
            ("skipped", s.skipped),
            ("failure", s.failure),
        ] {
            if n > 0 {
                let pct = n as f64 * 100.0 / c.entries.max(1) as f64;
                let _ = write!(
                    h,
                    "<span class=\"{class}\" style=\"width:{pct:.2}%\" title=\"{n} {class}\"></span>"
                );
            }
        }
        h.raw("</div></td></tr>");
    }
    h.raw("</tbody></table></div></section>\n");
}

fn failures(h: &mut Html, summary: &Summary) {
    h.raw("<section id=\"failures\"><h2>Failures by error code</h2>");
    if summary.failures.is_empty() {
        h.raw("<p class=\"muted\">No failed entries.</p></section>\n");
        return;
    }
    for g in &summary.failures {
        h.raw("<details class=\"failure-group\" open><summary><code class=\"code\">")
            .text(&g.code)
            .raw("</code> <span class=\"muted\">")
            .num(g.entries)
            .raw(if g.entries == 1 {
                " entry, "
            } else {
                " entries, "
            })
            .num(g.objects)
            .raw(if g.objects == 1 {
                " object"
            } else {
                " objects"
            })
            .raw("</span></summary><h4>What the server answered</h4>");
        for (answer, n) in &g.answers {
            h.raw("<div class=\"answer\"><span class=\"times\">×")
                .num(*n)
                .raw("</span><pre>")
                .text(answer)
                .raw("</pre></div>");
        }
        let more = g.distinct_answers.saturating_sub(g.answers.len());
        if more > 0 {
            h.raw("<p class=\"note\">and ")
                .num(more)
                .raw(" more distinct answers</p>");
        }
        h.raw("<p class=\"names\"><b>Objects:</b> ");
        for (i, name) in g.names.iter().enumerate() {
            if i > 0 {
                h.raw(", ");
            }
            h.text(name);
        }
        let more = g.objects.saturating_sub(g.names.len());
        if more > 0 {
            h.raw(" and ").num(more).raw(" more");
        }
        h.raw("</p></details>");
    }
    h.raw("</section>\n");
}

fn escrows(h: &mut Html, input: &ReportInput<'_>, summary: &Summary) {
    h.raw("<section id=\"escrows\"><h2>Escrowed objects <span class=\"muted\">")
        .num(input.escrows.len())
        .raw("</span></h2>");
    if input.escrows.is_empty() {
        h.raw("<p class=\"muted\">Nothing is waiting for a retry.</p></section>\n");
        return;
    }
    let names: HashMap<String, &str> = summary
        .objects
        .iter()
        .map(|o| {
            (
                format!("{}:{}", o.kind.to_lowercase(), o.id),
                o.name.as_str(),
            )
        })
        .collect();
    h.raw("<div class=\"scroll\"><table class=\"data\"><thead><tr><th>Object</th><th>Operation</th><th>Error code</th><th>Attempts</th><th>First failure</th><th>Next retry</th></tr></thead><tbody>");
    for e in input.escrows.iter().take(MAX_ESCROWS) {
        let operation = serde_json::to_value(e.operation)
            .map(|v| show(&v))
            .unwrap_or_default();
        h.raw("<tr><td>")
            .text(names.get(&e.object).copied().unwrap_or(&e.object))
            .raw(" <span class=\"muted\">")
            .text(&e.object)
            .raw("</span></td><td>")
            .text(&operation)
            .raw("</td><td><code>")
            .text(&e.error_code)
            .raw("</code></td>")
            .count_cell(e.attempts as usize)
            .raw("<td class=\"time\">")
            .text(&times::time(e.first_failure))
            .raw("</td><td class=\"time\">")
            .text(&times::time(e.next_retry))
            .raw("</td></tr>");
    }
    h.raw("</tbody></table></div>");
    if input.escrows.len() > MAX_ESCROWS {
        h.raw("<p class=\"note\">The first ")
            .num(MAX_ESCROWS)
            .raw(" are listed.</p>");
    }
    h.raw("</section>\n");
}

fn objects(h: &mut Html, shown: &BTreeMap<usize, LogEntry>, summary: &Summary) {
    h.raw("<section id=\"objects\"><h2>Objects</h2><div class=\"controls\"><input id=\"filter\" type=\"search\" placeholder=\"Filter by name or id\" aria-label=\"Filter objects\"><select id=\"status-filter\" aria-label=\"Latest status\"><option value=\"\">any latest status</option><option value=\"failure\">failure</option><option value=\"success\">success</option><option value=\"skipped\">skipped</option><option value=\"warning\">warning</option></select><button type=\"button\" id=\"expand\">Expand all</button><button type=\"button\" id=\"collapse\">Collapse all</button><span class=\"muted\" id=\"shown\"></span></div>");
    let drill = summary.drill_down();
    let shown_objects = drill.len();
    for (object, take) in drill {
        drill_down(h, shown, object, take);
    }
    let total = summary.objects.len();
    if shown_objects < total
        || summary
            .objects
            .iter()
            .any(|o| o.entries.len() > MAX_ENTRIES_PER_OBJECT)
    {
        h.raw("<p class=\"note\" id=\"drill-note\">Showing ")
            .num(shown_objects)
            .raw(" of ")
            .num(total)
            .raw(" objects (latest failing first, then most recently changed), each with its newest entries, at most ")
            .num(MAX_DRILL_ENTRIES)
            .raw(" entries in all. <code>entra-sim logs --format csv</code> exports every entry.</p>");
    }
    h.raw("</section>\n");
}

fn drill_down(
    h: &mut Html,
    shown: &BTreeMap<usize, LogEntry>,
    object: &ObjectSummary,
    take: usize,
) {
    let status = object.last_status.as_str();
    let name = if object.name.is_empty() {
        &object.id
    } else {
        &object.name
    };
    h.raw("<details class=\"obj\" data-status=\"")
        .raw(status)
        .raw("\" data-key=\"")
        .text(&format!(
            "{} {}",
            name.to_lowercase(),
            object.id.to_lowercase()
        ))
        .raw("\"><summary>");
    h.badge(status, status)
        .raw(" <span class=\"kind\">")
        .text(&object.kind)
        .raw("</span> <b>")
        .text(name)
        .raw("</b> <span class=\"muted\">")
        .text(&object.id)
        .raw(" · ")
        .num(object.entries.len())
        .raw(if object.entries.len() == 1 {
            " entry"
        } else {
            " entries"
        })
        .raw("</span></summary><div class=\"entries\">");
    for &i in object.entries.iter().rev().take(take) {
        if let Some(log) = shown.get(&i) {
            entry(h, log);
        }
    }
    if object.entries.len() > take {
        h.raw("<p class=\"note\">")
            .num(object.entries.len() - take)
            .raw(" older entries are left out.</p>");
    }
    h.raw("</div></details>\n");
}

fn action_name(action: ProvisioningAction) -> &'static str {
    match action {
        ProvisioningAction::Create => "create",
        ProvisioningAction::Update => "update",
        ProvisioningAction::Delete => "delete",
        ProvisioningAction::StagedDelete => "stageddelete",
        ProvisioningAction::Disable => "disable",
        ProvisioningAction::Other => "other",
    }
}

fn entry(h: &mut Html, log: &LogEntry) {
    let info = &log.provisioning_status_info;
    h.raw("<div class=\"entry\"><div class=\"entry-head\">");
    let status = info.status.as_str();
    h.badge(status, status)
        .raw(" <b>")
        .raw(action_name(log.provisioning_action))
        .raw("</b> <span class=\"time\" title=\"")
        .text(&log.activity_date_time)
        .raw("\">")
        .text(&times::time_text(&log.activity_date_time))
        .raw("</span> <span class=\"muted\">cycle <code title=\"")
        .text(&log.cycle_id)
        .raw("\">")
        .text(short(&log.cycle_id))
        .raw("</code> · change <code title=\"")
        .text(&log.change_id)
        .raw("\">")
        .text(short(&log.change_id))
        .raw("</code> · ");
    h.text(&times::duration(chrono::Duration::milliseconds(
        log.duration_in_milliseconds,
    )));
    if !log.target_identity.id.is_empty() {
        h.raw(" · target id <code>")
            .text(&log.target_identity.id)
            .raw("</code>");
    }
    h.raw("</span></div>");
    if let Some(error) = &info.error_information {
        h.raw("<div class=\"error\"><code>")
            .text(&error.error_code)
            .raw("</code><pre>")
            .text(&error.reason)
            .raw("</pre>");
        if let Some(action) = &error.recommended_action {
            h.raw("<p>").text(action).raw("</p>");
        }
        h.raw("</div>");
    }
    if !log.provisioning_steps.is_empty() {
        h.raw("<table class=\"steps\"><thead><tr><th>Step</th><th>Status</th><th>Description</th><th>Details</th></tr></thead><tbody>");
        for step in &log.provisioning_steps {
            h.raw("<tr><td><code>")
                .text(step.name.as_str())
                .raw("</code></td><td>");
            let status = step.status.as_str();
            h.badge(status, status)
                .raw("</td><td>")
                .text(&step.description)
                .raw("</td><td>");
            for (key, value) in &step.details {
                h.raw("<div><span class=\"muted\">")
                    .text(key)
                    .raw(":</span> ")
                    .text(&show(value))
                    .raw("</div>");
            }
            h.raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }
    if !log.modified_properties.is_empty() {
        h.raw("<table class=\"props\"><thead><tr><th>Modified property</th><th>Old value</th><th>New value</th></tr></thead><tbody>");
        for p in &log.modified_properties {
            h.raw("<tr><td><code>")
                .text(&p.display_name)
                .raw("</code></td><td>")
                .text(p.old_value.as_deref().unwrap_or(""))
                .raw("</td><td>")
                .text(p.new_value.as_deref().unwrap_or(""))
                .raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }
    h.raw("</div>");
}
