//! The built-in SCIM 2.0 target: an in-memory SCIM server that entra-sim's quickstart and
//! integration tests provision into over real HTTP. It is a test double for users' servers and is
//! strict and honest: it accepts everything Microsoft Entra sends (default mode and
//! `aadOptscim062020`) and rejects what an RFC 7643/7644 server would, with RFC error shapes.
//!
//! Architecture invariant: this module imports nothing else from the crate; it parses what it
//! receives with its own types, so a shape bug in what entra-sim sends cannot pass its tests.
//!
//! Routes: `/scim/v2/{Users,Groups}[/{id}]`, `/scim/v2/{ServiceProviderConfig,ResourceTypes,Schemas}`,
//! and, outside the SCIM base, `/_admin/requests` (GET, DELETE), `/_admin/state` (GET) and
//! `/_admin/faults` (GET; PUT with a JSON list of [`FaultRule`] or a `text/plain` spec; DELETE),
//! all behind the same bearer token; `/oauth2/token` (POST, OAuth 2.0 client credentials) when an
//! OAuth client is configured, whose live tokens are accepted besides the static one; and
//! `/.well-known/jwks.json` when given issuer keys (`jwks`).
//!
//! Fault spec grammar (full form in `fault.rs`): rules separated by `;` or newlines, each
//! `METHOD /pattern=ACTION(:OPTION)*` with METHOD `GET|POST|PUT|PATCH|DELETE|*`, pattern relative
//! to `/scim/v2` (`*` = any path, a `*` segment = any one segment), ACTION a status `100`–`599`,
//! `drop`, `unauthorized` or `pass`, OPTION `times=N`, `rate=F`, `seed=N`, `retry-after=S`,
//! `latency=MS`. Example: `POST /Users=500:times=1; PATCH /Groups/*=429:retry-after=5:rate=0.5`.
//!
//! Quirks ([`Quirk`], `quirk.rs`) are opt-in behaviours of real servers that fault rules cannot
//! express (a case-sensitive filter, duplicates accepted, string booleans refused, …).

mod conn;
mod discovery;
mod error;
mod eval;
mod fault;
mod filter;
mod handlers;
mod jwks;
mod oauth;
mod patch;
mod quirk;
mod record;
mod resource;
mod schema;
mod server;
mod store;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use fault::{FaultAction, FaultRule, FaultSpecError, FaultState, parse_spec};
pub use jwks::Jwks;
pub use oauth::OAuthClientConfig;
pub use quirk::{Quirk, UnknownQuirk};
pub use record::{AuthSeen, RecordedBody, RecordedRequest};

use conn::{Conn, KillableListener};
use schema::Kind;
use server::{Shared, lock};

/// How PATCH is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchResponse {
    /// `200` with the full resource.
    Resource,
    /// `204 No Content` (what Entra advises for groups).
    NoContent,
}

/// Where `meta.created` / `meta.lastModified` come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetClock {
    System,
    /// Every timestamp is this instant (stable transcripts in tests).
    Fixed(DateTime<Utc>),
}

/// Target settings.
#[derive(Clone)]
pub struct TargetConfig {
    /// Bearer token required on every request when `Some`.
    pub token: Option<String>,
    /// Default [`PatchResponse::Resource`].
    pub user_patch_response: PatchResponse,
    /// Default [`PatchResponse::NoContent`].
    pub group_patch_response: PatchResponse,
    /// Seed of the id sequence: the same seed gives the same ids in the same order.
    pub id_seed: u64,
    pub clock: TargetClock,
    /// Page size when `count` is absent, and the cap on `count`. Default 100.
    pub max_page_size: usize,
    /// Fault rules active from the start (see [`parse_spec`]).
    pub faults: Vec<FaultRule>,
    /// Base URL for `meta.location`; default `http://<bound addr>/scim/v2`.
    pub public_base_url: Option<String>,
    /// How many requests the log keeps (oldest dropped first). Default 100 000.
    pub max_recorded: usize,
    /// Resources to start with (a [`RunningTarget::snapshot`] of an earlier run).
    pub initial: Option<Snapshot>,
    /// An OAuth client: `POST /oauth2/token` issues tokens to it, and its live tokens are
    /// accepted besides `token`.
    pub oauth: Option<OAuthClientConfig>,
    /// Issuer keys served at `/.well-known/jwks.json`; with no `token`, a bearer JWT that
    /// verifies against them is then required ([`Jwks::accepts`]).
    pub jwks: Option<Jwks>,
    /// Behaviours of real servers to reproduce (see [`Quirk`]); none by default.
    pub quirks: Vec<Quirk>,
}

/// Everything the target stores, to carry its data from one run to the next.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Users as stored.
    pub users: Vec<Value>,
    /// Groups as stored (with members).
    pub groups: Vec<Value>,
    /// The id counter, so new ids never repeat old ones.
    pub next_id: u64,
}

impl Default for TargetConfig {
    fn default() -> Self {
        TargetConfig {
            token: None,
            user_patch_response: PatchResponse::Resource,
            group_patch_response: PatchResponse::NoContent,
            id_seed: 0,
            clock: TargetClock::System,
            max_page_size: 100,
            faults: Vec::new(),
            public_base_url: None,
            max_recorded: 100_000,
            initial: None,
            oauth: None,
            jwks: None,
            quirks: Vec::new(),
        }
    }
}

impl fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TargetConfig")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field(
                "oauth",
                &self
                    .oauth
                    .as_ref()
                    .map(|o| (&o.client_id, o.token_lifetime)),
            )
            .field("user_patch_response", &self.user_patch_response)
            .field("group_patch_response", &self.group_patch_response)
            .field("id_seed", &self.id_seed)
            .field("clock", &self.clock)
            .field("max_page_size", &self.max_page_size)
            .field("faults", &self.faults)
            .field("public_base_url", &self.public_base_url)
            .field("max_recorded", &self.max_recorded)
            .field("jwks", &self.jwks)
            .field("quirks", &self.quirks)
            .field(
                "initial",
                &self
                    .initial
                    .as_ref()
                    .map(|s| (s.users.len(), s.groups.len())),
            )
            .finish()
    }
}

fn base_url(listener: &TcpListener, config: &TargetConfig) -> io::Result<String> {
    match &config.public_base_url {
        Some(b) => Ok(b.trim_end_matches('/').to_string()),
        None => Ok(format!(
            "http://{}{}",
            listener.local_addr()?,
            server::SCIM_PREFIX
        )),
    }
}

async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = server::router(shared).into_make_service_with_connect_info::<Conn>();
    axum::serve(KillableListener(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the target on `listener` until `shutdown` completes (then drains in-flight requests).
pub async fn serve(
    listener: TcpListener,
    config: TargetConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let base = base_url(&listener, &config)?;
    let initial = config.initial.clone();
    let shared = Arc::new(Shared::new(config, base));
    if let Some(snapshot) = &initial {
        shared.import(snapshot).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("target snapshot: {e:?}"),
            )
        })?;
    }
    run(listener, shared, shutdown).await
}

/// Starts the target in-process on `127.0.0.1:0`.
pub async fn spawn(config: TargetConfig) -> io::Result<RunningTarget> {
    spawn_on(TcpListener::bind("127.0.0.1:0").await?, config)
}

fn spawn_on(listener: TcpListener, config: TargetConfig) -> io::Result<RunningTarget> {
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(config.clone(), base_url(&listener, &config)?));
    if let Some(snapshot) = &config.initial {
        shared.import(snapshot).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("target snapshot: {e:?}"),
            )
        })?;
    }
    let (tx, rx) = oneshot::channel::<()>();
    // Dropping the RunningTarget drops `tx`, which also ends the server.
    let task = tokio::spawn(run(listener, shared.clone(), async {
        let _ = rx.await;
    }));
    Ok(RunningTarget {
        shared,
        addr,
        stop: Some(tx),
        task,
    })
}

/// A target started by [`spawn`]; dropping it stops the server.
pub struct RunningTarget {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl RunningTarget {
    /// `http://127.0.0.1:PORT/scim/v2` (or the configured public base URL).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The recorded requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.recorder).all()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.recorder).clear();
    }

    /// Everything stored, to start a later target with ([`TargetConfig::initial`]).
    pub fn snapshot(&self) -> Snapshot {
        self.shared.export()
    }

    /// Stored users as a GET would return them, in creation order.
    pub fn users(&self) -> Vec<Value> {
        self.shared.snapshot(Kind::User)
    }

    /// Stored groups (with members), in creation order.
    pub fn groups(&self) -> Vec<Value> {
        self.shared.snapshot(Kind::Group)
    }

    /// Replaces the fault rules (counters restart).
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        *lock(&self.shared.faults) = fault::FaultSet::new(rules);
    }

    /// The access tokens `POST /oauth2/token` issued, oldest first.
    pub fn tokens_issued(&self) -> Vec<String> {
        self.shared
            .oauth
            .as_ref()
            .map_or_else(Vec::new, |o| o.issued())
    }

    /// The fault rules with their counters.
    pub fn faults(&self) -> Vec<FaultState> {
        lock(&self.shared.faults).states()
    }

    /// Stops accepting, drains in-flight requests, and waits for the server to end.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.map_err(io::Error::other)?
    }
}
