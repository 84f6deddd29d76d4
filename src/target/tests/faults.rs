//! Fault injection and the admin endpoints over HTTP.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::target::parse_spec;

fn with_faults(spec: &str) -> TargetConfig {
    TargetConfig {
        faults: parse_spec(spec).unwrap(),
        ..config()
    }
}

fn new_user(name: &str) -> Option<Value> {
    Some(json!({"schemas": [USER_URN], "userName": name}))
}

#[tokio::test]
async fn first_n_requests_fail_then_pass() {
    let h = start_with(with_faults("POST /Users=500:times=1")).await;
    let r = h.send("POST", "/Users", new_user("f@x")).await;
    r.assert_error(500, None);
    assert!(
        h.target.users().is_empty(),
        "a faulted request must not touch the store"
    );
    assert_eq!(h.send("POST", "/Users", new_user("f@x")).await.status, 201);
    let reqs = h.target.requests();
    assert_eq!((reqs[0].status, reqs[0].fault), (Some(500), Some(0)));
    assert_eq!((reqs[1].status, reqs[1].fault), (Some(201), None));
    let states = h.target.faults();
    assert_eq!((states[0].matched, states[0].fired), (2, 1));
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after() {
    let h = start_with(with_faults("GET /Users=429:retry-after=7:times=1")).await;
    let r = h.get("/Users").await;
    r.assert_error(429, None);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(h.get("/Users").await.status, 200);
}

#[tokio::test]
async fn dropped_connection_gets_no_answer() {
    let h = start_with(with_faults("PATCH /Users/*=drop:times=1")).await;
    let id = h.create_user("d@x").await;
    let body = json!({"schemas": [PATCH_URN], "Operations": [{"op": "Add", "path": "title", "value": "t"}]});
    let sent = h
        .http
        .patch(h.url(&format!("/Users/{id}")))
        .bearer_auth(TOKEN)
        .header("content-type", SCIM)
        .body(body.to_string())
        .send()
        .await;
    assert!(sent.is_err(), "{sent:?}");
    assert_eq!(
        h.patch(&format!("/Users/{id}"), body["Operations"].clone())
            .await
            .status,
        200
    );
    let reqs = h.target.requests();
    let dropped = reqs.iter().find(|r| r.fault.is_some()).unwrap();
    assert_eq!(dropped.status, None);
}

#[tokio::test]
async fn rejected_token_and_latency() {
    let h = start_with(with_faults(
        "* *=unauthorized:times=1; GET /Groups=pass:latency=40",
    ))
    .await;
    h.get("/Users").await.assert_error(401, None);
    assert_eq!(h.get("/Users").await.status, 200);
    #[allow(clippy::disallowed_methods)] // measures the injected latency on the wire
    let t = Instant::now();
    assert_eq!(h.get("/Groups").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(40));
}

#[tokio::test]
async fn rate_faults_are_seeded() {
    let spec = "GET /Users/*=503:rate=0.5:seed=11";
    let mut runs = Vec::new();
    for _ in 0..2 {
        let h = start_with(with_faults(spec)).await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(h.get("/Users/none").await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&503) && runs[0].contains(&404),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn admin_faults_roundtrip() {
    let h = start().await;
    let url = h.root_url("/_admin/faults");
    let put = h
        .http
        .put(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(
            json!([{"method": "DELETE", "path": "/Users/*", "action": {"status": 503}, "times": 1,
                      "body": {"error": "maintenance"}}])
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let id = h.create_user("a@x").await;
    let r = h.send("DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (503, json!({"error": "maintenance"}))
    );
    let states: Value = h
        .http
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(states[0]["fired"], 1);
    assert_eq!(states[0]["rule"]["action"], json!({"status": 503}));

    let text = h
        .http
        .put(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain")
        .body("GET /Users=500")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);
    assert_eq!(h.get("/Users").await.status, 500);
    let bad = h
        .http
        .put(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain")
        .body("GET /Users=oops")
        .send()
        .await
        .unwrap();
    Harness::reply(bad)
        .await
        .assert_error(400, Some("invalidValue"));
    let del = h.http.delete(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(del.status(), 204);
    assert_eq!(h.get("/Users").await.status, 200);
}

#[tokio::test]
async fn admin_requests_and_state() {
    let h = start().await;
    let u = h.create_user("s@x").await;
    h.create_group("G", &[&u]).await;
    let state: Value = h
        .http
        .get(h.root_url("/_admin/state"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["users"][0]["userName"], "s@x");
    assert_eq!(state["groups"][0]["members"], json!([{"value": u}]));
    let reqs: Value = h
        .http
        .get(h.root_url("/_admin/requests"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        reqs.as_array().map(Vec::len),
        Some(2),
        "admin calls are not recorded"
    );
    assert_eq!(reqs[0]["auth"], "valid");
    assert_eq!(reqs[1]["body"]["json"]["displayName"], "G");
    let del = h
        .http
        .delete(h.root_url("/_admin/requests"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert!(h.target.requests().is_empty());
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let h = start().await;
    let url = h.url("/Users");
    let Harness { target, http } = h;
    target.shutdown().await.unwrap();
    assert!(http.get(url).bearer_auth(TOKEN).send().await.is_err());
}

#[tokio::test]
async fn serve_on_a_given_listener() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(crate::target::serve(
        listener,
        TargetConfig::default(),
        async {
            let _ = rx.await;
        },
    ));
    let r = reqwest::get(format!(
        "http://{addr}/scim/v2/Users?filter=userName+eq+%22x%22"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
}
