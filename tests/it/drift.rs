//! Issue 6: `drift` finds what changed behind Entra's back — attributes, members, deleted objects —
//! and exits 1 so it can gate CI.

use serde_json::json;

use crate::support::{Harness, JobFiles, TOKEN, Test, tenant, user};

async fn send(h: &Harness, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method, format!("{}{path}", h.target.base_url()))
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

#[tokio::test]
async fn drift_reports_changes_made_behind_entras_back() {
    let users = [
        user("a1").nick("alice").given("Alice").title("CEO").yaml(),
        user("b2").nick("bob").given("Bob").title("Engineer").yaml(),
        user("c3")
            .nick("carol")
            .given("Carol")
            .title("Analyst")
            .yaml(),
    ];
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users, &["a1", "b2"]),
        mapping: "mappings/unifi.yaml",
        extra: "assignments:\n  - principal: Team\n  - principal: c3\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    h.close_store();
    let clean = Test::new()
        .args(["drift", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    clean.status(0);

    let alice = h.user("alice@contoso.com").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = h.user("bob@contoso.com").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let carol = h.user("carol@contoso.com").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let team = h.group("Team").unwrap()["id"].as_str().unwrap().to_string();
    let patch = |ops: serde_json::Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    send(
        &h,
        reqwest::Method::PATCH,
        &format!("/Users/{alice}"),
        Some(patch(
            json!([{"op": "replace", "path": "displayName", "value": "Someone Else"}]),
        )),
    )
    .await;
    send(&h, reqwest::Method::PATCH, &format!("/Groups/{team}"), Some(patch(json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}, {"op": "add", "path": "members", "value": [{"value": carol}]}])))).await;
    send(
        &h,
        reqwest::Method::DELETE,
        &format!("/Users/{carol}"),
        None,
    )
    .await;

    let out = Test::new()
        .args(["drift", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    out.status(1);
    let drifts: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let kinds: Vec<(String, String)> = drifts
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("changed".into(), "alice@contoso.com".into())),
        "{drifts:#?}"
    );
    assert!(
        kinds.contains(&("deleted".into(), "carol@contoso.com".into())),
        "{drifts:#?}"
    );
    assert!(
        kinds.contains(&("missingMembers".into(), "Team".into())),
        "{drifts:#?}"
    );
    let missing = drifts
        .iter()
        .find(|d| d["kind"] == "missingMembers")
        .unwrap();
    assert_eq!(missing["detail"], "bob@contoso.com");
    assert!(
        drifts.iter().find(|d| d["kind"] == "changed").unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("Someone Else")
    );
}
