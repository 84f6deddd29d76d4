//! End-to-end tests of the target over real HTTP on 127.0.0.1:0: one module per area (Entra
//! pitfalls, the SCIM API and its error shapes, fault injection and admin, quirks).

mod api;
mod faults;
mod oauth;
mod pitfalls;
mod quirks;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{RunningTarget, TargetClock, TargetConfig, spawn};

pub const TOKEN: &str = "s3cret-token";
pub const SCIM: &str = "application/scim+json";
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts an RFC 7644 error body with this status and scimType.
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["schemas"], json!([ERROR_URN]), "{}", self.body);
        assert_eq!(
            self.body["status"],
            json!(status.to_string()),
            "{}",
            self.body
        );
        assert_eq!(
            self.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "{}",
            self.body
        );
        assert!(self.body["detail"].is_string(), "{}", self.body);
        assert!(
            self.content_type().starts_with(SCIM),
            "{}",
            self.content_type()
        );
    }
}

pub struct Harness {
    pub target: RunningTarget,
    pub http: reqwest::Client,
}

pub fn config() -> TargetConfig {
    TargetConfig {
        token: Some(TOKEN.into()),
        clock: TargetClock::Fixed(chrono::DateTime::UNIX_EPOCH),
        ..TargetConfig::default()
    }
}

pub async fn start() -> Harness {
    start_with(config()).await
}

pub async fn start_with(config: TargetConfig) -> Harness {
    Harness {
        target: spawn(config).await.unwrap(),
        http: reqwest::Client::new(),
    }
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target.base_url())
    }

    pub fn root_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.target.addr())
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends `body` (if any) as `application/scim+json` with the bearer token.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, self.url(path)).bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.header("content-type", SCIM).body(b.to_string());
        }
        Self::reply(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    pub async fn patch(&self, path: &str, ops: Value) -> Reply {
        self.send(
            "PATCH",
            path,
            Some(json!({"schemas": [PATCH_URN], "Operations": ops})),
        )
        .await
    }

    pub async fn create_user(&self, user_name: &str) -> String {
        let r = self
            .send(
                "POST",
                "/Users",
                Some(json!({"schemas": [USER_URN], "userName": user_name, "active": true})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self
            .send(
                "POST",
                "/Groups",
                Some(json!({"schemas": [GROUP_URN], "displayName": name, "members": members})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// The stored group as the admin snapshot shows it (with members).
    pub fn group(&self, id: &str) -> Value {
        self.target
            .groups()
            .into_iter()
            .find(|g| g["id"] == id)
            .unwrap_or(Value::Null)
    }
}
