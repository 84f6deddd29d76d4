//! Issue 17: `target serve --quirk NAME` turns on a real server's behaviour; an unknown name is
//! an argument error (exit 3) that lists the known ones.

use serde_json::json;

use crate::support::{TOKEN, Test, serve_target};

#[test]
fn an_unknown_quirk_exits_3_and_names_the_known_ones() {
    let out = Test::new()
        .args([
            "target",
            "serve",
            "--port",
            "0",
            "--quirk",
            "no-uniqueness",
            "--quirk",
            "lenient",
        ])
        .run();
    out.status(3);
    out.stderr_contains("unknown quirk 'lenient'");
    for name in [
        "case-sensitive-filter",
        "no-uniqueness",
        "ignore-excluded-attributes",
        "ignore-pagination",
        "strict-booleans",
        "reject-adscim-urn",
        "reject-remove-with-value",
        "manager-complex-only",
    ] {
        out.stderr_contains(name);
    }
}

#[tokio::test]
async fn a_served_target_applies_its_quirks() {
    let (mut target, url) = serve_target(
        TOKEN,
        &["--quirk", "strict-booleans", "--quirk", "no-uniqueness"],
    );
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        http.post(format!("{url}/Users"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };
    let user = "urn:ietf:params:scim:schemas:core:2.0:User";
    let strict = post(json!({"schemas": [user], "userName": "a@x", "active": "False"}))
        .await
        .unwrap();
    assert_eq!(strict.status().as_u16(), 400);
    let body: serde_json::Value = strict.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidValue", "{body}");
    for _ in 0..2 {
        let r = post(json!({"schemas": [user], "userName": "a@x", "active": false}))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let _ = target.kill();
    let _ = target.wait();
}
