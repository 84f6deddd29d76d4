//! `UserFlow`'s create path with `SelectUniqueValue`: the candidate checks it sends and how it reads
//! the answers, driven with scripted replies.

use super::*;
use crate::expr::{EvalContext, parse};
use crate::plan::{Method, Request};
use crate::scim::CreateSettings;

fn ctx() -> EntryContext {
    EntryContext {
        job_id: "job".into(),
        cycle_id: "cycle".into(),
        change_id: "change".into(),
        now: chrono::DateTime::UNIX_EPOCH,
        mode: ScimMode::Default,
        target_name: "Target".into(),
        delete_not_found_is_success: true,
        member_batch_size: 1,
        create_settings: CreateSettings::default().into(),
        app: Default::default(),
    }
}

fn path(p: &str) -> TargetPath {
    TargetPath::parse(p).unwrap_or_else(|e| panic!("{p}: {e:?}"))
}

/// A new user matched on externalId whose userName is `SelectUniqueValue("a", "b", "c", "d")`.
fn flow() -> UserFlow {
    let expr = parse(r#"SelectUniqueValue("a", "b", "c", "d")"#).unwrap_or_else(|e| panic!("{e}"));
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    let mut ectx = EvalContext {
        now: chrono::DateTime::UNIX_EPOCH,
        rng: &mut rng,
    };
    let outcome = expr
        .evaluate(&std::collections::BTreeMap::new(), &mut ectx)
        .unwrap_or_else(|e| panic!("{e}"));
    let candidates = outcome.unique.unwrap_or_else(|| panic!("candidates"));
    let spec = ObjectSpec {
        create: vec![
            (path("externalId"), Value::from("n1"), false),
            (path("userName"), outcome.value, false),
        ],
        matching: vec![(path("externalId"), Some("n1".into()))],
        active: true,
        can_create: true,
        can_update: true,
        unique: vec![UniqueValue {
            index: 1,
            candidates,
        }],
        ..ObjectSpec::default()
    };
    UserFlow::new(ctx(), ObjectKey::user("n1"), "n1", spec, None, Vec::new())
}

fn list(total: u64, resources: serde_json::Value) -> Reply {
    Reply::Http {
        status: 200,
        retry_after: None,
        body: serde_json::json!({"totalResults": total, "Resources": resources})
            .to_string()
            .into_bytes(),
    }
}

fn user(id: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "userName": id})
}

fn send(next: Next) -> Request {
    match next {
        Next::Send(request) => request,
        Next::Done(outcome) => panic!("the flow ended: {outcome:?}"),
    }
}

#[test]
fn candidates_are_checked_in_order_until_one_is_free_and_that_one_is_created() {
    let mut flow = flow();
    let matching = send(flow.step(None));
    assert_eq!(matching.path, "/Users?filter=externalId+eq+%22n1%22");
    let mut checks = Vec::new();
    let mut next = flow.step(Some(list(0, serde_json::json!([]))));
    // One holder, a count with no resources listed, two holders: each says "taken".
    for answer in [
        list(1, serde_json::json!([user("x")])),
        list(2, serde_json::json!([])),
        list(2, serde_json::json!([user("y"), user("z")])),
        list(0, serde_json::json!([])),
    ] {
        let request = send(next);
        assert_eq!(request.method, Method::Get);
        checks.push(request.path);
        next = flow.step(Some(answer));
    }
    assert_eq!(
        checks,
        ["a", "b", "c", "d"].map(|c| format!("/Users?filter=userName+eq+%22{c}%22"))
    );
    let post = send(next);
    assert_eq!(post.method, Method::Post);
    let body = post.body.unwrap_or_default();
    assert_eq!(body["userName"], "d");
    let created = Reply::Http {
        status: 201,
        retry_after: None,
        body: serde_json::json!({"id": "t1", "userName": "d"})
            .to_string()
            .into_bytes(),
    };
    let Next::Done(outcome) = flow.step(Some(created)) else {
        panic!("the create ends the entry");
    };
    let log = outcome.log.unwrap_or_else(|| panic!("a log record"));
    assert_eq!(log.provisioning_action, ProvisioningAction::Create);
    let user_name = log
        .modified_properties
        .iter()
        .find(|p| p.display_name == "userName")
        .and_then(|p| p.new_value.clone());
    assert_eq!(user_name.as_deref(), Some("d"));
}

#[test]
fn a_failed_check_fails_the_entry_as_a_failed_matching_query_does_and_creates_nothing() {
    let mut flow = flow();
    send(flow.step(None));
    send(flow.step(Some(list(0, serde_json::json!([])))));
    let error = Reply::Http {
        status: 500,
        retry_after: None,
        body: Vec::new(),
    };
    let Next::Done(outcome) = flow.step(Some(error.clone())) else {
        panic!("a failed check ends the entry");
    };
    assert!(outcome.failed);
    assert!(outcome.changes.is_empty());
    let log = outcome.log.unwrap_or_else(|| panic!("a log record"));
    let code = log
        .provisioning_status_info
        .error_information
        .map(|e| e.error_code)
        .unwrap_or_default();
    let query = wire::interpret_query(error)
        .err()
        .map(|f| f.code.as_str().to_owned());
    assert_eq!(Some(code), query);
}

#[test]
fn every_candidate_taken_fails_the_entry_with_the_candidates_tried() {
    let mut flow = flow();
    send(flow.step(None));
    let mut next = flow.step(Some(list(0, serde_json::json!([]))));
    for _ in 0..4 {
        send(next);
        next = flow.step(Some(list(1, serde_json::json!([user("x")]))));
    }
    let Next::Done(outcome) = next else {
        panic!("no candidate left ends the entry");
    };
    assert!(outcome.failed);
    let info = outcome
        .log
        .and_then(|l| l.provisioning_status_info.error_information)
        .unwrap_or_else(|| panic!("an error"));
    assert_eq!(info.error_code, "ExpressionEvaluationFailed");
    assert_eq!(
        info.reason,
        "userName: SelectUniqueValue: every candidate already exists in the target: a, b, c, d"
    );
}
