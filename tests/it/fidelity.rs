//! Issue 15: where real Entra traffic and Microsoft's validation tooling decide a shape — the
//! manager cleared when the source removes it, a manager the server lost sent again, and the
//! headers Entra sends (no User-Agent).

use entra_sim::provlog::{LogEntry, ProvisioningAction, Status};
use serde_json::{Value, json};

use crate::support::{Harness, JobFiles, TOKEN, Test, tenant, user};

const MANAGER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

/// Alice, and Bob whose manager is Alice (when `managed`), both assigned through `Team`.
fn directory(managed: bool) -> String {
    tenant(
        &[
            user("a1").nick("alice").given("Alice").title("CEO").yaml(),
            user("b2")
                .nick("bob")
                .given("Bob")
                .title("Engineer")
                .manager(managed.then_some("a1"))
                .yaml(),
        ],
        &["a1", "b2"],
    )
}

async fn managed_pair(url_suffix: &str) -> Harness {
    let mut h = Harness::new(JobFiles {
        directory: &directory(true),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: Team\n",
        url_suffix,
    })
    .await;
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.created, 3, "Alice, Bob and Team");
    assert_eq!(
        manager_of(&h, "bob@contoso.com"),
        Some("{alice@contoso.com}".into())
    );
    h
}

/// The manager the target holds for `user_name`, with ids as `{userName}`.
fn manager_of(h: &Harness, user_name: &str) -> Option<String> {
    let user = h.user(user_name)?;
    user.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        .and_then(|e| e.get("manager"))
        .and_then(|m| m.get("value"))
        .and_then(Value::as_str)
        .map(|id| h.names(id))
}

fn manager_entry<'a>(h: &Harness, logs: &'a [LogEntry]) -> &'a LogEntry {
    let entries: Vec<&LogEntry> = logs
        .iter()
        .filter(|l| {
            l.modified_properties
                .iter()
                .any(|p| p.display_name == MANAGER)
        })
        .collect();
    assert_eq!(entries.len(), 1, "{}", h.names(&format!("{logs:?}")));
    entries[0]
}

/// Removing `manager:` in the source clears it in the target: one PATCH, logged as an update
/// whose `manager` goes from the old id to nothing (Microsoft's `User_Update_Manager_Test`).
async fn manager_removal(url_suffix: &str, operations: Value) {
    let mut h = managed_pair(url_suffix).await;
    let alice_id = h.user("alice@contoso.com").unwrap()["id"].clone();
    h.set_directory(&directory(false));
    let (report, logs) = h.cycle().await;
    assert_eq!(
        h.requests(),
        [
            "GET /Users/{bob@contoso.com}",
            "PATCH /Users/{bob@contoso.com}"
        ]
    );
    assert_eq!(h.bodies()[1]["Operations"], operations);
    assert_eq!(manager_of(&h, "bob@contoso.com"), None);
    assert_eq!(report.counts.updated, 1);
    let entry = manager_entry(&h, &logs);
    assert_eq!(entry.provisioning_action, ProvisioningAction::Update);
    assert_eq!(entry.provisioning_status_info.status, Status::Success);
    let property = &entry.modified_properties[0];
    assert_eq!(property.old_value.as_deref(), alice_id.as_str());
    assert_eq!(property.new_value, None);

    // Cleared once: the next cycles leave Bob alone.
    h.set_directory(&format!("{}\n", directory(false)));
    h.cycle().await;
    assert!(h.writes().is_empty(), "{:?}", h.writes());
}

#[tokio::test]
async fn a_manager_removed_in_the_source_is_removed_in_the_target() {
    manager_removal(
        "",
        json!([{"op": "Remove", "path": MANAGER, "value": [{"value": "{alice@contoso.com}"}]}]),
    )
    .await;
}

#[tokio::test]
async fn a_manager_removed_in_the_source_is_removed_in_the_target_in_flag_mode() {
    manager_removal(
        "?aadOptscim062020",
        json!([{"op": "remove", "path": "manager[value eq \"{alice@contoso.com}\"]"}]),
    )
    .await;
}

/// Sends one PATCH straight to the target, as another client would.
async fn patch_target(h: &Harness, user_name: &str, operations: Value) {
    let id = h.user(user_name).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let status = reqwest::Client::new()
        .patch(format!("{}/Users/{id}", h.target.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
}

#[tokio::test]
async fn a_manager_the_server_lost_is_sent_again_when_the_user_is_read() {
    let mut h = managed_pair("").await;
    // The server loses Bob's manager and renames him behind Entra's back.
    patch_target(
        &h,
        "bob@contoso.com",
        json!([{"op": "remove", "path": MANAGER}, {"op": "replace", "path": "displayName", "value": "Robert"}]),
    )
    .await;
    assert_eq!(manager_of(&h, "bob@contoso.com"), None);
    h.close_store();
    assert_eq!(
        Test::new()
            .args(["restart", "--job", "job.yaml"])
            .current_dir(h.dir.path())
            .run_async()
            .await
            .code,
        0
    );
    let (_, logs) = h.cycle().await;
    let writes = h.writes();
    assert!(
        writes
            .iter()
            .any(|w| w.starts_with("PATCH /Users/{bob@contoso.com}")
                && w.contains("\"path\":\"displayName\"")),
        "{writes:?}"
    );
    assert!(
        writes.contains(&format!(
            "PATCH /Users/{{bob@contoso.com}} {}",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Add", "path": MANAGER, "value": "{alice@contoso.com}"}]})
        )),
        "{writes:?}"
    );
    assert_eq!(
        manager_of(&h, "bob@contoso.com"),
        Some("{alice@contoso.com}".into())
    );
    let entry = manager_entry(&h, &logs);
    assert_eq!(entry.modified_properties[0].old_value, None);

    // Another manager on the server is corrected the same way.
    patch_target(
        &h,
        "bob@contoso.com",
        json!([{"op": "replace", "path": MANAGER, "value": "someone-else"}]),
    )
    .await;
    h.close_store();
    Test::new()
        .args(["restart", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    let (_, logs) = h.cycle().await;
    assert_eq!(
        manager_of(&h, "bob@contoso.com"),
        Some("{alice@contoso.com}".into())
    );
    let entry = manager_entry(&h, &logs);
    assert_eq!(
        entry.modified_properties[0].old_value.as_deref(),
        Some("someone-else")
    );

    // A manager the server still holds is not sent again after a restart.
    h.close_store();
    Test::new()
        .args(["restart", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    h.cycle().await;
    assert!(h.writes().is_empty(), "{:?}", h.writes());
}

#[tokio::test]
async fn requests_carry_no_user_agent_unless_the_job_sets_one() {
    headers("").await;
}

#[tokio::test]
async fn requests_carry_no_user_agent_unless_the_job_sets_one_in_flag_mode() {
    headers("?aadOptscim062020").await;
}

async fn headers(url_suffix: &str) {
    let mut h = managed_pair(url_suffix).await;
    h.set_directory(&directory(false));
    h.cycle().await;
    let requests = h.target.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.headers.get("user-agent"), None, "{} {}", r.method, r.path);
        assert_eq!(r.headers.get("accept").map(String::as_str), Some("*/*"));
        let content_type = r.headers.get("content-type").map(String::as_str);
        match r.method.as_str() {
            "GET" | "DELETE" => assert_eq!(content_type, None),
            _ => assert_eq!(content_type, Some("application/scim+json; charset=utf-8")),
        }
    }

    h.set_job_extra(
        "assignments:\n  - principal: Team\nsettings:\n  user_agent: Contoso-Gateway/1.0\n",
        url_suffix,
    );
    h.set_directory(&directory(true));
    h.cycle().await;
    let requests = h.target.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            r.headers.get("user-agent").map(String::as_str),
            Some("Contoso-Gateway/1.0")
        );
    }
}
