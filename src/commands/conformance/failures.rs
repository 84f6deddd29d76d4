//! Every way a direct test fails, produced through the built-in target's quirks and fault rules
//! (or, for a body the target cannot send, a transport that mangles its answer): the verdict,
//! the details and the hint for exactly that failure kind. Also the dialect verdict of
//! `--mode both` and the encoding of captured ids in paths.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::json;

use super::suite::{self, TESTS, TestRecord, TestResult};
use super::{Interruptible, Plan, dialects, run_suite};
use crate::clock::SystemClock;
use crate::config::{Credential, Secret};
use crate::http::{ClientOptions, ScimClient};
use crate::plan::conformance::StepsFlow;
use crate::plan::{Reply, Request};
use crate::runner::{self, FlowId, Scripted, Sending, Transport};
use crate::scim::ScimMode;
use crate::target::{self, Quirk, RunningTarget, TargetConfig, parse_spec};

const TOKEN: &str = "failure-kinds-secret";

async fn target(quirks: &[Quirk]) -> RunningTarget {
    target::spawn(TargetConfig {
        token: Some(TOKEN.into()),
        quirks: quirks.to_vec(),
        ..TargetConfig::default()
    })
    .await
    .unwrap()
}

fn client(base_url: &str, timeout: Duration) -> ScimClient {
    let options = ClientOptions {
        timeout,
        user_agent: None,
        max_response_bytes: 1 << 20,
    };
    let credential = Credential::Bearer(Secret::new(TOKEN));
    ScimClient::new(base_url, &credential, &options).unwrap()
}

/// A plan for direct tests: its URL only goes into the scenarios' scratch jobs.
fn plan(modes: Vec<ScimMode>, only: &[&str]) -> Plan {
    Plan::of_default_mapping("http://127.0.0.1:1/scim/v2", modes, only)
}

async fn run(transport: &dyn Transport, modes: Vec<ScimMode>, only: &[&str]) -> Vec<TestRecord> {
    let transport = Interruptible {
        inner: transport,
        stop: Arc::new(AtomicBool::new(false)),
    };
    run_suite(&transport, None, &plan(modes, only), &SystemClock, "f").await
}

/// Runs `name` in the default mode against a target with `quirks` and `faults`.
async fn one(name: &str, quirks: &[Quirk], faults: &str) -> (TestRecord, RunningTarget) {
    let target = target(quirks).await;
    target.set_faults(parse_spec(faults).unwrap());
    let client = client(target.base_url(), Duration::from_secs(10));
    let mut records = run(&client, vec![ScimMode::Default], &[name]).await;
    assert_eq!(records.len(), 1);
    (records.remove(0), target)
}

/// The record failed (or warned), its details start with `details` and its hint holds `hint`.
fn assert_fails(record: &TestRecord, details: &str, hint: &str) {
    assert!(
        matches!(record.test_result, TestResult::Failed | TestResult::Warning),
        "{record:?}"
    );
    assert!(
        record.details.starts_with(details),
        "details: {}",
        record.details
    );
    let got = record.hint.as_deref().unwrap_or_default();
    assert!(got.contains(hint), "hint: {got}");
}

// ---- quirks ----

/// A case-sensitive filter fails both case tests, with the fix naming the attribute.
#[tokio::test]
async fn a_case_sensitive_filter_fails_the_case_tests() {
    for (test, attr, step) in [
        (
            "Filter_User_Different_Case_Test",
            "userName",
            "filter on its userName in upper case",
        ),
        (
            "Filter_Group_Different_Case_Test",
            "displayName",
            "filter on its displayName in lower case",
        ),
    ] {
        let (record, target) = one(test, &[Quirk::CaseSensitiveFilter], "").await;
        assert_fails(
            &record,
            &format!("{step}: the filter found nothing"),
            &format!("compare {attr} case-insensitively"),
        );
        assert!(target.users().is_empty() && target.groups().is_empty());
    }
}

/// A duplicate created fails the duplicate tests; the duplicate is deleted too.
#[tokio::test]
async fn a_duplicate_created_fails() {
    for (test, attr) in [
        ("Duplicate_User_Test", "userName"),
        ("Duplicate_Group_Test", "displayName"),
    ] {
        let (record, target) = one(test, &[Quirk::NoUniqueness], "").await;
        assert_fails(
            &record,
            "create it again: the duplicate was created (201), expected 409",
            &format!("refuse a POST whose {attr} is already taken with 409"),
        );
        assert!(target.users().is_empty(), "{:?}", target.users());
        assert!(target.groups().is_empty(), "{:?}", target.groups());
    }
}

/// A 409 without scimType `uniqueness` fails with the fix to add it.
#[tokio::test]
async fn a_409_without_uniqueness_fails() {
    let (record, _target) = one(
        "Duplicate_User_Test",
        &[],
        "POST /Users=pass:times=1; POST /Users=409",
    )
    .await;
    assert_fails(
        &record,
        "create it again: 409 came with scimType missing",
        "add \"scimType\": \"uniqueness\"",
    );
}

/// excludedAttributes ignored on GET by id.
#[tokio::test]
async fn members_by_id_fail_exclude_members() {
    let (record, target) = one(
        "Exclude_Members_Test",
        &[Quirk::IgnoreExcludedAttributes],
        "",
    )
    .await;
    assert_fails(
        &record,
        "read the group by id without members: members came back",
        "leave members out of GET /Groups/{id}",
    );
    assert!(target.users().is_empty() && target.groups().is_empty());
}

/// excludedAttributes honoured by id but ignored by filter (a filtered answer with members).
#[tokio::test]
async fn members_by_filter_fail_exclude_members() {
    let target = target(&[]).await;
    let mut rules = parse_spec("GET /Groups=pass:times=1; GET /Groups=200").unwrap();
    rules[1].body = Some(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 1,
        "Resources": [{"id": "g", "displayName": "x", "members": [{"value": "u"}]}],
    }));
    target.set_faults(rules);
    let client = client(target.base_url(), Duration::from_secs(10));
    let records = run(&client, vec![ScimMode::Default], &["Exclude_Members_Test"]).await;
    assert_fails(
        &records[0],
        "filter the group without members: members came back",
        "a filtered GET /Groups?filter=",
    );
}

/// Paging ignored: the first page holds every user.
#[tokio::test]
async fn paging_ignored_fails_pagination() {
    let (record, target) = one("SCIM_User_Pagination_Test", &[Quirk::IgnorePagination], "").await;
    assert_fails(
        &record,
        "read the page from 1: returned 11 resources for count=5",
        "honour count",
    );
    assert!(target.users().is_empty());
}

/// A page without its startIndex fails pagination with the fix to echo it.
#[tokio::test]
async fn a_page_without_start_index_fails_pagination() {
    let target = target(&[]).await;
    let mut rules = parse_spec("GET /Users=pass:times=1; GET /Users=200").unwrap();
    let five: Vec<_> = (0..5).map(|n| json!({"id": n.to_string()})).collect();
    rules[1].body = Some(json!({"totalResults": 11, "Resources": five}));
    target.set_faults(rules);
    let client = client(target.base_url(), Duration::from_secs(10));
    let records = run(
        &client,
        vec![ScimMode::Default],
        &["SCIM_User_Pagination_Test"],
    )
    .await;
    assert_fails(
        &records[0],
        "read the page from 1: no startIndex answered for startIndex=1",
        "echo it in the ListResponse",
    );
    assert!(target.users().is_empty());
}

/// A manager refused as a plain string fails in both dialects: a server defect, not a dialect.
#[tokio::test]
async fn a_plain_string_manager_refused_fails_in_both_dialects() {
    let target = target(&[Quirk::ManagerComplexOnly]).await;
    let client = client(target.base_url(), Duration::from_secs(10));
    let modes = vec![ScimMode::Default, ScimMode::Aad062020];
    let records = run(&client, modes, &["SCIM_Update_Manager_Test"]).await;
    for record in &records {
        assert_fails(
            record,
            "set the manager: answered 400: 'manager' must be a complex value",
            "accept the manager as a plain string value",
        );
        assert!(
            record
                .hint
                .as_deref()
                .unwrap()
                .contains("no Tenant URL flag")
        );
    }
    let verdict = dialects(&records);
    assert!(
        verdict.contains("server defects no Tenant URL flag fixes): SCIM_Update_Manager_Test."),
        "{verdict}"
    );
    assert!(target.users().is_empty());
}

/// The quirks that only Entra's engine traffic meets (string booleans, the ADSCIM group URN,
/// a member or manager removed by value) leave every direct test passing: the direct tests
/// send what Microsoft's tools send.
#[tokio::test]
async fn engine_only_quirks_pass_the_direct_tests() {
    let quirks = [
        Quirk::StrictBooleans,
        Quirk::RejectAdscimUrn,
        Quirk::RejectRemoveWithValue,
    ];
    let target = target(&quirks).await;
    let client = client(target.base_url(), Duration::from_secs(10));
    let direct: Vec<&str> = TESTS
        .iter()
        .filter(|t| matches!(t.body, suite::Body::Steps(_)))
        .map(|t| t.name)
        .collect();
    let records = run(&client, vec![ScimMode::Default], &direct).await;
    assert_eq!(records.len(), direct.len());
    let failed: Vec<&str> = records
        .iter()
        .filter(|r| r.test_result != TestResult::Passed)
        .map(|r| r.test_name)
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
}

/// A multi-operation PATCH accepted but not applied: every operation must apply.
#[tokio::test]
async fn a_multi_op_patch_not_applied_warns() {
    let (record, target) = one("MultiOp_Patch_Test", &[], "PATCH /Users/*=204").await;
    assert_eq!(record.test_result, TestResult::Warning, "optional");
    assert_fails(
        &record,
        "read the user back: preferredLanguage still reads",
        "apply every operation of a PATCH",
    );
    assert!(target.users().is_empty());
}

/// Three operations on one attribute not applied in order: the last one must win.
#[tokio::test]
async fn a_multi_op_patch_out_of_order_warns() {
    let (record, _target) = one(
        "MultiOp_Patch_Test",
        &[],
        "PATCH /Users/*=pass:times=1; PATCH /Users/*=204",
    )
    .await;
    assert_fails(
        &record,
        "read the user back: externalId reads",
        "in the order sent",
    );
}

/// A replace with null that leaves "" (here: the first PATCH applied, the null one not).
#[tokio::test]
async fn an_empty_string_kept_after_null_fails() {
    let (record, _target) = one(
        "SCIM_Null_Update_Test",
        &[],
        "PATCH /Users/*=pass:times=1; PATCH /Users/*=204",
    )
    .await;
    assert_fails(
        &record,
        "read the user back: title still reads \"\"",
        "not \"\"",
    );
}

/// /Schemas without externalId: the hint names it and why Microsoft wants it.
#[tokio::test]
async fn schemas_without_external_id_fail_discoverability() {
    let target = target(&[]).await;
    let mut rules = parse_spec("GET /Schemas=200").unwrap();
    rules[0].body = Some(json!({"Resources": [
        {"id": "urn:ietf:params:scim:schemas:core:2.0:Group", "attributes": [
            {"name": "displayName"}, {"name": "members"}]},
    ]}));
    target.set_faults(rules);
    let client = client(target.base_url(), Duration::from_secs(10));
    let records = run(
        &client,
        vec![ScimMode::Default],
        &["Schema_Discoverability_Test"],
    )
    .await;
    assert_fails(
        &records[0],
        "read /Schemas: not in /Schemas: user attributes [\"userName\"",
        "externalId too: Microsoft's check requires it",
    );
    let hint = records[0].hint.as_deref().unwrap();
    assert!(
        hint.starts_with("add to what GET /Schemas lists: userName, "),
        "{hint}"
    );
    assert!(
        hint.contains("manager to the User schema; externalId to the Group schema"),
        "{hint}"
    );
}

/// A create answered with another userName than the one sent (here: lower-cased).
#[tokio::test]
async fn a_user_name_changed_on_create_fails() {
    let target = target(&[]).await;
    let mut rules = parse_spec("POST /Users=201").unwrap();
    rules[0].body = Some(json!({"id": "x", "userName": "someone-else@example.invalid"}));
    target.set_faults(rules);
    let client = client(target.base_url(), Duration::from_secs(10));
    let records = run(&client, vec![ScimMode::Default], &["SCIM_User_Create_Test"]).await;
    assert_fails(
        &records[0],
        "create a user: userName reads \"someone-else@example.invalid\", expected",
        "userName exactly as sent",
    );
}

// ---- fault rules ----

/// A 401 in the middle of a run: the credentials hint, Entra's Unauthorized.
#[tokio::test]
async fn a_401_mid_run_names_the_credentials() {
    let (record, _target) = one("SCIM_User_Create_Test", &[], "POST /Users=unauthorized").await;
    assert_fails(
        &record,
        "create a user: answered 401",
        "refused the token (401)",
    );
    let entra = record.entra.as_deref().unwrap();
    assert!(entra.starts_with("Entra logs Unauthorized"), "{entra}");
}

/// A 403: the token's rights, Entra's InsufficientRights.
#[tokio::test]
async fn a_403_names_the_rights() {
    let (record, _target) = one("SCIM_User_Create_Test", &[], "POST /Users=403").await;
    assert_fails(
        &record,
        "create a user: answered 403",
        "forbade POST /Users (403)",
    );
    let entra = record.entra.as_deref().unwrap();
    assert!(
        entra.starts_with("Entra logs InsufficientRights"),
        "{entra}"
    );
}

/// A 429 fails (Microsoft's validation does not retry); Entra's job waits the Retry-After.
#[tokio::test]
async fn a_429_fails_and_entra_waits_retry_after() {
    let (record, _target) = one(
        "SCIM_User_Create_Test",
        &[],
        "POST /Users=429:retry-after=5",
    )
    .await;
    assert_fails(&record, "create a user: answered 429", "does not retry");
    let entra = record.entra.as_deref().unwrap();
    assert!(
        entra.contains("retried after the server's Retry-After of 5 s"),
        "{entra}"
    );
}

/// A 5xx on the read-back by id names the request.
#[tokio::test]
async fn a_5xx_on_get_by_id_names_the_request() {
    let (record, target) = one("SCIM_User_Update_Test", &[], "GET /Users/*=503").await;
    assert_fails(
        &record,
        "read the user back: answered 503",
        "failed on GET /Users/",
    );
    assert!(record.entra.as_deref().unwrap().starts_with("Entra logs "));
    assert!(target.users().is_empty(), "the cleanup's DELETE still runs");
}

/// A connection closed without an answer.
#[tokio::test]
async fn a_dropped_connection_is_no_answer() {
    let (record, _target) = one("SCIM_User_Create_Test", &[], "POST /Users=drop").await;
    assert_fails(
        &record,
        "create a user: no answer",
        "closed the connection without answering POST /Users",
    );
    assert_eq!(record.requests[0].status, None);
}

/// A server that hangs past the client's timeout.
#[tokio::test]
async fn a_hang_is_a_timeout() {
    let target = target(&[]).await;
    target.set_faults(parse_spec("POST /Users=pass:latency=3000").unwrap());
    let client = client(target.base_url(), Duration::from_millis(300));
    let records = run(&client, vec![ScimMode::Default], &["SCIM_User_Create_Test"]).await;
    assert_fails(
        &records[0],
        "create a user: no answer",
        "no answer to POST /Users within the timeout",
    );
}

/// Nothing listens at the URL: Test Connection fails every test, with the reachability hint.
#[tokio::test]
async fn a_refused_connection_fails_test_connection() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/scim/v2", free.local_addr().unwrap());
    drop(free);
    let client = client(&url, Duration::from_secs(5));
    let records = run(&client, vec![ScimMode::Default], &["SCIM_User_Create_Test"]).await;
    assert_fails(
        &records[0],
        "Test Connection failed: ",
        "no connection could be made",
    );
}

/// Test Connection refused with 401: every test carries the credentials hint.
#[tokio::test]
async fn a_401_on_test_connection_names_the_credentials() {
    let (record, _target) = one("SCIM_User_Create_Test", &[], "* *=unauthorized").await;
    assert_fails(
        &record,
        "Test Connection failed: ",
        "refused the token (401)",
    );
}

/// Test Connection's query hangs past the timeout.
#[tokio::test]
async fn a_hanging_test_connection_is_no_answer() {
    let target = target(&[]).await;
    target.set_faults(parse_spec("GET /Users=pass:latency=3000").unwrap());
    let client = client(target.base_url(), Duration::from_millis(300));
    let records = run(&client, vec![ScimMode::Default], &["SCIM_User_Create_Test"]).await;
    assert_fails(
        &records[0],
        "Test Connection failed: ",
        "Test Connection's query got no answer",
    );
}

/// Changes each POST's answer: the built-in target always sends whole JSON and 201.
struct Rewrite<'a> {
    inner: &'a ScimClient,
    change: fn(Reply) -> Reply,
}

impl Transport for Rewrite<'_> {
    fn send<'a>(&'a self, flow: FlowId, request: &'a Request) -> Sending<'a> {
        Box::pin(async move {
            let reply = self.inner.send(flow, request).await;
            match request.method {
                crate::plan::Method::Post => (self.change)(reply),
                _ => reply,
            }
        })
    }
}

async fn create_user_with(change: fn(Reply) -> Reply) -> TestRecord {
    let target = target(&[]).await;
    let client = client(target.base_url(), Duration::from_secs(10));
    let rewrite = Rewrite {
        inner: &client,
        change,
    };
    let mut records = run(
        &rewrite,
        vec![ScimMode::Default],
        &["SCIM_User_Create_Test"],
    )
    .await;
    records.remove(0)
}

fn with_body(reply: Reply, change: fn(Vec<u8>) -> Vec<u8>) -> Reply {
    match reply {
        Reply::Http {
            status,
            retry_after,
            body,
        } => Reply::Http {
            status,
            retry_after,
            body: change(body),
        },
        other => other,
    }
}

/// A created user answered with a body that is not JSON.
#[tokio::test]
async fn a_body_that_is_not_json_fails() {
    let record = create_user_with(|r| with_body(r, |_| b"<html>created</html>".to_vec())).await;
    assert_fails(&record, "create a user: ", "is not JSON");
}

/// A created user answered with a body cut off in the middle.
#[tokio::test]
async fn a_cut_off_body_fails() {
    let record = create_user_with(|r| {
        with_body(r, |mut body| {
            body.truncate(body.len() / 2);
            body
        })
    })
    .await;
    assert_fails(&record, "create a user: ", "was cut off");
}

/// 200 where 201 is usual passes: Microsoft's tools and Entra take either.
#[tokio::test]
async fn a_200_for_a_create_passes() {
    let record = create_user_with(|reply| match reply {
        Reply::Http {
            status: 201,
            retry_after,
            body,
        } => Reply::Http {
            status: 200,
            retry_after,
            body,
        },
        other => other,
    })
    .await;
    assert_eq!(record.test_result, TestResult::Passed, "{record:?}");
    assert_eq!(record.requests[0].status, Some(200));
}

// ---- the dialect verdict ----

fn records(failed_default: &[&str], failed_aad: &[&str]) -> Vec<TestRecord> {
    let mut out = Vec::new();
    for (mode, failed) in [
        (ScimMode::Default, failed_default),
        (ScimMode::Aad062020, failed_aad),
    ] {
        for test in TESTS {
            let mut record = suite::skipped(test, mode, "");
            record.test_result = if failed.contains(&test.name) {
                TestResult::Failed
            } else {
                TestResult::Passed
            };
            out.push(record);
        }
    }
    out
}

/// Nothing fails: either dialect.
#[test]
fn no_failure_allows_both_dialects() {
    assert_eq!(
        dialects(&records(&[], &[])),
        "Both dialects behave alike: the Tenant URL may carry ?aadOptscim062020 or not."
    );
}

/// A test failing only with aadOptscim062020 asks for the default dialect, and names it.
#[test]
fn a_failure_only_with_the_flag_needs_the_default_dialect() {
    let verdict = dialects(&records(&[], &["SCIM_User_Update_Test"]));
    assert_eq!(
        verdict,
        "The default dialect is needed: keep ?aadOptscim062020 out of the Tenant URL (SCIM_User_Update_Test fails only with it)."
    );
}

/// A test failing only without the flag asks for it.
#[test]
fn a_failure_only_without_the_flag_needs_aadoptscim062020() {
    let verdict = dialects(&records(&["SCIM_Group_Update_Test"], &[]));
    assert!(
        verdict.starts_with("The aadOptscim062020 dialect is needed: add ?aadOptscim062020"),
        "{verdict}"
    );
}

/// A test failing in both dialects blames neither: it is a server defect, named as one; a
/// dialect-specific failure beside it still decides the dialect.
#[test]
fn a_failure_in_both_dialects_is_a_server_defect() {
    let both = ["Duplicate_User_Test"];
    let verdict = dialects(&records(&both, &both));
    assert_eq!(
        verdict,
        "Both dialects behave alike: the Tenant URL may carry ?aadOptscim062020 or not.\n\
         Failing in both dialects (server defects no Tenant URL flag fixes): Duplicate_User_Test."
    );
    let mixed = dialects(&records(
        &["Duplicate_User_Test", "SCIM_Group_Update_Test"],
        &["Duplicate_User_Test"],
    ));
    assert!(
        mixed.starts_with("The aadOptscim062020 dialect is needed"),
        "{mixed}"
    );
    assert!(mixed.ends_with("fixes): Duplicate_User_Test."), "{mixed}");
}

// ---- ids in paths ----

/// An id with `/`, a space, `?`, `#`, `%` and a non-ASCII letter goes into a path as one
/// percent-encoded segment, and into a body as it came.
#[tokio::test]
async fn captured_ids_are_encoded_as_one_path_segment() {
    let id = "a/b c?d#e%f-ü";
    let scripted = Scripted::new([
        Scripted::json(201, json!({"id": id, "userName": "x"})),
        Scripted::json(200, json!({"id": id})),
        Scripted::json(204, json!(null)),
    ]);
    let ctx = super::direct::Ctx {
        run: "r".into(),
        mode: ScimMode::Default,
        missing_id: "m".into(),
        tenant_url: "http://127.0.0.1:1/scim/v2".into(),
        mapping: Default::default(),
        targets: Default::default(),
    };
    let mut steps = vec![super::direct::created_user(&ctx, "u", "enc")];
    steps.push(super::direct::patch(
        "set the manager",
        crate::scim::ResourceKind::User,
        "u",
        json!([{"op": "Add", "path": "manager", "value": "${u}"}]),
    ));
    let mut flow = StepsFlow::new("r", steps, false);
    let run = runner::conclude(&mut flow, &scripted).await;
    assert_eq!(run.failure, None);
    let encoded = "/Users/a%2Fb%20c%3Fd%23e%25f-%C3%BC";
    assert_eq!(
        scripted.lines(),
        [
            "POST /Users".to_string(),
            format!("PATCH {encoded}"),
            format!("DELETE {encoded}"),
        ]
    );
    let sent = scripted.sent.lock().unwrap();
    assert_eq!(sent[1].body.as_ref().unwrap()["Operations"][0]["value"], id);
}
