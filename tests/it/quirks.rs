//! Issue 17: `target serve --quirk NAME` turns on a real server's behaviour; an unknown name is
//! an argument error (exit 3) that lists the known ones; the quirks of scim2-server and SCIMMY
//! give the sample job's cycle the outcome those servers gave it.

use entra_sim::target::{self, Quirk, TargetConfig};
use serde_json::json;

use crate::support::{TOKEN, Test, repo, serve_target};

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

/// The sample job's first cycle against a target whose quirks are `quirks`: its exit code and
/// summary line.
async fn sample_cycle(quirks: &[Quirk]) -> (i32, String) {
    let server = target::spawn(TargetConfig {
        token: Some(TOKEN.into()),
        quirks: quirks.to_vec(),
        ..TargetConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    let sample = std::fs::read_to_string(repo("jobs/sample.yaml")).unwrap();
    let job = sample
        .replace("../", &format!("{}/", repo("").display()))
        .replace("http://127.0.0.1:8080/scim/v2", server.base_url())
        .replace("token_env: ENTRA_SIM_TOKEN", "token_file: token");
    std::fs::write(dir.path().join("job.yaml"), job).unwrap();
    let out = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(dir.path())
        .run_async()
        .await;
    let summary = out.stdout.lines().find(|l| l.starts_with("initial cycle "));
    let summary = summary.unwrap_or_else(|| panic!("no summary in\n{}", out.stdout));
    (out.code, summary.split_once(": ").unwrap().1.to_string())
}

/// The quirks reproduce what the interop servers (`.ci/interop/start.sh`) answered the sample
/// job's first cycle with: scim2-server 0.8.3 22 created, 0 updated, 23 failed (every manager
/// PATCH, every group POST); SCIMMY 1.3.5 25 created, 3 updated, 20 failed (every manager PATCH).
#[tokio::test]
async fn quirks_reproduce_the_interop_servers_on_the_sample_job() {
    let cases = [
        (
            vec![],
            0,
            "25 created, 23 updated, 0 disabled, 0 deleted, 3 skipped, 0 failed",
        ),
        (
            vec![
                Quirk::ManagerComplexOnly,
                Quirk::RejectAdscimUrn,
                Quirk::RejectRemoveWithValue,
                Quirk::NoUniqueness,
            ],
            1,
            "22 created, 0 updated, 0 disabled, 0 deleted, 3 skipped, 23 failed",
        ),
        (
            vec![
                Quirk::ManagerComplexOnly,
                Quirk::StrictBooleans,
                Quirk::CaseSensitiveFilter,
            ],
            1,
            "25 created, 3 updated, 0 disabled, 0 deleted, 3 skipped, 20 failed",
        ),
    ];
    for (quirks, code, want) in cases {
        assert_eq!(
            sample_cycle(&quirks).await,
            (code, want.to_string()),
            "{quirks:?}"
        );
    }
}
