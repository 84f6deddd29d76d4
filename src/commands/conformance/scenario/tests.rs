//! The engine scenarios against the built-in target: each passes in both dialects and leaves the
//! target empty; each way a server can fail one (fault rules and quirks) fails it at the right
//! stage, with Entra's reading and a fix.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use super::super::suite::{TestRecord, TestResult};
use super::super::tests::StopAfter;
use super::super::{Interruptible, MappingUnderTest, Plan, run_suite};
use crate::clock::SystemClock;
use crate::http::ScimClient;
use crate::plan::Method;
use crate::scim::ScimMode;
use crate::target::{Quirk, RunningTarget, parse_spec};

pub(super) async fn target(quirks: &[Quirk]) -> (RunningTarget, ScimClient) {
    super::super::tests::target_with(quirks).await
}

pub(super) fn plan(target: &RunningTarget, mode: ScimMode, name: &str, keep: bool) -> Plan {
    Plan {
        keep,
        ..Plan::of_default_mapping(target.base_url(), vec![mode], &[name])
    }
}

/// Runs the test `name` in `mode` against `target`.
pub(super) async fn run(
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
pub(super) async fn one(name: &str, faults: &str, quirks: &[Quirk]) -> (TestRecord, RunningTarget) {
    let (target, client) = target(quirks).await;
    if !faults.is_empty() {
        target.set_faults(parse_spec(faults).unwrap());
    }
    let record = run(&target, &client, ScimMode::Default, name).await;
    (record, target)
}

pub(super) fn assert_empty(target: &RunningTarget) {
    assert!(target.users().is_empty(), "{:#?}", target.users());
    assert!(target.groups().is_empty(), "{:#?}", target.groups());
}

pub(super) fn details(record: &TestRecord) -> String {
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
    assert!(entra.contains("escrows the object"), "{entra}");
    assert!(record.hint.as_deref().unwrap().contains("POST /Users"));
    assert_empty(&target);
}

/// Every user scenario passes in both dialects, and the target is empty afterwards.
#[tokio::test]
async fn every_user_scenario_passes_in_both_modes() {
    let (target, client) = target(&[]).await;
    for mode in [ScimMode::Default, ScimMode::Aad062020] {
        for name in USER_SCENARIOS {
            let record = run(&target, &client, mode, name).await;
            assert_eq!(
                record.test_result,
                TestResult::Passed,
                "{name}: {}",
                details(&record)
            );
        }
    }
    assert_empty(&target);
}

const USER_SCENARIOS: [&str; 6] = [
    "Create_User_Test",
    "Update_User_Test",
    "Disable_User_Test",
    "Delete_User_Test",
    "User_Update_Manager_Test",
    "Restore_User_Test",
];

/// A refused disable PATCH fails Disable_User_Test at its second cycle: the entry's error, the
/// escrow, and the hint about Entra's disable PATCH; the user is still deleted.
#[tokio::test]
async fn a_refused_disable_fails_with_entras_reading() {
    let (record, target) = one("Disable_User_Test", "PATCH /Users/*=400", &[]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record.details.starts_with(
            "cycle 2 (disable): Entra logged disable failure (SystemForCrossDomainIdentityManagementServiceIncompatible); the server answered 400 to PATCH /Users/"
        ),
        "{}",
        details(&record)
    );
    assert!(
        record.details.contains("answered 400 to PATCH /Users/"),
        "{}",
        details(&record)
    );
    let entra = record.entra.as_deref().unwrap();
    assert_eq!(
        entra,
        "Entra logs SystemForCrossDomainIdentityManagementServiceIncompatible (StatusCode: BadRequest); escrows the object: retried 6 h after the failure (attempt 1 of the escrow ladder); no quarantine from this failure alone"
    );
    assert!(entra.contains("no quarantine"), "{entra}");
    let hint = record.hint.as_deref().unwrap();
    assert!(hint.contains("?aadOptscim062020"), "{hint}");
    assert_empty(&target);
}

/// An update PATCH answered 204 but not applied passes the log entry and fails at the read-back.
#[tokio::test]
async fn an_update_accepted_but_not_applied_fails_at_the_read_back() {
    let (record, target) = one("Update_User_Test", "PATCH /Users/*=204", &[]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 2 (update): the read-back differs: title reads \"Tester\", expected \"Senior Tester\""),
        "{}",
        details(&record)
    );
    assert_eq!(record.entra, None, "a 204 is no refusal");
    assert!(
        record
            .hint
            .as_deref()
            .unwrap()
            .contains("apply every operation")
    );
    assert_empty(&target);
}

/// A server refusing string booleans fails Disable_User_Test in the default dialect and passes
/// it with aadOptscim062020, where Entra sends JSON booleans.
#[tokio::test]
async fn strict_booleans_fail_disable_only_in_the_default_dialect() {
    let (target, client) = target(&[Quirk::StrictBooleans]).await;
    let default = run(&target, &client, ScimMode::Default, "Disable_User_Test").await;
    assert_eq!(default.test_result, TestResult::Failed);
    assert!(
        default
            .details
            .starts_with("cycle 2 (disable): Entra logged disable failure"),
        "{}",
        details(&default)
    );
    let aad = run(&target, &client, ScimMode::Aad062020, "Disable_User_Test").await;
    assert_eq!(aad.test_result, TestResult::Passed, "{}", details(&aad));
    assert_empty(&target);
}

/// A server taking the manager only as `{"value": id}` fails User_Update_Manager_Test when the
/// manager is set, with the hint about the plain string.
#[tokio::test]
async fn a_complex_only_manager_fails_the_manager_test() {
    let (record, target) = one("User_Update_Manager_Test", "", &[Quirk::ManagerComplexOnly]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 2 (set manager): Entra logged update failure"),
        "{}",
        details(&record)
    );
    assert!(record.hint.as_deref().unwrap().contains("plain string"));
    assert_empty(&target);
}

/// A server refusing a Remove with a value list fails the manager removal in the default
/// dialect only.
#[tokio::test]
async fn a_refused_manager_removal_fails_the_last_stage() {
    let (record, target) = one(
        "User_Update_Manager_Test",
        "",
        &[Quirk::RejectRemoveWithValue],
    )
    .await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 4 (remove manager): Entra logged update failure"),
        "{}",
        details(&record)
    );
    assert_empty(&target);
}

/// A DELETE answered 204 that leaves the user: Delete_User_Test (optional) is a WARNING at
/// the read-back.
#[tokio::test]
async fn a_delete_not_applied_is_a_warning() {
    let (record, target) = one("Delete_User_Test", "DELETE /Users/*=204:times=1", &[]).await;
    assert_eq!(record.test_result, TestResult::Warning);
    assert!(
        record.details.starts_with(
            "cycle 3 (hard delete): the deleted user still reads: expected 404; answered 200"
        ),
        "{}",
        details(&record)
    );
    assert!(record.hint.as_deref().unwrap().contains("404 afterwards"));
    assert_empty(&target);
}

/// Re-enabling refused after an unassignment: Restore_User_Test fails at the reassignment.
#[tokio::test]
async fn a_refused_reenable_fails_restore() {
    let (record, target) = one(
        "Restore_User_Test",
        "PATCH /Users/*=pass:times=1; PATCH /Users/*=409",
        &[],
    )
    .await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 3 (reassign): Entra logged update failure"),
        "{}",
        details(&record)
    );
    assert!(record.hint.as_deref().unwrap().contains("\"True\""));
    assert_empty(&target);
}

/// A read-back refused: the failure names the read and its own hint.
#[tokio::test]
async fn a_refused_read_back_fails_with_its_hint() {
    let (record, target) = one("Create_User_Test", "GET /Users/*=404", &[]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 1 (create): read back: answered 404"),
        "{}",
        details(&record)
    );
    assert!(record.hint.as_deref().unwrap().contains("GET /Users/{id}"));
    assert_empty(&target);
}

/// A refused token: Entra quarantines the job, and the hint is about the credentials, whatever
/// the scenario.
#[tokio::test]
async fn a_refused_token_mid_scenario_names_the_credentials() {
    let (record, _target) = one("Update_User_Test", "PATCH /Users/*=unauthorized", &[]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    let entra = record.entra.as_deref().unwrap();
    assert!(
        entra.ends_with("the job goes into quarantine (EncounteredQuarantineException)"),
        "{entra}"
    );
    assert!(
        record.hint.as_deref().unwrap().contains("credentials"),
        "{}",
        details(&record)
    );
}

/// With --keep the scenario's objects stay and are listed.
#[tokio::test]
async fn keep_leaves_the_scenarios_objects() {
    let (target, client) = target(&[]).await;
    let transport = Interruptible {
        inner: &client,
        stop: Arc::new(AtomicBool::new(false)),
    };
    let plan = plan(&target, ScimMode::Default, "User_Update_Manager_Test", true);
    let records = run_suite(&transport, None, &plan, &SystemClock, "t").await;
    assert_eq!(records[0].test_result, TestResult::Passed);
    assert_eq!(
        records[0].left_behind.len(),
        3,
        "{:?}",
        records[0].left_behind
    );
    assert_eq!(target.users().len(), 3);
    assert!(
        records[0]
            .left_behind
            .iter()
            .all(|p| p.starts_with("/Users/"))
    );
}

/// Ctrl-C after the first cycle's POST: the scenario fails at once, the user it created is
/// still deleted, and nothing else reaches the server.
#[tokio::test]
async fn an_interrupted_scenario_still_cleans_up() {
    let (target, client) = target(&[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let counting = StopAfter {
        inner: &client,
        stop: stop.clone(),
        // Two Test Connection probes, the matching filter, then the POST.
        after: 4,
        sent: AtomicUsize::new(0),
    };
    let transport = Interruptible {
        inner: &counting,
        stop,
    };
    let plan = plan(&target, ScimMode::Default, "Disable_User_Test", false);
    let records = run_suite(&transport, None, &plan, &SystemClock, "t").await;
    let record = &records[0];
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record.details.contains("interrupted (Ctrl-C)"),
        "{}",
        details(record)
    );
    let last = record.requests.last().unwrap();
    assert_eq!(
        (last.step.as_str(), last.method, last.status),
        ("clean up", Method::Delete, Some(204))
    );
    assert_empty(&target);
}

/// Under each shipped vendor mapping (none of which maps a manager) the user scenarios pass —
/// the scratch users carry every attribute a mapping reads — and the manager test is SKIPPED.
#[tokio::test]
async fn the_vendor_mappings_pass_the_user_scenarios() {
    let (target, client) = target(&[]).await;
    let transport = Interruptible {
        inner: &client,
        stop: Arc::new(AtomicBool::new(false)),
    };
    for file in ["uni-tel", "unifi", "uniflow-online", "unity-cloud"] {
        let path = format!("{}/mappings/{file}.yaml", env!("CARGO_MANIFEST_DIR"));
        let mapping = MappingUnderTest {
            name: path.clone(),
            yaml: std::fs::read_to_string(&path).unwrap(),
        };
        let url = target.base_url();
        let plan = Plan::of_mapping(mapping, url, vec![ScimMode::Default], &USER_SCENARIOS);
        assert!(!plan.mapped.manager, "{file}");
        for record in run_suite(&transport, None, &plan, &SystemClock, "t").await {
            let want = if record.test_name == "User_Update_Manager_Test" {
                TestResult::Skipped
            } else {
                TestResult::Passed
            };
            assert_eq!(record.test_result, want, "{file}: {}", details(&record));
        }
    }
    assert_empty(&target);
}

/// A cleanup DELETE refused: the test's verdict stands, and the object is named as left on the
/// server.
#[tokio::test]
async fn a_refused_cleanup_names_what_is_left() {
    let (record, target) = one("Create_User_Test", "DELETE /Users/*=500", &[]).await;
    assert_eq!(
        record.test_result,
        TestResult::Passed,
        "{}",
        details(&record)
    );
    assert_eq!(record.left_behind.len(), 1);
    let id = target.users()[0]["id"].as_str().unwrap().to_string();
    assert_eq!(record.left_behind[0], format!("/Users/{id}"));
}

/// A 429 with Retry-After is waited out on the scenario's fake clock, as Entra waits within a
/// cycle: the test passes at once, without sleeping.
#[tokio::test]
async fn a_throttled_create_is_waited_out_on_the_fake_clock() {
    let (record, target) = one(
        "Create_User_Test",
        "POST /Users=429:retry-after=120:times=1",
        &[],
    )
    .await;
    assert_eq!(
        record.test_result,
        TestResult::Passed,
        "{}",
        details(&record)
    );
    let statuses: Vec<Option<u16>> = record
        .requests
        .iter()
        .filter(|r| r.method == Method::Post)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [Some(429), Some(201)]);
    assert!(record.duration_ms < 30_000, "{} ms", record.duration_ms);
    assert_empty(&target);
}
