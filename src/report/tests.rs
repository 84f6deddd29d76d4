//! Report aggregation, escaping and the drill-down cap.

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::provlog::{
    ErrorInformation, Identity, Initiator, ModifiedProperty, StatusInfo, Step, StepName, StepType,
    System,
};

fn system(name: &str) -> System {
    System {
        id: String::new(),
        display_name: name.into(),
        details: serde_json::Map::new(),
    }
}

/// A record of `name` in `cycle` at `time`: a received, changed `userName`.
struct Log<'a> {
    cycle: &'a str,
    time: &'a str,
    name: &'a str,
    action: ProvisioningAction,
    status: Status,
}

/// A failed create of `name` in `cycle` at `time`, with its error `code` and `reason`.
struct Failed<'a> {
    cycle: &'a str,
    time: &'a str,
    name: &'a str,
    code: &'a str,
    reason: &'a str,
}

fn log(record: Log) -> LogEntry {
    let Log {
        cycle,
        time,
        name,
        action,
        status,
    } = record;
    LogEntry {
        id: format!("{cycle}-{name}"),
        activity_date_time: time.into(),
        tenant_id: String::new(),
        job_id: "scim.entrasim.test".into(),
        cycle_id: cycle.into(),
        change_id: format!("change-{name}"),
        provisioning_action: action,
        duration_in_milliseconds: 12,
        initiated_by: Initiator {
            initiating_type: "system".into(),
            id: String::new(),
            display_name: "Azure AD Provisioning Service".into(),
        },
        service_principal: Default::default(),
        source_system: system("Azure Active Directory"),
        target_system: system("test"),
        source_identity: Identity {
            identity_type: "User".into(),
            id: format!("id-{name}"),
            display_name: name.into(),
            details: serde_json::Map::new(),
        },
        target_identity: Identity {
            identity_type: "User".into(),
            id: String::new(),
            display_name: name.into(),
            details: serde_json::Map::new(),
        },
        provisioning_status_info: StatusInfo {
            status,
            error_information: None,
        },
        modified_properties: vec![ModifiedProperty {
            display_name: "userName".into(),
            old_value: None,
            new_value: Some(name.into()),
        }],
        provisioning_steps: vec![
            Step::new(
                StepName::EntryImportAdd,
                StepType::Import,
                Status::Success,
                format!("Received User '{name}'"),
            )
            .detail("ReportableIdentifier", name),
        ],
    }
}

fn failed(record: Failed) -> LogEntry {
    let Failed {
        cycle,
        time,
        name,
        code,
        reason,
    } = record;
    let mut entry = log(Log {
        cycle,
        time,
        name,
        action: ProvisioningAction::Create,
        status: Status::Failure,
    });
    entry.provisioning_status_info.error_information = Some(ErrorInformation {
        error_code: code.into(),
        reason: reason.into(),
        additional_details: None,
        error_category: "nonServiceFailure".into(),
        recommended_action: None,
    });
    entry
}

fn input(status: &serde_json::Value) -> ReportInput<'_> {
    ReportInput {
        job_name: "test",
        generated: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        status,
        code: JobCode::Active,
        escrows: &[],
        last_cycle: None,
        nonce: "n0nce",
    }
}

const WEB: &str = "StatusCode: InternalServerError Message: Processing of the HTTP request resulted in an exception. Web Response: ";

#[test]
fn the_server_answer_is_cut_out_of_the_reason() {
    let reason = format!(
        "{WEB}{{\"detail\":\"boom\"}}. This operation was retried 0 times. It will be retried again after this date: 2026-03-01T08:40:00.0000000Z UTC"
    );
    assert_eq!(server_answer(&reason), "{\"detail\":\"boom\"}");
    assert_eq!(
        server_answer(&format!("{WEB}<html>Bad Gateway</html>")),
        "<html>Bad Gateway</html>"
    );
    assert_eq!(
        server_answer(&format!(
            "{WEB}{{}} The retries of this object have expired; it is retried when it changes."
        )),
        "{}"
    );
    assert_eq!(server_answer("connection refused"), "connection refused");
}

#[test]
fn cycles_are_grouped_and_ordered_by_time_with_counts_per_action_and_status() {
    let logs = vec![
        log(Log {
            cycle: "c2",
            time: "2026-03-01T09:00:00Z",
            name: "a",
            action: ProvisioningAction::Update,
            status: Status::Success,
        }),
        log(Log {
            cycle: "c1",
            time: "2026-03-01T08:00:00Z",
            name: "a",
            action: ProvisioningAction::Create,
            status: Status::Success,
        }),
        log(Log {
            cycle: "c1",
            time: "2026-03-01T08:00:02Z",
            name: "b",
            action: ProvisioningAction::Create,
            status: Status::Success,
        }),
        failed(Failed {
            cycle: "c1",
            time: "2026-03-01T08:00:01Z",
            name: "c",
            code: "InternalServerError",
            reason: WEB,
        }),
        log(Log {
            cycle: "c2",
            time: "2026-03-01T09:00:01Z",
            name: "b",
            action: ProvisioningAction::Other,
            status: Status::Skipped,
        }),
    ];
    let s = summarize(&logs);
    let ids: Vec<&str> = s.cycles.iter().map(|c| c.cycle_id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    let c1 = &s.cycles[0];
    assert_eq!(
        (c1.entries, c1.began.as_str(), c1.ended.as_str()),
        (3, "2026-03-01T08:00:00Z", "2026-03-01T08:00:02Z")
    );
    assert_eq!(c1.actions.create, 3);
    assert_eq!((c1.statuses.success, c1.statuses.failure), (2, 1));
    assert_eq!((c1.counts.created, c1.counts.failed), (2, 1));
    let c2 = &s.cycles[1];
    assert_eq!((c2.actions.update, c2.actions.other), (1, 1));
    assert_eq!((c2.counts.updated, c2.counts.skipped), (1, 1));
    assert_eq!(s.totals.created, 2);
    assert_eq!(s.statuses.skipped, 1);
    // The failing object first, then the most recently changed.
    let names: Vec<&str> = s.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["c", "b", "a"]);
    assert_eq!(s.objects[1].entries, [2, 4]);
}

#[test]
fn failures_are_grouped_by_code_with_distinct_answers() {
    let suffix = ". This operation was retried 0 times. It will be retried again after this date: 2026-03-01T08:40:00.0000000Z UTC";
    let logs = vec![
        failed(Failed {
            cycle: "c1",
            time: "t1",
            name: "a",
            code: "InternalServerError",
            reason: &format!("{WEB}{{\"detail\":\"x\"}}{suffix}"),
        }),
        failed(Failed {
            cycle: "c1",
            time: "t2",
            name: "b",
            code: "InternalServerError",
            reason: &format!("{WEB}{{\"detail\":\"x\"}}{suffix}"),
        }),
        failed(Failed {
            cycle: "c2",
            time: "t3",
            name: "a",
            code: "InternalServerError",
            reason: &format!("{WEB}{{\"detail\":\"y\"}}{suffix}"),
        }),
        failed(Failed {
            cycle: "c1",
            time: "t4",
            name: "d",
            code: "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering",
            reason: &format!("{WEB}{{}}"),
        }),
    ];
    let s = summarize(&logs);
    assert_eq!(s.failures.len(), 2);
    let g = &s.failures[0];
    assert_eq!(
        (g.code.as_str(), g.entries, g.objects),
        ("InternalServerError", 3, 2)
    );
    assert_eq!(
        g.answers,
        [
            ("{\"detail\":\"x\"}".to_string(), 2),
            ("{\"detail\":\"y\"}".to_string(), 1)
        ]
    );
    assert_eq!(g.names, ["a", "b"]);
    assert_eq!(
        s.failures[1].code,
        "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"
    );
}

#[test]
fn markup_in_names_and_server_answers_is_rendered_inert() {
    let evil = "<script>alert('pwned')</script>";
    let mut entry = failed(Failed {
        cycle: "c1",
        time: "t1",
        name: "<img src=x onerror=alert(1)>",
        code: "InternalServerError",
        reason: &format!("{WEB}{{\"detail\":\"{evil}\"}}"),
    });
    entry.modified_properties[0].new_value = Some("</td></tr></table><b>x".into());
    entry.provisioning_steps[0]
        .details
        .insert("x".into(), json!("\"><script>alert(2)</script>"));
    let logs = vec![entry];
    let status = json!({"status": {"code": "Active", "quarantine": {"reason": "X", "error": {"code": "C", "message": evil}}}});
    let mut inp = input(&status);
    inp.job_name = "</script><script>alert(3)</script>";
    let page = render(&inp, &logs);
    // Only the page's own two script elements: the JSON data and the nonce-carrying code.
    assert_eq!(page.matches("<script").count(), 2, "{page}");
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>x"));
    assert!(page.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("\\u003c/script\\u003e\\u003cscript\\u003ealert(3)"));
    assert!(page.contains("script-src 'nonce-n0nce'"));
    assert!(page.contains("<script nonce=\"n0nce\">"));
    assert!(!page.contains("http://") && !page.contains("https://"));
}

#[test]
fn counts_are_embedded_for_the_page_script_to_fill_in() {
    let logs = vec![
        log(Log {
            cycle: "c1",
            time: "t1",
            name: "a",
            action: ProvisioningAction::Create,
            status: Status::Success,
        }),
        log(Log {
            cycle: "c1",
            time: "t2",
            name: "b",
            action: ProvisioningAction::Create,
            status: Status::Success,
        }),
    ];
    let status = json!({"status": {"code": "Active"}});
    let page = render(&input(&status), &logs);
    assert!(page.contains("id=\"count-created\">–<"));
    let data = page
        .split("id=\"report-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(data["totals"]["created"], 2);
    assert_eq!(data["entries"], 2);
    assert_eq!(data["cycles"], 1);
}

#[test]
fn a_hundred_thousand_entries_render_with_a_capped_drill_down() {
    let logs: Vec<LogEntry> = (0..100_000)
        .map(|i| {
            let name = format!("user{i}");
            if i % 10 == 0 {
                failed(Failed {
                    cycle: &format!("c{}", i / 20_000),
                    time: &format!("t{i:06}"),
                    name: &name,
                    code: "InternalServerError",
                    reason: &format!("{WEB}{{\"detail\":\"{}\"}}", (i / 10) % 30),
                })
            } else {
                log(Log {
                    cycle: &format!("c{}", i / 20_000),
                    time: &format!("t{i:06}"),
                    name: &name,
                    action: ProvisioningAction::Create,
                    status: Status::Success,
                })
            }
        })
        .collect();
    let status = json!({"status": {"code": "Active"}});
    let page = render(&input(&status), &logs);
    assert_eq!(page.matches("<details class=\"obj\"").count(), MAX_OBJECTS);
    assert!(page.contains("Showing 2000 of 100000 objects"));
    assert_eq!(page.matches("<tr><td class=\"time\"").count(), 5);
    assert!(page.contains("and 20 more distinct answers"));
    assert!(page.len() < 20_000_000, "{} bytes", page.len());
}

#[test]
fn the_page_needs_only_the_entries_its_drill_down_shows() {
    // 1,200 objects with 1 to 15 entries each, some failing last: each cap of the drill-down is
    // reached (entries per object, then entries in all).
    let mut logs = Vec::new();
    for round in 0..15 {
        for o in 0..1_200 {
            if o % 15 < round {
                continue;
            }
            let (cycle, time, name) =
                (format!("c{round}"), format!("t{round:02}"), format!("u{o}"));
            logs.push(if round == 14 && o % 7 == 0 {
                failed(Failed {
                    cycle: &cycle,
                    time: &time,
                    name: &name,
                    code: "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering",
                    reason: &format!("{WEB}{{}}"),
                })
            } else {
                log(Log {
                    cycle: &cycle,
                    time: &time,
                    name: &name,
                    action: ProvisioningAction::Update,
                    status: Status::Success,
                })
            });
        }
    }
    let summary = summarize(&logs);
    let wanted = summary.drill_entries();
    assert_eq!(wanted.len(), MAX_DRILL_ENTRIES);
    assert!(
        summary
            .drill_down()
            .iter()
            .all(|(_, take)| *take <= MAX_ENTRIES_PER_OBJECT)
    );
    let status = json!({"status": {"code": "Active"}});
    let every: BTreeMap<usize, LogEntry> = logs.iter().cloned().enumerate().collect();
    let page = render(&input(&status), &logs);
    assert_eq!(page, render_summary(&input(&status), &summary, &every));
    assert!(page.contains("Showing "), "the drill-down is capped");
}
