//! Issue 3: the `aadOptscim062020` dialect (§2.5) in real cycles — the flag rides in the Tenant URL,
//! never in request paths; lower-case ops, JSON booleans, one path-less merged replace, members
//! removed by `members[value eq "…"]`.

use serde_json::json;

use crate::support::{Harness, JobFiles, tenant, user};

#[tokio::test]
async fn flag_mode_cycles_use_the_2020_dialect() {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    let extra = "assignments:\n  - principal: Team\n";
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        mapping: "mappings/scim-default.yaml",
        extra,
        url_suffix: "?aadOptscim062020",
    })
    .await;
    h.cycle().await;
    assert!(
        h.target
            .requests()
            .iter()
            .all(|r| !r.path.contains("aadOptscim062020"))
    );
    let bodies = h.bodies();
    let requests = h.requests();
    let manager = requests
        .iter()
        .position(|r| r == "PATCH /Users/{bob@contoso.com}")
        .unwrap();
    assert_eq!(
        bodies[manager]["Operations"],
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "{alice@contoso.com}"}])
    );
    let members = requests
        .iter()
        .position(|r| r == "PATCH /Groups/{Team}")
        .unwrap();
    assert_eq!(
        bodies[members]["Operations"],
        json!([{"op": "add", "path": "members", "value": [{"value": "{alice@contoso.com}"}, {"value": "{bob@contoso.com}"}]}])
    );

    // Several plain attributes change: one path-less replace with dotted keys.
    let a2 = user("a1")
        .nick("alice")
        .given("Alicia")
        .title("Chair")
        .yaml();
    h.set_directory(&tenant(&[a2.clone(), b.clone()], &["a1", "b2"]));
    h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{alice@contoso.com}",
            "PATCH /Users/{alice@contoso.com}"
        ]
    );
    assert_eq!(
        h.bodies()[1]["Operations"],
        json!([{"op": "replace", "value": {"displayName": "Alicia Example", "title": "Chair", "name.givenName": "Alicia", "name.formatted": "Alicia Example"}}])
    );
    let alice = h.user("alice@contoso.com").unwrap();
    assert_eq!(alice["name"]["givenName"], "Alicia");

    // Bob leaves the group (and so scope): member removal by filter, disable with a JSON boolean.
    h.set_directory(&tenant(&[a2, b], &["a1"]));
    h.cycle().await;
    let requests = h.requests();
    let bodies = h.bodies();
    let removal = requests
        .iter()
        .position(|r| r == "PATCH /Groups/{Team}")
        .unwrap();
    let bob_id = h.user("bob@contoso.com").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        bodies[removal]["Operations"],
        json!([{"op": "remove", "path": format!("members[value eq \"{{bob@contoso.com}}\"]")}])
    );
    let disable = requests
        .iter()
        .rposition(|r| r == "PATCH /Users/{bob@contoso.com}")
        .unwrap();
    assert_eq!(
        bodies[disable]["Operations"],
        json!([{"op": "replace", "path": "active", "value": false}])
    );
    assert_eq!(h.members("Team"), vec!["{alice@contoso.com}"]);
    assert_eq!(h.user("bob@contoso.com").unwrap()["active"], false);
    assert!(!bob_id.is_empty());
}
