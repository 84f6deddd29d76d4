//! Issue 3: scope in real cycles — groups leaving scope are deleted, `skip_out_of_scope_deletions`,
//! scoping filters with skipped log entries, a mapping change forcing an initial cycle, and roles.

use serde_json::json;

use crate::support::{Harness, JobFiles, tenant, user};

fn write_mapping(h: &Harness, text: &str) -> std::path::PathBuf {
    let path = h.dir.path().join("mapping.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn a_group_leaving_scope_is_deleted_and_its_users_disabled() {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(std::slice::from_ref(&a), &["a1"]),
        mapping: "mappings/unifi.yaml",
        extra: "assignments:\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    assert!(h.group("Team").is_some());
    h.set_job_extra("assignments: []\n", "");
    let (report, _) = h.cycle().await;
    let requests = h.requests();
    assert!(
        requests.contains(&"DELETE /Groups/{Team}".to_string())
            || requests.iter().any(|r| r.starts_with("DELETE /Groups/")),
        "{requests:?}"
    );
    assert_eq!((report.counts.deleted, report.counts.disabled), (1, 1));
    assert!(h.group("Team").is_none());
    assert_eq!(h.user("alice@contoso.com").unwrap()["active"], false);
}

#[tokio::test]
async fn skip_out_of_scope_deletions_sends_nothing_on_unassignment() {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a], &[]),
        extra: "assignments:\n  - principal: a1\nsettings:\n  skip_out_of_scope_deletions: true\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    h.set_job_extra(
        "assignments: []\nsettings:\n  skip_out_of_scope_deletions: true\n",
        "",
    );
    let (report, logs) = h.cycle().await;
    assert!(h.requests().is_empty(), "{:?}", h.requests());
    assert_eq!(report.counts.skipped, 1);
    assert_eq!(
        logs[0]
            .provisioning_status_info
            .error_information
            .as_ref()
            .unwrap()
            .error_code,
        "SkipOutOfScopeDeletions"
    );
    assert_eq!(h.user("alice@contoso.com").unwrap()["active"], true);
}

#[tokio::test]
async fn scoping_filters_decide_and_a_mapping_change_forces_an_initial_cycle() {
    let a = user("a1")
        .nick("alice")
        .given("Alice")
        .title("CEO")
        .extra("    department: Sales\n")
        .yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .extra("    department: Engineering\n")
        .yaml();
    let h0 = Harness::new(JobFiles {
        directory: &tenant(&[a.clone(), b.clone()], &[]),
        ..JobFiles::default()
    })
    .await;
    let base = std::fs::read_to_string(crate::support::repo("mappings/uni-tel.yaml")).unwrap();
    let filtered = format!(
        "{base}  scoping:\n    - name: Sales only\n      clauses:\n        - {{ attribute: department, operator: EQUALS, value: Sales }}\n"
    );
    let path = write_mapping(&h0, &filtered);
    let mut h = h0;
    h.set_mapping(&path);
    h.set_job_extra("scope: all\n", "");
    let (report, logs) = h.cycle().await;
    assert_eq!(report.counts.created, 1);
    assert!(h.user("bob@contoso.com").is_none());
    let skipped = logs
        .iter()
        .find(|l| l.source_identity.display_name == "bob@contoso.com")
        .unwrap();
    assert_eq!(
        skipped
            .provisioning_status_info
            .error_information
            .as_ref()
            .unwrap()
            .error_code,
        "ScopingFilterNotMatched"
    );
    let scoping = skipped
        .provisioning_steps
        .iter()
        .find(|s| s.name == "EntrySynchronizationScoping")
        .unwrap();
    assert_eq!(
        scoping.details["department EQUALS Sales → false"],
        json!(false)
    );

    // Widening the filter is a mapping change: the next cycle is initial and re-evaluates everyone.
    let widened = filtered
        .replace("value: Sales }", "value: Engineering }")
        .replace("Sales only", "Engineering");
    std::fs::write(&path, format!("{widened}    - name: Sales\n      clauses:\n        - {{ attribute: department, operator: EQUALS, value: Sales }}\n")).unwrap();
    let (report, _) = h.cycle().await;
    assert_eq!(report.kind, entra_sim::plan::CycleKind::Initial);
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{alice@contoso.com}",
            "GET /Users?filter=userName+eq+%22bob%40contoso.com%22",
            "POST /Users"
        ]
    );
    assert_eq!((report.counts.created, report.counts.skipped), (1, 1));
}

#[tokio::test]
async fn single_app_role_assignment_flows_as_entra_shapes_roles() {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let h0 = Harness::new(JobFiles {
        directory: &tenant(&[a], &[]),
        extra: "",
        ..JobFiles::default()
    })
    .await;
    let base = std::fs::read_to_string(crate::support::repo("mappings/uni-tel.yaml")).unwrap();
    let path = write_mapping(
        &h0,
        &format!(
            "{base}    - target: roles[primary eq \"True\"].value\n      expression: SingleAppRoleAssignment([appRoleAssignments])\n"
        ),
    );
    let mut h = h0;
    h.set_mapping(&path);
    h.set_job_extra("app_roles:\n  - { id: 5b3f2a8e-7c41-4d2b-9a6e-1f0c8d9e2a71, value: Admin, display_name: Administrator }\nassignments:\n  - { principal: a1, role: Admin }\n", "");
    h.cycle().await;
    assert_eq!(
        h.bodies()[1]["roles"],
        json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}])
    );
}
