//! `entra-sim conformance` (issue 17) through the binary, against the built-in target in-process:
//! every test PASSED in both modes and nothing left on the server; a failing server exits 1 with
//! a hint; the token appears nowhere; an unknown test name is bad input.

use serde_json::Value;

use crate::support::Test;
use entra_sim::target::{self, RunningTarget, TargetConfig, parse_spec};

const TOKEN: &str = "conformance-token-7f3a";

async fn server() -> RunningTarget {
    target::spawn(TargetConfig {
        token: Some(TOKEN.into()),
        ..TargetConfig::default()
    })
    .await
    .unwrap()
}

fn conformance(server: &RunningTarget, extra: &[&str]) -> Test {
    Test::new()
        .args([
            "conformance",
            "--url",
            server.base_url(),
            "--token-env",
            "CONF_TOKEN",
        ])
        .args(extra)
        .env("CONF_TOKEN", TOKEN)
}

/// Both modes, `--json`: every test PASSED, `overallResult` Succeeded, exit 0, the target empty
/// afterwards and the token nowhere in the output.
#[tokio::test]
async fn the_built_in_target_succeeds_in_both_modes() {
    let server = server().await;
    let out = conformance(&server, &["--mode", "both", "--json"])
        .run_async()
        .await;
    out.success();
    let stdout = out.stdout.clone();
    assert!(!stdout.contains(TOKEN));
    assert!(!out.stderr.contains(TOKEN));
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["overallResult"], "Succeeded");
    assert_eq!(
        doc["modes"],
        serde_json::json!(["default", "aadOptscim062020"])
    );
    let tests = doc["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 36);
    for test in tests {
        assert_eq!(test["testResult"], "PASSED", "{test:#}");
        for key in [
            "testName",
            "mode",
            "category",
            "details",
            "durationMs",
            "requests",
        ] {
            assert!(test.get(key).is_some(), "{key} missing: {test:#}");
        }
    }
    assert!(server.users().is_empty() && server.groups().is_empty());
}

/// A server whose user creates fail: exit 1, the table names the failure and its fix, the
/// summary last.
#[tokio::test]
async fn a_failing_server_exits_1_with_a_hint() {
    let server = server().await;
    server.set_faults(parse_spec("POST /Users=500").unwrap());
    let out = conformance(
        &server,
        &["--only", "SCIM_User_Create_Test", "Delete_NonExistent_Test"],
    )
    .run_async()
    .await;
    out.status(1)
        .stdout_contains("FAILED   SCIM_User_Create_Test")
        .stdout_contains("create a user: answered 500")
        .stdout_contains("fix: the server failed on POST /Users (500)")
        .stdout_contains("What the test needs: accept a POST /Users")
        .stdout_contains("PASSED   Delete_NonExistent_Test");
    let stdout = out.stdout.clone();
    assert!(
        stdout
            .trim_end()
            .ends_with("1 passed, 1 failed, 0 warnings, 0 skipped: Failed"),
        "{stdout}"
    );
}

/// The token from a file works as from a variable; --verbose shows each request.
#[tokio::test]
async fn a_token_file_works() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    Test::new()
        .args(["conformance", "--url", server.base_url(), "--token-file"])
        .arg(dir.path().join("token"))
        .args(["--only", "Filter_NonExistent_Test", "--verbose"])
        .run_async()
        .await
        .success()
        .stdout_contains("PASSED   Filter_NonExistent_Test")
        .stdout_contains("         GET /Users?filter=userName+eq+%22");
}

/// An unknown test name and a missing token variable are bad input (exit 3).
#[tokio::test]
async fn bad_input_exits_3() {
    let server = server().await;
    conformance(&server, &["--only", "No_Such_Test"])
        .run_async()
        .await
        .status(3)
        .stderr_contains("--only No_Such_Test: no such test");
    Test::new()
        .args([
            "conformance",
            "--url",
            server.base_url(),
            "--token-env",
            "CONF_UNSET",
        ])
        .run_async()
        .await
        .status(3)
        .stderr_contains("CONF_UNSET");
}
