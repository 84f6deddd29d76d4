//! Issue 15, items 4 and 5: the app roles every Entra app has without declaring them, and a
//! deleted object taking its assignments, memberships and manager links with it.

use serde_json::json;

use crate::support::{Harness, JobFiles, Test, repo, tenant, user};

/// Uni-tel's mapping plus `roles` from `SingleAppRoleAssignment`, as in Entra's SCIM template.
fn with_roles(h: &mut Harness) {
    let base = std::fs::read_to_string(repo("mappings/uni-tel.yaml")).unwrap();
    let path = h.dir.path().join("mapping.yaml");
    std::fs::write(
        &path,
        format!(
            "{base}    - target: roles[primary eq \"True\"].value\n      expression: SingleAppRoleAssignment([appRoleAssignments])\n"
        ),
    )
    .unwrap();
    h.set_mapping(&path);
}

/// A role-less assignment is the built-in "User" role's, as Graph's provisionOnDemand example
/// shows a role-less assigned user's appRoleAssignments ("User"); `role: User` needs no
/// app_roles entry.
#[tokio::test]
async fn a_role_less_assignment_exports_the_built_in_user_role() {
    let people = [
        user("a1").nick("alice").given("Alice").title("CEO").yaml(),
        user("b1").nick("bob").given("Bob").title("CFO").yaml(),
    ];
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&people, &[]),
        extra: "",
        ..JobFiles::default()
    })
    .await;
    with_roles(&mut h);
    h.set_job_extra(
        "assignments:\n  - principal: a1\n  - principal: b1\n    role: User\n",
        "",
    );
    let (report, logs) = h.cycle().await;
    assert_eq!(report.counts.created, 2);
    let user_role =
        json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "User"}]);
    for name in ["alice@contoso.com", "bob@contoso.com"] {
        assert_eq!(h.user(name).unwrap()["roles"], user_role, "{name}");
    }
    let alice = logs
        .iter()
        .find(|l| l.source_identity.display_name == "alice@contoso.com")
        .expect("alice's entry");
    let roles = alice
        .modified_properties
        .iter()
        .find(|p| p.display_name.starts_with("roles"))
        .expect("roles exported");
    assert_eq!(roles.new_value.as_deref(), Some("User"));
}

/// Alice, assigned directly and through Team, Bob's manager and Team's member, deleted from the
/// directory while the job's assignment, Team and Bob still name her: the job loads, Alice is
/// deleted and Team loses her, as Entra's own cascade would have it.
#[tokio::test]
async fn a_deleted_user_is_deleted_and_leaves_its_groups() {
    let alice = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let bob = user("b1")
        .nick("bob")
        .given("Bob")
        .title("CFO")
        .manager("a1")
        .yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[alice, bob.clone()], &["a1", "b1"]),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: a1\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    assert_eq!(
        h.members("Team"),
        ["{alice@contoso.com}", "{bob@contoso.com}"]
    );

    h.set_directory(&tenant(&[bob], &["a1", "b1"]));
    let warnings: Vec<String> = h
        .loaded()
        .job
        .warnings
        .iter()
        .map(|w| {
            w.to_string()
                .replace(&format!("{}/", h.dir.path().display()), "")
        })
        .collect();
    assert_eq!(
        warnings,
        [
            "job.yaml:7:16: assignments[0].principal: \"a1\" names no user or group; treated as deleted",
            "directory.yaml:10:14: users[0].manager: \"a1\" names no user or group; treated as deleted",
            "directory.yaml:15:9: groups[0].members[0]: \"a1\" names no user or group; treated as deleted",
        ]
    );
    let (report, _) = h.cycle().await;
    let writes = h.writes();
    assert!(
        writes.contains(&"DELETE /Users/{alice@contoso.com} ".to_owned()),
        "{writes:?}"
    );
    assert!(
        writes.iter().any(|w| w.starts_with("PATCH /Groups/{Team}")
            && w.contains("\"op\":\"Remove\"")
            && w.contains("{alice@contoso.com}")),
        "{writes:?}"
    );
    // Bob's manager link goes with her, before she is deleted (references precede deletes).
    let cleared = writes
        .iter()
        .position(|w| {
            w.starts_with("PATCH /Users/{bob@contoso.com}")
                && w.contains("\"op\":\"Remove\"")
                && w.contains(":User:manager")
        })
        .unwrap_or_else(|| panic!("{writes:?}"));
    let deleted = writes
        .iter()
        .position(|w| w.starts_with("DELETE /Users/{alice@contoso.com}"))
        .unwrap_or_else(|| panic!("{writes:?}"));
    assert!(cleared < deleted, "{writes:?}");
    assert_eq!(report.counts.deleted, 1);
    assert!(h.user("alice@contoso.com").is_none());
    assert_eq!(h.members("Team"), ["{bob@contoso.com}"]);
    let bob = h.user("bob@contoso.com").unwrap();
    assert_eq!(
        bob["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].get("manager"),
        None
    );
}

/// The README's recipe "Accidental deletions" with the sample job: `deletion_threshold: 1`, two
/// users removed from the Contoso directory — Megan (assigned directly, a manager) and Björn (a
/// member of two groups, a manager) — and a cycle: both staged, no DELETE sent, quarantine
/// `TooManyDeletes`; `restart --scope ForceDeletes` lets them through.
#[tokio::test]
async fn the_readme_deletion_guard_recipe_works_with_the_sample_job() {
    let mut h = Harness::shipped("sample").await;
    let job = std::fs::read_to_string(h.job_path()).unwrap();
    let mut extra: serde_yaml::Value =
        serde_yaml::from_str(job.split_once("token_file: token\n").unwrap().1).unwrap();
    extra["settings"]["deletion_threshold"] = 1.into();
    h.set_job_extra(&serde_yaml::to_string(&extra).unwrap(), "");
    h.cycle().await;
    let gone = ["megan.bowen@contoso.com", "bjorn.odegard@contoso.com"];
    assert!(gone.iter().all(|u| h.user(u).is_some()));

    let contoso = std::fs::read_to_string(repo("directory-samples/contoso.yaml")).unwrap();
    let kept = without_users(&contoso, &gone);
    assert_eq!(
        kept.matches("userPrincipalName:").count() + 2,
        contoso.matches("userPrincipalName:").count()
    );
    h.set_directory(&kept);

    let (report, logs) = h.cycle().await;
    let deletes: Vec<String> = h
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("DELETE"))
        .collect();
    assert!(deletes.is_empty(), "{deletes:?}");
    assert_eq!(report.staged_deletes, 2);
    assert_eq!(report.quarantine.as_deref(), Some("TooManyDeletes"));
    let staged: Vec<&str> = logs
        .iter()
        .filter(|l| l.provisioning_action == entra_sim::provlog::ProvisioningAction::StagedDelete)
        .map(|l| l.source_identity.display_name.as_str())
        .collect();
    assert_eq!(staged.len(), 2, "{staged:?}");

    h.close_store();
    let restart = Test::new()
        .args(["restart", "--job", "job.yaml", "--scope", "ForceDeletes"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(restart.code, 0, "{}", restart.stderr);
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.deleted, 2);
    assert!(gone.iter().all(|u| h.user(u).is_none()));
}

/// A YAML directory without the entries of the users with these userPrincipalNames (what names
/// them elsewhere is left as it is).
fn without_users(text: &str, upns: &[&str]) -> String {
    let mut out = String::new();
    let mut entry = String::new();
    let mut flush = |entry: &mut String| {
        if !upns
            .iter()
            .any(|u| entry.contains(&format!("userPrincipalName: {u}\n")))
        {
            out.push_str(entry);
        }
        entry.clear();
    };
    for line in text.split_inclusive('\n') {
        if line.starts_with("  - ") || !line.starts_with(' ') {
            flush(&mut entry);
        }
        entry.push_str(line);
    }
    flush(&mut entry);
    out
}

/// `run` prints a deleted object's warnings once per load of the files, not once per cycle, and
/// goes on.
#[tokio::test]
async fn run_prints_the_warnings_of_a_load_once() {
    let alice = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let bob = user("b1")
        .nick("bob")
        .given("Bob")
        .title("CFO")
        .manager("a1")
        .yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[alice, bob.clone()], &["a1", "b1"]),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    h.set_directory(&tenant(&[bob], &["a1", "b1"]));
    h.close_store();
    let run = Test::new()
        .args([
            "run",
            "--job",
            "job.yaml",
            "--virtual-time",
            "--until",
            "3h",
        ])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(
        warnings,
        [
            "warning: directory.yaml:10:14: users[0].manager: \"a1\" names no user or group; treated as deleted",
            "warning: directory.yaml:15:9: groups[0].members[0]: \"a1\" names no user or group; treated as deleted",
        ],
        "{}",
        run.stderr
    );
    let cycles = run.stdout.matches("incremental cycle:").count();
    assert!(cycles >= 4, "{}", run.stdout);
    assert!(h.user("alice@contoso.com").is_none());
}
