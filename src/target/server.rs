//! The HTTP shell: shared state, the router, the gate every SCIM request passes (record → bearer
//! check → fault rules → handler) and the `/_admin` endpoints (requests, state, faults).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::target::conn::Conn;
use crate::target::error::{SCIM_JSON, ScimError, ScimType, scim_json};
use crate::target::fault::{self, FaultAction, FaultRule, FaultSet};
use crate::target::jwks::Jwks;
use crate::target::oauth::{self, Issuer};
use crate::target::quirk::{Quirk, Quirks};
use crate::target::record::{AuthSeen, RECORDED_HEADERS, RecordedBody, RecordedRequest, Recorder};
use crate::target::resource::{Projection, render};
use crate::target::schema::Kind;
use crate::target::store::Store;
use crate::target::{PatchResponse, TargetClock, TargetConfig, handlers};

pub const SCIM_PREFIX: &str = "/scim/v2";
/// Largest request body accepted (axum's own default for extractors).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// Everything the handlers share.
pub struct Shared {
    pub users: RwLock<Store>,
    pub groups: RwLock<Store>,
    pub base_url: String,
    pub user_patch: PatchResponse,
    pub group_patch: PatchResponse,
    pub max_page: usize,
    /// The real-server behaviours this target reproduces.
    pub quirks: Quirks,
    token: Option<String>,
    /// The OAuth token endpoint's client and the tokens it issued (`--oauth-client`).
    pub oauth: Option<Issuer>,
    jwks: Option<Jwks>,
    clock: TargetClock,
    id_seed: u64,
    id_counter: AtomicU64,
    pub recorder: Mutex<Recorder>,
    pub faults: Mutex<FaultSet>,
}

pub fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

pub fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

pub fn lock<T>(l: &Mutex<T>) -> MutexGuard<'_, T> {
    l.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn new(config: TargetConfig, base_url: String) -> Self {
        let quirks = Quirks::new(&config.quirks);
        let unique = !quirks.has(Quirk::NoUniqueness);
        Shared {
            users: RwLock::new(Store::new(Kind::User).with_uniqueness(unique)),
            groups: RwLock::new(Store::new(Kind::Group).with_uniqueness(unique)),
            quirks,
            base_url,
            user_patch: config.user_patch_response,
            group_patch: config.group_patch_response,
            max_page: config.max_page_size.max(1),
            token: config.token,
            oauth: config.oauth.map(Issuer::new),
            jwks: config.jwks,
            clock: config.clock,
            id_seed: config.id_seed,
            id_counter: AtomicU64::new(0),
            recorder: Mutex::new(Recorder::new(config.max_recorded)),
            faults: Mutex::new(FaultSet::new(config.faults)),
        }
    }

    pub fn store(&self, kind: Kind) -> &RwLock<Store> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    /// A fresh 20-hex-digit id, deterministic per seed: SplitMix64 is a bijection of the counter.
    pub fn next_id(&self) -> String {
        let n = self.id_counter.fetch_add(1, Ordering::Relaxed);
        let mut st = self.id_seed ^ n.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let hi = fault::splitmix64(&mut st);
        let lo = fault::splitmix64(&mut st);
        format!("{hi:016x}{:04x}", lo & 0xffff)
    }

    pub fn now(&self) -> String {
        let t = match self.clock {
            // The target is a stand-alone test double: it cannot use crate::clock (tidy rule).
            #[allow(clippy::disallowed_methods)]
            TargetClock::System => chrono::Utc::now(),
            TargetClock::Fixed(t) => t,
        };
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    fn auth(&self, headers: &HeaderMap) -> AuthSeen {
        let Some(h) = headers.get(header::AUTHORIZATION) else {
            return AuthSeen::Missing;
        };
        if self.open() {
            return AuthSeen::Present;
        }
        let given = h.to_str().ok().and_then(|v| {
            let (scheme, tok) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim())
        });
        // The static token, a live token the OAuth endpoint issued, or — with no static token —
        // a JWT the issuer keys verify.
        let valid = given.is_some_and(|given| {
            self.token.as_deref() == Some(given)
                || self.oauth.as_ref().is_some_and(|o| o.accepts(given))
                || (self.token.is_none() && self.jwks.as_ref().is_some_and(|j| j.accepts(given)))
        });
        if valid {
            AuthSeen::Valid
        } else {
            AuthSeen::Invalid
        }
    }

    /// No token of any kind is required.
    fn open(&self) -> bool {
        self.token.is_none() && self.oauth.is_none() && self.jwks.is_none()
    }

    fn authorized(&self, seen: AuthSeen) -> bool {
        self.open() || seen == AuthSeen::Valid
    }

    /// The stored resources exactly as stored (for [`Snapshot`](super::Snapshot)), and the id counter.
    pub fn export(&self) -> super::Snapshot {
        let raw = |kind| -> Vec<Value> {
            read(self.store(kind))
                .query(None)
                .into_iter()
                .map(|r| Value::Object(r.clone()))
                .collect()
        };
        super::Snapshot {
            users: raw(Kind::User),
            groups: raw(Kind::Group),
            next_id: self.id_counter.load(Ordering::Relaxed),
        }
    }

    /// Loads a [`Snapshot`](super::Snapshot) into an empty target.
    pub fn import(&self, snapshot: &super::Snapshot) -> Result<(), ScimError> {
        for (kind, resources) in [
            (Kind::User, &snapshot.users),
            (Kind::Group, &snapshot.groups),
        ] {
            let mut store = write(self.store(kind));
            for resource in resources {
                let Value::Object(map) = resource else {
                    return Err(ScimError::new(
                        400,
                        None,
                        "a snapshot resource is not an object",
                    ));
                };
                store.restore(map.clone(), &self.base_url)?;
            }
        }
        self.id_counter.store(snapshot.next_id, Ordering::Relaxed);
        Ok(())
    }

    pub fn snapshot(&self, kind: Kind) -> Vec<Value> {
        let store = read(self.store(kind));
        store
            .query(None)
            .into_iter()
            .map(|r| render(kind, r.clone(), &Projection::default(), &self.base_url))
            .collect()
    }
}

fn unauthorized() -> Response {
    ScimError::new(401, None, "missing or invalid bearer token").into_response()
}

fn fault_response(status: u16, retry_after: Option<u64>, body: Option<Value>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = body.unwrap_or_else(|| {
        ScimError::new(status, None, format!("injected fault: HTTP {status}")).body()
    });
    let mut resp = scim_json(code, &body);
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Error answers produced by the router or an extractor (404, 405, a bad path segment) become
/// SCIM errors, as a SCIM server answers them.
fn scimify(resp: Response) -> Response {
    let status = resp.status();
    let is_scim = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(SCIM_JSON.as_bytes()));
    if is_scim || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let detail = match status {
        StatusCode::NOT_FOUND => "no such endpoint",
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this endpoint",
        other => other.canonical_reason().unwrap_or("request failed"),
    };
    let mut out = ScimError::new(status.as_u16(), None, detail).into_response();
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

async fn gate(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let auth = s.auth(&parts.headers);
    let (bytes, too_big) = match to_bytes(body, MAX_BODY).await {
        Ok(b) => (b, false),
        Err(_) => (Bytes::new(), true),
    };
    let seq = begin_record(&s, &parts, auth, &bytes);
    let fired = if s.authorized(auth) {
        lock(&s.faults).decide(parts.method.as_str(), parts.uri.path())
    } else {
        None
    };
    let fault_index = fired.as_ref().map(|f| f.rule);
    if let Some(f) = &fired
        && f.latency_ms > 0
    {
        // A latency fault is a real delay on the wire; the target cannot use crate::clock.
        #[allow(clippy::disallowed_methods)]
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    let resp = match fired.map(|f| (f.action, f)) {
        _ if !s.authorized(auth) => unauthorized(),
        Some((FaultAction::Drop, _)) => {
            if let Some(c) = parts.extensions.get::<ConnectInfo<Conn>>() {
                c.0.kill();
            }
            lock(&s.recorder).finish(seq, None, fault_index);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some((FaultAction::Unauthorized, _)) => unauthorized(),
        Some((FaultAction::Status(code), f)) => fault_response(code, f.retry_after, f.body),
        _ if too_big => ScimError::new(413, None, "request body too large").into_response(),
        _ => scimify(
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await,
        ),
    };
    lock(&s.recorder).finish(seq, Some(resp.status().as_u16()), fault_index);
    resp
}

/// Starts the request's record and returns its sequence number. With recording off
/// (`max_recorded: 0`) no header or body is copied or parsed for the log: the target must not
/// be the bottleneck of a scale benchmark.
fn begin_record(
    s: &Shared,
    parts: &axum::http::request::Parts,
    auth: AuthSeen,
    bytes: &Bytes,
) -> u64 {
    // Inside the nested router the URI lacks `/scim/v2`; record what the client sent.
    let full = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |o| &o.0);
    let path = full
        .path_and_query()
        .map_or_else(|| full.path().to_string(), |pq| pq.as_str().to_string());
    let keeps = lock(&s.recorder).keeps();
    let headers = if keeps {
        RECORDED_HEADERS
            .iter()
            .filter_map(|h| {
                let v = parts.headers.get(*h)?.to_str().ok()?;
                Some(((*h).to_string(), v.to_string()))
            })
            .collect()
    } else {
        Default::default()
    };
    let body = if keeps {
        RecordedBody::from_bytes(bytes)
    } else {
        RecordedBody::Empty
    };
    lock(&s.recorder).begin(RecordedRequest {
        seq: 0,
        method: parts.method.to_string(),
        path,
        headers,
        auth,
        body,
        status: None,
        fault: None,
    })
}

async fn admin_gate(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if !s.authorized(s.auth(req.headers())) {
        return unauthorized();
    }
    next.run(req).await
}

fn admin_json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn faults_json(s: &Shared) -> Value {
    serde_json::to_value(lock(&s.faults).states()).unwrap_or(Value::Null)
}

async fn admin_faults(
    State(s): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match method {
        Method::GET => admin_json(StatusCode::OK, &faults_json(&s)),
        Method::DELETE => {
            *lock(&s.faults) = FaultSet::default();
            StatusCode::NO_CONTENT.into_response()
        }
        _ => {
            let is_text = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/plain"));
            let rules: Result<Vec<FaultRule>, String> = if is_text {
                fault::parse_spec(&String::from_utf8_lossy(&body)).map_err(|e| e.to_string())
            } else {
                serde_json::from_slice(&body).map_err(|e| format!("fault rules: {e}"))
            };
            match rules {
                Ok(rules) => {
                    *lock(&s.faults) = FaultSet::new(rules);
                    admin_json(StatusCode::OK, &faults_json(&s))
                }
                Err(e) => ScimError::bad(ScimType::InvalidValue, e).into_response(),
            }
        }
    }
}

async fn admin_requests(State(s): State<Arc<Shared>>, method: Method) -> Response {
    if method == Method::DELETE {
        lock(&s.recorder).clear();
        return StatusCode::NO_CONTENT.into_response();
    }
    let all = lock(&s.recorder).all();
    admin_json(
        StatusCode::OK,
        &serde_json::to_value(all).unwrap_or(Value::Null),
    )
}

async fn admin_state(State(s): State<Arc<Shared>>) -> Response {
    let body = json!({"users": s.snapshot(Kind::User), "groups": s.snapshot(Kind::Group)});
    admin_json(StatusCode::OK, &body)
}

async fn jwks_document(State(s): State<Arc<Shared>>) -> Response {
    match &s.jwks {
        Some(jwks) => admin_json(StatusCode::OK, jwks.document()),
        None => {
            ScimError::not_found("no JWKS: the target was started without --jwks").into_response()
        }
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    let scim = handlers::routes()
        .fallback(|| async { ScimError::not_found("no such endpoint") })
        .layer(middleware::from_fn_with_state(shared.clone(), gate));
    let admin = Router::new()
        .route(
            "/_admin/faults",
            get(admin_faults).put(admin_faults).delete(admin_faults),
        )
        .route(
            "/_admin/requests",
            get(admin_requests).delete(admin_requests),
        )
        .route("/_admin/state", get(admin_state))
        .layer(middleware::from_fn_with_state(shared.clone(), admin_gate));
    // Public, as an issuer's keys are.
    let keys = Router::new().route("/.well-known/jwks.json", get(jwks_document));
    Router::new()
        .nest(SCIM_PREFIX, scim)
        .merge(admin)
        .route("/oauth2/token", post(oauth::token))
        .merge(keys)
        .fallback(|| async { ScimError::not_found("no such endpoint") })
        .with_state(shared)
}
