//! Issue 3: each seed app's shipped job and mapping, end to end against the built-in target.

use serde_json::json;

use crate::support::{Harness, JobFiles, tenant, user};

/// Runs the shipped job twice: the initial cycle succeeds for every entry, the second sends nothing.
async fn initial_then_quiet(job: &str) -> Harness {
    let mut h = Harness::shipped(job).await;
    let (report, logs) = h.cycle().await;
    let failures: Vec<_> = logs
        .iter()
        .filter(|l| l.provisioning_status_info.status == entra_sim::provlog::Status::Failure)
        .map(|l| {
            format!(
                "{} {:?}",
                l.source_identity.display_name, l.provisioning_status_info.error_information
            )
        })
        .collect();
    assert!(failures.is_empty(), "{job}: {failures:#?}");
    assert!(report.counts.created > 0, "{job}: nothing created");
    let (_, _) = h.cycle().await;
    assert!(
        h.requests().is_empty(),
        "{job}: second cycle sent {:?}",
        h.requests()
    );
    h
}

#[tokio::test]
async fn sample_job_provisions_contoso_with_the_default_mapping() {
    let h = initial_then_quiet("sample").await;
    // A B2B guest's UPN is rewritten (§1.5) before it becomes the userName.
    assert!(
        h.user("sam@fabrikam.com").is_some(),
        "{:?}",
        h.target
            .users()
            .iter()
            .map(|u| u["userName"].clone())
            .collect::<Vec<_>>()
    );
    // Nested groups are not expanded: Contractors' members come in only if assigned otherwise.
    let app_users = h.group("App Users").unwrap();
    assert!(!app_users["members"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn unifi_provisions_users_groups_and_memberships() {
    let h = initial_then_quiet("unifi").await;
    let groups: Vec<String> = h
        .target
        .groups()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(groups.len(), 3, "{groups:?}");
    for group in &groups {
        let group = h.group(group).unwrap();
        assert!(!group["members"].as_array().unwrap().is_empty(), "{group}");
    }
    // externalId is the objectId in this mapping.
    let user = &h.target.users()[0];
    assert_eq!(user["externalId"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn uniflow_online_sends_the_local_username_extension() {
    let mut h = initial_then_quiet("uniflow-online").await;
    let user = &h.target.users()[0];
    let nick = user["userName"]
        .as_str()
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        user["urn:ietf:params:scim:schemas:extension:uniFLOWOnline:2.0:User"]["localUsername"],
        json!(nick)
    );
    // The custom extension URN is not added to schemas (§2.7).
    assert!(!user["schemas"].to_string().contains("uniFLOWOnline"));

    // Disable (unassign everyone) then delete isn't reachable without a hard delete: unassign.
    h.set_job_extra("scope: assigned\nassignments: []\n", "");
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.disabled, h.target.users().len());
    assert!(h.target.users().iter().all(|u| u["active"] == false));
}

#[tokio::test]
async fn uni_tel_sends_only_its_five_attributes() {
    let h = initial_then_quiet("uni-tel").await;
    for user in h.target.users() {
        let mut keys: Vec<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "active",
                "displayName",
                "id",
                "meta",
                "name",
                "roles",
                "schemas",
                "userName"
            ],
            "{user}"
        );
    }
}

#[tokio::test]
async fn unity_cloud_job_provisions_its_users() {
    let h = initial_then_quiet("unity-cloud").await;
    assert_eq!(h.target.users().len(), 3);
}

#[tokio::test]
async fn uniflow_online_creates_disables_and_deletes() {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2").nick("bob").given("Bob").title("Engineer").yaml();
    let extra = "assignments:\n  - principal: alice@contoso.com\n  - principal: bob@contoso.com\n";
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a.clone(), b.clone()], &[]),
        mapping: "mappings/uniflow-online.yaml",
        extra,
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    assert_eq!(
        h.bodies()[1],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "alice@contoso.com",
            "active": true,
            "displayName": "Alice Example",
            "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"familyName": "Example", "givenName": "Alice"},
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:uniFLOWOnline:2.0:User": {"localUsername": "alice"}
        })
    );
    // Disable: blocked sign-in.
    let b_off = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .extra("    accountEnabled: false\n")
        .yaml();
    h.set_directory(&tenant(&[a.clone(), b_off], &[]));
    h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{bob@contoso.com}",
            "PATCH /Users/{bob@contoso.com}"
        ]
    );
    assert_eq!(h.user("bob@contoso.com").unwrap()["active"], false);
    // Delete: gone from the tenant (and so from the app's assignments).
    h.set_directory(&tenant(&[a], &[]));
    h.set_job_extra("assignments:\n  - principal: alice@contoso.com\n", "");
    let (report, _) = h.cycle().await;
    assert_eq!(h.requests().len(), 1);
    assert!(h.requests()[0].starts_with("DELETE /Users/"));
    assert_eq!(report.counts.deleted, 1);
    assert!(h.user("bob@contoso.com").is_none());
}

#[tokio::test]
async fn concurrency_changes_the_pace_not_the_result() {
    let mut serial = Harness::shipped("sample").await;
    let mut parallel = Harness::shipped_with("sample", 8).await;
    let (a, _) = serial.cycle().await;
    let (b, _) = parallel.cycle().await;
    assert_eq!(a.counts, b.counts);
    let summary = |h: &Harness| {
        let mut users: Vec<String> = h
            .target
            .users()
            .iter()
            .map(|u| {
                format!(
                    "{} {} {}",
                    u["userName"],
                    u["active"],
                    h.names(
                        &u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]
                            ["value"]
                            .to_string()
                    )
                )
            })
            .collect();
        users.sort();
        let mut groups: Vec<String> = h
            .target
            .groups()
            .iter()
            .map(|g| {
                format!(
                    "{} {:?}",
                    g["displayName"],
                    h.members(g["displayName"].as_str().unwrap())
                )
            })
            .collect();
        groups.sort();
        (users, groups)
    };
    assert_eq!(summary(&serial), summary(&parallel));
    // Each object's own requests stay in order: its match query precedes its POST.
    let requests = parallel.requests();
    for (i, r) in requests.iter().enumerate() {
        if r == "POST /Users" {
            assert!(
                requests[..i]
                    .iter()
                    .any(|q| q.starts_with("GET /Users?filter="))
            );
        }
    }
}
