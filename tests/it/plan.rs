//! Issue 6: `plan` sends only reads, changes nothing, and the following cycle sends exactly the
//! planned writes.

use crate::support::{Harness, tenant, user};

#[tokio::test]
async fn a_cycle_sends_exactly_what_was_planned() {
    let mut h = Harness::shipped("sample").await;
    let planned = h.plan().await;
    assert!(
        h.target.requests().iter().all(|r| r.method == "GET"),
        "planning sends only reads"
    );
    assert!(h.target.users().is_empty());
    assert_eq!(h.plan().await, planned, "planning changed nothing");
    h.cycle().await;
    assert_eq!(h.writes(), planned);
    assert!(
        h.plan().await.is_empty(),
        "after the cycle, nothing is left to do"
    );
}

#[tokio::test]
async fn incremental_plans_match_their_cycles() {
    let a = user("a1", "alice", "Alice", "CEO", None, "");
    let b = user("b2", "bob", "Bob", "Engineer", Some("a1"), "");
    let mut h = Harness::new(
        &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        "mappings/scim-default.yaml",
        "assignments:\n  - principal: Team\n",
        "",
    )
    .await;
    h.cycle().await;
    let c = user("c3", "carol", "Carol", "Analyst", Some("a1"), "");
    h.set_directory(&tenant(
        &[user("a1", "alice", "Alicia", "CEO", None, ""), c],
        &["a1", "c3"],
    ));
    let planned = h.plan().await;
    assert_eq!(planned.len(), 6, "{planned:#?}");
    h.cycle().await;
    assert_eq!(h.writes(), planned);
}

#[tokio::test]
async fn compare_modes_shows_the_dialect_differences() {
    let a = user("a1", "alice", "Alice", "CEO", None, "");
    let b = user("b2", "bob", "Bob", "Engineer", Some("a1"), "");
    let mut h = Harness::new(
        &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        "mappings/scim-default.yaml",
        "assignments:\n  - principal: Team\n",
        "",
    )
    .await;
    h.cycle().await;
    h.set_directory(&tenant(
        &[user("a1", "alice", "Alicia", "Chair", None, ""), b],
        &["a1"],
    ));
    h.close_store();
    let out = crate::cli::run(
        &["compare-modes", "--job", "job.yaml", "--json"],
        h.dir.path(),
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let pairs = json["writes"].as_array().unwrap();
    assert!(json["probe"].is_null(), "no probe unless asked");
    let all: Vec<String> = pairs
        .iter()
        .flat_map(|p| {
            p["differences"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
        })
        .collect();
    assert!(
        all.iter()
            .any(|d| d.contains("\"Replace\" → \"replace\"")
                || d.contains("\"Remove\" → \"remove\"")),
        "{all:#?}"
    );
    assert!(
        all.iter().any(|d| d.contains("\"False\" → false")),
        "string vs JSON boolean: {all:#?}"
    );
    assert!(
        all.iter().any(|d| d.contains("members[value eq")),
        "member removal form: {all:#?}"
    );
    assert!(
        pairs
            .iter()
            .any(|p| p["aadOptScim062020"]["body"]["Operations"][0]
                .get("path")
                .is_none()),
        "merged path-less replace: {pairs:#?}"
    );
}

#[tokio::test]
async fn compare_modes_probe_finds_what_the_server_applies() {
    let a = user("a1", "alice", "Alice", "CEO", None, "");
    let mut h = Harness::new(
        &tenant(&[a], &[]),
        "mappings/scim-default.yaml",
        "scope: all\n",
        "",
    )
    .await;
    h.close_store();
    let out = crate::cli::run(
        &["compare-modes", "--job", "job.yaml", "--probe", "--json"],
        h.dir.path(),
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let probes = json["probe"].as_array().unwrap();
    assert_eq!(probes.len(), 10, "{probes:#?}");
    // The built-in target is Entra-compatible: every form is applied.
    assert!(probes.iter().all(|p| p["applied"] == true), "{probes:#?}");
    assert!(
        h.target.users().is_empty() && h.target.groups().is_empty(),
        "scratch objects are deleted"
    );

    // A server that rejects a form is reported with the error Entra would log.
    h.target
        .set_faults(entra_sim::target::parse_spec("PATCH /Users/*=400:times=1").unwrap());
    let out = crate::cli::run(
        &["compare-modes", "--job", "job.yaml", "--probe", "--json"],
        h.dir.path(),
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let first = &json["probe"][0];
    assert_eq!(
        (first["accepted"].as_bool(), first["mode"].as_str()),
        (Some(false), Some("default"))
    );
    assert!(
        first["detail"].as_str().unwrap().contains("BadRequest"),
        "{first}"
    );
}

#[tokio::test]
async fn offline_plans_send_nothing_and_match_the_next_cycle() {
    let a = user("a1", "alice", "Alice", "CEO", None, "");
    let b = user("b2", "bob", "Bob", "Engineer", Some("a1"), "");
    let mut h = Harness::new(
        &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        "mappings/scim-default.yaml",
        "assignments:\n  - principal: Team\n",
        "",
    )
    .await;
    h.cycle().await;
    assert!(h.plan_offline().await.is_empty(), "nothing changed");
    let c = user("c3", "carol", "Carol", "Analyst", Some("a1"), "");
    h.set_directory(&tenant(
        &[user("a1", "alice", "Alicia", "CEO", None, ""), c],
        &["a1", "c3"],
    ));
    let offline = h.plan_offline().await;
    let online = h.plan().await;
    assert_eq!(offline, online);
    h.cycle().await;
    assert_eq!(h.writes(), offline);
}
