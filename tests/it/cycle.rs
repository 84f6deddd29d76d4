//! Issue 3: real cycles over HTTP against the built-in target with the default SCIM mapping — the
//! initial cycle, then directory edits followed by incremental cycles, asserting the exact request
//! sequence and the target's final state.

use serde_json::json;

use crate::support::{Harness, JobFiles, tenant, user, users};

const ASSIGNED: &str = "assignments:\n  - principal: Team\n  - principal: carol@contoso.com\n";

#[tokio::test]
async fn default_mapping_lifecycle_sends_exactly_what_entra_sends() {
    let alice = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let bob = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    let carol = user("c3")
        .nick("carol")
        .given("Carol")
        .title("Analyst")
        .manager("alice@contoso.com")
        .yaml();
    let erin = user("e5").nick("erin").given("Erin").title("Nobody").yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(
            &[alice.clone(), bob.clone(), carol.clone(), erin.clone()],
            &["a1", "b2"],
        ),
        mapping: "mappings/scim-default.yaml",
        extra: ASSIGNED,
        ..JobFiles::default()
    })
    .await;

    // Initial cycle: match → create per user, group created empty, then references.
    let (report, logs) = h.cycle().await;
    assert_eq!(report.kind, entra_sim::plan::CycleKind::Initial);
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users?filter=userName+eq+%22alice%40contoso.com%22",
            "POST /Users",
            "GET /Users?filter=userName+eq+%22bob%40contoso.com%22",
            "POST /Users",
            "GET /Users?filter=userName+eq+%22carol%40contoso.com%22",
            "POST /Users",
            "GET /Groups?excludedAttributes=members&filter=displayName+eq+%22Team%22",
            "POST /Groups",
            "PATCH /Users/{bob@contoso.com}",
            "PATCH /Users/{carol@contoso.com}",
            "PATCH /Groups/{Team}",
        ]
    );
    let bodies = h.bodies();
    assert_eq!(
        bodies[1],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "alice",
            "userName": "alice@contoso.com",
            "active": true,
            "displayName": "Alice Example",
            "title": "CEO",
            "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Alice Example", "familyName": "Example", "givenName": "Alice"},
            "roles": []
        })
    );
    assert_eq!(
        bodies[7],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "g1",
            "displayName": "Team",
            "meta": {"resourceType": "Group"}
        })
    );
    assert_eq!(
        bodies[8],
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "{alice@contoso.com}"}]})
    );
    assert_eq!(
        bodies[10],
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "{alice@contoso.com}"}, {"$ref": null, "value": "{bob@contoso.com}"}]}]})
    );
    assert_eq!(report.counts.created, 4);
    assert_eq!(report.counts.updated, 3);
    assert_eq!(report.counts.failed, 0);
    assert!(logs.iter().all(|l| l.cycle_id == report.cycle_id));
    assert!(
        h.user("erin@contoso.com").is_none(),
        "unassigned users are not provisioned"
    );
    assert_eq!(
        h.members("Team"),
        vec!["{alice@contoso.com}", "{bob@contoso.com}"]
    );

    // Nothing changed: an incremental cycle sends nothing.
    let (report, _) = h.cycle().await;
    assert_eq!(report.kind, entra_sim::plan::CycleKind::Incremental);
    assert!(h.requests().is_empty(), "{:?}", h.requests());

    // Attribute change: read by anchor, PATCH only what differs.
    let carol2 = user("c3")
        .nick("carol")
        .given("Carol")
        .title("Lead")
        .manager("a1")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), bob.clone(), carol2.clone(), erin.clone()],
        &["a1", "b2"],
    ));
    let (report, _) = h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{carol@contoso.com}",
            "PATCH /Users/{carol@contoso.com}"
        ]
    );
    assert_eq!(
        h.bodies()[1],
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "title", "value": "Lead"}]})
    );
    assert_eq!(report.counts.updated, 1);

    // Manager change: the read finds nothing else to change; the manager is re-linked.
    let bob2 = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("c3")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), bob2.clone(), carol2.clone(), erin.clone()],
        &["a1", "b2"],
    ));
    let (_, logs) = h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{bob@contoso.com}",
            "PATCH /Users/{bob@contoso.com}"
        ]
    );
    assert_eq!(
        h.bodies()[1]["Operations"][0]["value"],
        "{carol@contoso.com}"
    );
    assert_eq!(
        logs[0]
            .provisioning_status_info
            .error_information
            .as_ref()
            .unwrap()
            .error_code,
        "RedundantExport"
    );
    assert_eq!(
        h.user("bob@contoso.com").unwrap()["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
            ["manager"]["value"],
        h.user("carol@contoso.com").unwrap()["id"]
    );

    // Unassignment: disable (string boolean in default mode), then no longer managed.
    h.set_job_extra("assignments:\n  - principal: Team\n", "");
    let (report, _) = h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{carol@contoso.com}",
            "PATCH /Users/{carol@contoso.com}"
        ]
    );
    assert_eq!(
        h.bodies()[1],
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    );
    assert_eq!(report.counts.disabled, 1);
    assert_eq!(h.user("carol@contoso.com").unwrap()["active"], false);

    // Soft delete while assigned: the active mapping turns it into a disable PATCH.
    let bob3 = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("c3")
        .extra("    softDeleted: true\n")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), bob3, carol2.clone(), erin.clone()],
        &["a1", "b2"],
    ));
    let (report, _) = h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{bob@contoso.com}",
            "PATCH /Users/{bob@contoso.com}"
        ]
    );
    assert_eq!(
        h.bodies()[1]["Operations"],
        json!([{"op": "Replace", "path": "active", "value": "False"}])
    );
    assert_eq!(report.counts.disabled, 1);

    // Hard delete (gone from the tenant and so from the group) and a new member: create the new
    // user, re-read the group, member PATCHes, then DELETE.
    let dave = user("d4")
        .nick("dave")
        .given("Dave")
        .title("Engineer")
        .manager("a1")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), carol2.clone(), erin.clone(), dave],
        &["a1", "d4"],
    ));
    let (report, _) = h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users?filter=userName+eq+%22dave%40contoso.com%22",
            "POST /Users",
            "GET /Groups/{Team}?excludedAttributes=members",
            "PATCH /Users/{dave@contoso.com}",
            "PATCH /Groups/{Team}",
            "PATCH /Groups/{Team}",
            "DELETE /Users/{bob@contoso.com}",
        ]
    );
    assert_eq!(report.counts.deleted, 1);
    assert_eq!(report.counts.created, 1);
    assert!(h.user("bob@contoso.com").is_none());
    assert_eq!(
        h.members("Team"),
        vec!["{alice@contoso.com}", "{dave@contoso.com}"]
    );

    // Final state of the target.
    let users: Vec<String> = h
        .target
        .users()
        .iter()
        .map(|u| format!("{} active={}", u["userName"].as_str().unwrap(), u["active"]))
        .collect();
    assert_eq!(
        users,
        vec![
            "alice@contoso.com active=true",
            "carol@contoso.com active=false",
            "dave@contoso.com active=true"
        ]
    );
}

/// Entra keeps provisioning logs for a retention period (30 days by default): a cycle that reads
/// the tenant 32 days after the first one drops the first one's records, and keeps its own.
#[tokio::test]
async fn log_records_older_than_the_retention_are_dropped_when_a_cycle_starts() {
    let mut h = Harness::users(2).await;
    let (_, first) = h.cycle().await;
    assert_eq!(first.len(), 2);
    h.clock.advance(chrono::Duration::days(32));
    h.set_directory(&tenant(&users(3), &[]));
    let (_, second) = h.cycle().await;
    h.close_store();
    let kept: Vec<String> = h
        .loaded()
        .store()
        .unwrap()
        .logs()
        .unwrap()
        .into_iter()
        .map(|l| l.cycle_id)
        .collect();
    assert!(!kept.is_empty());
    assert!(
        kept.iter().all(|c| *c == second[0].cycle_id),
        "only the second cycle's records: {kept:?}"
    );
}

/// Issue 18 item 14: a cycle that does not read the tenant (the source is byte for byte the last
/// clean cycle's) drops expired records too — 200 days of such cycles kept day 0's records.
#[tokio::test]
async fn log_records_older_than_the_retention_are_dropped_by_unchanged_cycles_too() {
    let mut h = Harness::users(2).await;
    let (_, first) = h.cycle().await;
    assert_eq!(first.len(), 2);
    h.clock.advance(chrono::Duration::days(32));
    let (report, second) = h.cycle().await;
    assert!(report.source_unchanged, "{report:?}");
    assert!(second.is_empty());
    h.close_store();
    let kept = h.loaded().store().unwrap().logs().unwrap();
    assert!(kept.is_empty(), "{kept:?}");
}
