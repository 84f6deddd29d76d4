//! The token endpoint (`POST /oauth2/token`, RFC 6749 §4.4): both client authentication
//! methods, §5.1 answers, §5.2 errors, and the SCIM gate accepting only tokens it issued (and the
//! static token).

use std::time::Duration;

use base64::Engine as _;

use super::*;
use crate::target::OAuthClientConfig;

const FORM: &str = "application/x-www-form-urlencoded";

async fn oauth_target() -> Harness {
    start_with(TargetConfig {
        oauth: Some(OAuthClientConfig {
            client_id: "entra".into(),
            client_secret: "s3cret+/=".into(),
            token_lifetime: Duration::from_secs(3600),
        }),
        ..config()
    })
    .await
}

async fn token_request(h: &Harness, body: &str, basic: Option<&str>) -> Reply {
    let mut req = h
        .http
        .post(h.root_url("/oauth2/token"))
        .header("content-type", FORM)
        .body(body.to_owned());
    if let Some(credentials) = basic {
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        req = req.header("authorization", format!("Basic {encoded}"));
    }
    Harness::reply(req.send().await.unwrap()).await
}

async fn users_with(h: &Harness, token: &str) -> u16 {
    h.http
        .get(h.url("/Users"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn both_client_authentication_methods_get_a_bearer_token_that_the_gate_accepts() {
    let h = oauth_target().await;
    let post = token_request(
        &h,
        "grant_type=client_credentials&client_id=entra&client_secret=s3cret%2B%2F%3D&scope=scim",
        None,
    )
    .await;
    assert_eq!(post.status, 200, "{}", post.body);
    assert_eq!(post.body["token_type"], "Bearer");
    assert_eq!(post.body["expires_in"], 3600);
    assert_eq!(post.headers["cache-control"], "no-store");
    // §2.3.1: Basic carries the form-encoded id and secret.
    let basic = token_request(
        &h,
        "grant_type=client_credentials",
        Some("entra:s3cret%2B%2F%3D"),
    )
    .await;
    assert_eq!(basic.status, 200, "{}", basic.body);
    let issued = h.target.tokens_issued();
    assert_eq!(issued.len(), 2);
    assert_eq!(post.body["access_token"], issued[0].as_str());
    for token in &issued {
        assert_eq!(users_with(&h, token).await, 200);
    }
    assert_eq!(
        users_with(&h, TOKEN).await,
        200,
        "the static token still works"
    );
    assert_eq!(users_with(&h, "made-up").await, 401);
}

#[tokio::test]
async fn refusals_are_rfc_6749_errors() {
    let h = oauth_target().await;
    let cases: [(&str, Option<&str>, u16, &str); 6] = [
        (
            "grant_type=client_credentials&client_id=entra&client_secret=wrong",
            None,
            401,
            "invalid_client",
        ),
        (
            "grant_type=client_credentials",
            Some("entra:wrong"),
            401,
            "invalid_client",
        ),
        ("grant_type=client_credentials", None, 401, "invalid_client"),
        (
            "grant_type=password&client_id=entra&client_secret=s3cret%2B%2F%3D",
            None,
            400,
            "unsupported_grant_type",
        ),
        (
            "grant_type=client_credentials&client_id=entra&client_secret=s3cret%2B%2F%3D",
            Some("entra:s3cret%2B%2F%3D"),
            400,
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&grant_type=client_credentials",
            None,
            400,
            "invalid_request",
        ),
    ];
    for (body, basic, status, error) in cases {
        let reply = token_request(&h, body, basic).await;
        assert_eq!(
            (reply.status, reply.body["error"].as_str()),
            (status, Some(error)),
            "{body}"
        );
        assert_eq!(
            reply.headers.contains_key("www-authenticate"),
            basic.is_some() && status == 401,
            "{body}"
        );
    }
    assert!(h.target.tokens_issued().is_empty());
    let not_a_form = h
        .http
        .post(h.root_url("/oauth2/token"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), 400);
    // Without an OAuth client there is no token endpoint.
    let plain = start().await;
    let reply = token_request(&plain, "grant_type=client_credentials", None).await;
    assert_eq!(reply.status, 404);
}
