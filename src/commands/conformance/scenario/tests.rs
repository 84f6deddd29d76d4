//! The engine scenarios against the built-in target: each passes in both dialects and leaves the
//! target empty; each way a server can fail one (fault rules and quirks) fails it at the right
//! stage, with Entra's reading and a fix.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::super::suite::{TestRecord, TestResult};
use super::super::{Interruptible, Plan, run_suite};
use crate::clock::SystemClock;
use crate::config::{Credential, Secret};
use crate::http::{ClientOptions, ScimClient};
use crate::plan::Method;
use crate::scim::ScimMode;
use crate::target::{self, Quirk, RunningTarget, TargetConfig, parse_spec};

const TOKEN: &str = "scenario-secret";

async fn target(quirks: &[Quirk]) -> (RunningTarget, ScimClient) {
    let target = target::spawn(TargetConfig {
        token: Some(TOKEN.into()),
        quirks: quirks.to_vec(),
        ..TargetConfig::default()
    })
    .await
    .unwrap();
    let options = ClientOptions {
        timeout: Duration::from_secs(10),
        user_agent: None,
        max_response_bytes: 1 << 20,
    };
    let credential = Credential::Bearer(Secret::new(TOKEN));
    let client = ScimClient::new(target.base_url(), &credential, &options).unwrap();
    (target, client)
}

fn plan(target: &RunningTarget, mode: ScimMode, name: &str, keep: bool) -> Plan {
    Plan {
        keep,
        ..Plan::of_default_mapping(target.base_url(), vec![mode], &[name])
    }
}

/// Runs the test `name` in `mode` against `target`.
async fn run(
    target: &RunningTarget,
    client: &ScimClient,
    mode: ScimMode,
    name: &str,
) -> TestRecord {
    let transport = Interruptible {
        inner: client,
        stop: Arc::new(AtomicBool::new(false)),
    };
    let plan = plan(target, mode, name, false);
    let mut records = run_suite(&transport, None, &plan, &SystemClock, "t").await;
    assert_eq!(records.len(), 1);
    records.remove(0)
}

/// Runs `name` in the default mode against a target with `faults` and `quirks`.
async fn one(name: &str, faults: &str, quirks: &[Quirk]) -> (TestRecord, RunningTarget) {
    let (target, client) = target(quirks).await;
    if !faults.is_empty() {
        target.set_faults(parse_spec(faults).unwrap());
    }
    let record = run(&target, &client, ScimMode::Default, name).await;
    (record, target)
}

fn assert_empty(target: &RunningTarget) {
    assert!(target.users().is_empty(), "{:#?}", target.users());
    assert!(target.groups().is_empty(), "{:#?}", target.groups());
}

fn details(record: &TestRecord) -> String {
    format!(
        "{}\nentra: {:?}\nhint: {:?}\nrequests: {:#?}",
        record.details,
        record.entra,
        record.hint,
        record
            .requests
            .iter()
            .map(|r| format!(
                "{} {} {} → {:?}",
                r.step,
                r.method.as_str(),
                r.path,
                r.status
            ))
            .collect::<Vec<_>>()
    )
}

/// Create_User_Test passes: the cycle's requests are recorded under its stage, the user is read
/// back and found by its userName, then deleted.
#[tokio::test]
async fn create_user_passes_and_records_the_cycle() {
    let (record, target) = one("Create_User_Test", "", &[]).await;
    assert_eq!(
        record.test_result,
        TestResult::Passed,
        "{}",
        details(&record)
    );
    let sent: Vec<(&str, Method)> = record
        .requests
        .iter()
        .map(|r| (r.step.as_str(), r.method))
        .collect();
    assert!(
        sent.contains(&("cycle 1 (create)", Method::Post)),
        "{sent:?}"
    );
    assert!(sent.contains(&("cycle 1 (create) read back", Method::Get)));
    assert_eq!(sent.last(), Some(&("clean up", Method::Delete)));
    assert_empty(&target);
}

/// A refused user POST fails Create_User_Test at the first cycle with the entry's error, the
/// escrow Entra records, and the create hint.
#[tokio::test]
async fn a_refused_create_fails_at_the_first_cycle() {
    let (record, target) = one("Create_User_Test", "POST /Users=500", &[]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 1 (create): Entra logged create failure (InternalServerError); the server answered 500 to POST /Users"),
        "{}",
        details(&record)
    );
    let entra = record.entra.as_deref().unwrap();
    assert!(entra.starts_with("Entra logs "), "{entra}");
    assert!(entra.contains("escrowed"), "{entra}");
    assert!(record.hint.as_deref().unwrap().contains("POST /Users"));
    assert_empty(&target);
}
