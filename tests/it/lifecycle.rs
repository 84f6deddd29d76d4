//! Issue 3: the same directory story run through every shipped mapping — initial cycle, attribute
//! change, manager change, unassignment, soft delete, group membership change, hard delete — with
//! the exact request sequence each mapping makes Entra send, and the target's final state.

use crate::support::{Harness, JobFiles, tenant, user};

struct App {
    mapping: &'static str,
    /// The mapping links managers.
    manager: bool,
    /// The mapping provisions groups and memberships.
    groups: bool,
}

const APPS: &[App] = &[
    App {
        mapping: "mappings/scim-default.yaml",
        manager: true,
        groups: true,
    },
    App {
        mapping: "mappings/unifi.yaml",
        manager: false,
        groups: true,
    },
    App {
        mapping: "mappings/uniflow-online.yaml",
        manager: false,
        groups: false,
    },
    App {
        mapping: "mappings/uni-tel.yaml",
        manager: false,
        groups: false,
    },
    App {
        mapping: "mappings/unity-cloud.yaml",
        manager: false,
        groups: false,
    },
];

const JOB: &str = "assignments:\n  - principal: Team\n  - principal: carol@contoso.com\n";

fn matched(name: &str) -> [String; 2] {
    [
        format!("GET /Users?filter=userName+eq+%22{name}%40contoso.com%22"),
        "POST /Users".to_string(),
    ]
}

fn read_patch(name: &str) -> Vec<String> {
    vec![
        format!("GET /Users/{{{name}@contoso.com}}"),
        format!("PATCH /Users/{{{name}@contoso.com}}"),
    ]
}

async fn story(app: &App) {
    let m = app.mapping;
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
        .manager("a1")
        .yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[alice.clone(), bob.clone(), carol.clone()], &["a1", "b2"]),
        mapping: m,
        extra: JOB,
        ..JobFiles::default()
    })
    .await;

    // Initial.
    h.cycle().await;
    let mut expected: Vec<String> = ["alice", "bob", "carol"]
        .iter()
        .flat_map(|n| matched(n))
        .collect();
    if app.groups {
        expected
            .push("GET /Groups?excludedAttributes=members&filter=displayName+eq+%22Team%22".into());
        expected.push("POST /Groups".into());
    }
    if app.manager {
        expected.push("PATCH /Users/{bob@contoso.com}".into());
        expected.push("PATCH /Users/{carol@contoso.com}".into());
    }
    if app.groups {
        expected.push("PATCH /Groups/{Team}".into());
    }
    assert_eq!(h.requests(), expected, "{m}: initial");

    // Attribute change.
    let carol2 = user("c3")
        .nick("carol")
        .given("Caroline")
        .title("Analyst")
        .manager("a1")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), bob.clone(), carol2.clone()],
        &["a1", "b2"],
    ));
    h.cycle().await;
    assert_eq!(h.requests(), read_patch("carol"), "{m}: attribute change");

    // Manager change: a read, and a manager PATCH only where the mapping links managers.
    let carol3 = user("c3")
        .nick("carol")
        .given("Caroline")
        .title("Analyst")
        .manager("b2")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), bob.clone(), carol3.clone()],
        &["a1", "b2"],
    ));
    h.cycle().await;
    let expected = if app.manager {
        read_patch("carol")
    } else {
        read_patch("carol")[..1].to_vec()
    };
    assert_eq!(h.requests(), expected, "{m}: manager change");

    // Unassignment → disable.
    h.set_job_extra("assignments:\n  - principal: Team\n", "");
    h.cycle().await;
    assert_eq!(h.requests(), read_patch("carol"), "{m}: unassignment");
    assert_eq!(h.user("carol@contoso.com").unwrap()["active"], false, "{m}");

    // Soft delete of an assigned user → disable through the active mapping.
    let bob_soft = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .extra("    softDeleted: true\n")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), bob_soft.clone(), carol3.clone()],
        &["a1", "b2"],
    ));
    h.cycle().await;
    assert_eq!(h.requests(), read_patch("bob"), "{m}: soft delete");
    assert_eq!(h.user("bob@contoso.com").unwrap()["active"], false, "{m}");

    // Group membership change: dave joins the team (and so the app).
    let dave = user("d4")
        .nick("dave")
        .given("Dave")
        .title("Engineer")
        .yaml();
    h.set_directory(&tenant(
        &[alice.clone(), bob_soft, carol3.clone(), dave.clone()],
        &["a1", "b2", "d4"],
    ));
    h.cycle().await;
    let mut expected: Vec<String> = matched("dave").to_vec();
    if app.groups {
        expected.push("GET /Groups/{Team}?excludedAttributes=members".into());
        expected.push("PATCH /Groups/{Team}".into());
    }
    assert_eq!(h.requests(), expected, "{m}: membership change");

    // Hard delete of bob (gone from the tenant and the group).
    // (Carol's manager was bob: Entra clears the reference; she is unmanaged, so nothing is sent.)
    h.set_directory(&tenant(&[alice, carol2, dave], &["a1", "d4"]));
    h.cycle().await;
    let mut expected = Vec::new();
    if app.groups {
        expected.push("GET /Groups/{Team}?excludedAttributes=members".to_string());
        expected.push("PATCH /Groups/{Team}".to_string());
    }
    expected.push("DELETE /Users/{bob@contoso.com}".to_string());
    assert_eq!(h.requests(), expected, "{m}: hard delete");

    // Final state.
    let users: Vec<String> = h
        .target
        .users()
        .iter()
        .map(|u| format!("{} {}", u["userName"].as_str().unwrap(), u["active"]))
        .collect();
    assert_eq!(
        users,
        vec![
            "alice@contoso.com true",
            "carol@contoso.com false",
            "dave@contoso.com true"
        ],
        "{m}"
    );
    if app.groups {
        assert_eq!(
            h.members("Team"),
            vec!["{alice@contoso.com}", "{dave@contoso.com}"],
            "{m}"
        );
    } else {
        assert!(h.target.groups().is_empty(), "{m}");
    }
}

#[tokio::test]
async fn every_shipped_mapping_tells_the_same_story() {
    for app in APPS {
        story(app).await;
    }
}
