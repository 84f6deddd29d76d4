//! The target's OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials): `POST
//! /oauth2/token` at the server root issues opaque bearer tokens to the one configured client,
//! and the SCIM gate accepts a token only while it lives. Expiry is measured on the target's own
//! (real, monotonic) clock. Parsing is the target's own: it imports nothing from the crate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use crate::target::error::ScimError;
use crate::target::server::{Shared, lock};

/// The client the token endpoint knows, and how long its tokens live.
#[derive(Clone)]
pub struct OAuthClientConfig {
    pub client_id: String,
    pub client_secret: String,
    /// The lifetime of an issued token (`expires_in`).
    pub token_lifetime: Duration,
}

/// Issued tokens and their expiry.
pub struct Issuer {
    config: OAuthClientConfig,
    live: std::sync::Mutex<HashMap<String, Instant>>,
    /// Every token issued, in order (for tests that look for them where they must not be).
    issued: std::sync::Mutex<Vec<String>>,
}

// The target is a stand-alone test double: it cannot use crate::clock (tidy rule).
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

impl Issuer {
    pub fn new(config: OAuthClientConfig) -> Self {
        Issuer {
            config,
            live: Default::default(),
            issued: Default::default(),
        }
    }

    /// True when `token` was issued here and has not expired.
    pub fn accepts(&self, token: &str) -> bool {
        let mut live = lock(&self.live);
        match live.get(token) {
            Some(expiry) if now() < *expiry => true,
            Some(_) => {
                live.remove(token);
                false
            }
            None => false,
        }
    }

    /// Every token issued so far.
    pub fn issued(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    fn issue(&self) -> String {
        let token = format!(
            "{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        );
        let at = now();
        let mut live = lock(&self.live);
        live.retain(|_, expiry| at < *expiry);
        live.insert(token.clone(), at + self.config.token_lifetime);
        lock(&self.issued).push(token.clone());
        token
    }
}

/// An RFC 6749 §5.2 error answer.
fn oauth_error(status: StatusCode, error: &str, description: &str, basic: bool) -> Response {
    let body = json!({"error": error, "error_description": description});
    let mut resp = no_store_json(status, &body);
    let headers = resp.headers_mut();
    if basic {
        // §5.2: a 401 to a client that used the Authorization header names the scheme.
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"entra-sim\""),
        );
    }
    resp
}

fn invalid_request(description: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
        false,
    )
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The form's parameters; `None` when one is malformed or repeated (§3.2: "MUST NOT be included
/// more than once").
fn form(body: &[u8]) -> Option<HashMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if out
            .insert(form_decode(name)?, form_decode(value)?)
            .is_some()
        {
            return None;
        }
    }
    Some(out)
}

/// `Authorization: Basic`, decoded (§2.3.1: id and secret are form-encoded inside it).
fn basic(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let credentials = (|| {
        let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
        Some((form_decode(id)?, form_decode(secret)?))
    })();
    Some(credentials)
}

/// `POST /oauth2/token`.
pub async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(issuer) = &s.oauth else {
        return ScimError::not_found("no such endpoint").into_response();
    };
    let authenticated = client_credentials_request(&headers, &body)
        .and_then(|params| authenticated_client(&headers, &params))
        .and_then(|(id, secret, basic)| {
            if id != issuer.config.client_id || secret != issuer.config.client_secret {
                return Err(Refusal::InvalidClient { basic });
            }
            Ok(())
        });
    match authenticated {
        Ok(()) => issued_token(issuer),
        Err(refusal) => refusal.response(),
    }
}

/// Why a token request gets no token (§5.2).
enum Refusal {
    /// `invalid_request`, with its description.
    InvalidRequest(&'static str),
    /// `unsupported_grant_type`: only client credentials are.
    UnsupportedGrantType,
    /// `invalid_client`; `basic` when the client used HTTP Basic.
    InvalidClient { basic: bool },
}

impl Refusal {
    fn response(self) -> Response {
        match self {
            Refusal::InvalidRequest(description) => invalid_request(description),
            Refusal::UnsupportedGrantType => oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
                false,
            ),
            Refusal::InvalidClient { basic } => oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
                basic,
            ),
        }
    }
}

/// The form parameters of a client-credentials token request (§4.4.2).
fn client_credentials_request(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HashMap<String, String>, Refusal> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Refusal::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let Some(params) = form(body) else {
        return Err(Refusal::InvalidRequest(
            "a malformed or repeated form parameter",
        ));
    };
    match params.get("grant_type").map(String::as_str) {
        None => Err(Refusal::InvalidRequest("grant_type is missing")),
        Some("client_credentials") => Ok(params),
        Some(_) => Err(Refusal::UnsupportedGrantType),
    }
}

/// The client id and secret the request authenticates with (§2.3: in the body or with Basic,
/// not both), and whether it used Basic.
fn authenticated_client(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(String, String, bool), Refusal> {
    let in_body = match (params.get("client_id"), params.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        (None, None) => None,
        _ => {
            return Err(Refusal::InvalidRequest(
                "client_id and client_secret go together",
            ));
        }
    };
    let in_header = basic(headers);
    let used_basic = in_header.is_some();
    match (in_header, in_body) {
        (Some(_), Some(_)) => {
            // §2.3: "MUST NOT use more than one authentication method in each request".
            Err(Refusal::InvalidRequest(
                "the client authenticated both with Basic and in the body",
            ))
        }
        (Some(Some((id, secret))), None) | (None, Some((id, secret))) => {
            Ok((id, secret, used_basic))
        }
        (Some(None), None) | (None, None) => Err(Refusal::InvalidClient { basic: used_basic }),
    }
}

/// A new access token, as a token response (§5.1).
fn issued_token(issuer: &Issuer) -> Response {
    let access_token = issuer.issue();
    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": issuer.config.token_lifetime.as_secs().max(1),
    });
    let mut resp = no_store_json(StatusCode::OK, &body);
    // §5.1: "Pragma: no-cache" too on a response carrying a token.
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// A JSON answer of the token endpoint: `application/json`, never cached (§5.1, §5.2).
fn no_store_json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_repeated_parameters_are_refused() {
        let params = form(b"grant_type=client_credentials&scope=a+b%2Fc").unwrap();
        assert_eq!(params["scope"], "a b/c");
        assert!(form(b"a=1&a=2").is_none());
        assert!(form(b"a=%zz").is_none());
    }
}
