//! Issue 6: `plan` sends only reads, changes nothing, and the following cycle sends exactly the
//! planned writes.

use crate::support::{Harness, JobFiles, Test, tenant, user};

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
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    let c = user("c3")
        .nick("carol")
        .given("Carol")
        .title("Analyst")
        .manager("a1")
        .yaml();
    h.set_directory(&tenant(
        &[
            user("a1").nick("alice").given("Alicia").title("CEO").yaml(),
            c,
        ],
        &["a1", "c3"],
    ));
    let planned = h.plan().await;
    assert_eq!(planned.len(), 6, "{planned:#?}");
    h.cycle().await;
    assert_eq!(h.writes(), planned);
}

#[tokio::test]
async fn compare_modes_shows_the_dialect_differences() {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    h.set_directory(&tenant(
        &[
            user("a1")
                .nick("alice")
                .given("Alicia")
                .title("Chair")
                .yaml(),
            b,
        ],
        &["a1"],
    ));
    h.close_store();
    let out = Test::new()
        .args(["compare-modes", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
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
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a], &[]),
        mapping: "mappings/scim-default.yaml",
        ..JobFiles::default()
    })
    .await;
    h.close_store();
    let out = Test::new()
        .args(["compare-modes", "--job", "job.yaml", "--probe", "--json"])
        .current_dir(h.dir.path())
        .run_async()
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
    let out = Test::new()
        .args(["compare-modes", "--job", "job.yaml", "--probe", "--json"])
        .current_dir(h.dir.path())
        .run_async()
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
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    assert!(h.plan_offline().await.is_empty(), "nothing changed");
    let c = user("c3")
        .nick("carol")
        .given("Carol")
        .title("Analyst")
        .manager("a1")
        .yaml();
    h.set_directory(&tenant(
        &[
            user("a1").nick("alice").given("Alicia").title("CEO").yaml(),
            c,
        ],
        &["a1", "c3"],
    ));
    let offline = h.plan_offline().await;
    let online = h.plan().await;
    assert_eq!(offline, online);
    h.cycle().await;
    assert_eq!(h.writes(), offline);
}
