//! The cycle planner: a pure state machine that decides, object by object, which SCIM requests
//! Entra would send and why. It never performs IO: each [`Flow`] offers the next [`Request`] and is
//! fed the [`Reply`]; when it is done it hands back an [`EntryOutcome`] (the log record and the state
//! changes to persist). `cycle`, `provision-on-demand` and tests all drive the same flows, so what is
//! planned is what is sent.

pub mod conformance;
pub mod connection;
mod cycle;
mod deprovision;
pub mod desired;
pub mod drift;
mod flows;
pub mod probe;
mod references;
pub mod wire;

pub use cycle::{
    CycleInputs, CycleKind, CyclePlan, CycleRules, SourceObject, Work, classify_objects,
};
pub use deprovision::{DeleteFlow, DisableFlow, SkipFlow};
pub use flows::{EntryContext, GroupFlow, ObjectSpec, UserFlow, evaluation_failure};
pub use references::{ManagerFlow, MembersFlow};

use serde::{Deserialize, Serialize};

use crate::provlog::LogEntry;
use crate::scim::ErrorCode;

/// Users or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    /// A user.
    User,
    /// A group.
    Group,
}

impl ObjectKind {
    /// `User` or `Group`, as in logs and SCIM `resourceType`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::User => "User",
            ObjectKind::Group => "Group",
        }
    }

    /// The SCIM endpoint, `/Users` or `/Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            ObjectKind::User => "/Users",
            ObjectKind::Group => "/Groups",
        }
    }
}

/// A source object's identity: its kind and Entra objectId.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// User or group.
    pub kind: ObjectKind,
    /// The Entra objectId.
    pub object_id: String,
}

impl ObjectKey {
    /// A user's key.
    pub fn user(object_id: &str) -> Self {
        Self {
            kind: ObjectKind::User,
            object_id: object_id.to_string(),
        }
    }

    /// A group's key.
    pub fn group(object_id: &str) -> Self {
        Self {
            kind: ObjectKind::Group,
            object_id: object_id.to_string(),
        }
    }

    /// Parses the `user:<id>` / `group:<id>` form used as a store key.
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, id) = s.split_once(':')?;
        match kind {
            "user" => Some(Self::user(id)),
            "group" => Some(Self::group(id)),
            _ => None,
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ObjectKind::User => write!(f, "user:{}", self.object_id),
            ObjectKind::Group => write!(f, "group:{}", self.object_id),
        }
    }
}

/// An object connection (spec §0): the SCIM `id` the server gave the object, plus the references
/// Entra last exported, which it never reads back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Anchor {
    /// The target's SCIM `id`.
    pub target_id: String,
    /// The manager's target id as last exported (users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// Member target ids as last exported (groups), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// The connections a cycle knows, by object (looked up once or more per object, never walked in
/// an order that matters: whoever walks them sorts).
pub type Anchors = std::collections::HashMap<ObjectKey, Anchor>;

/// HTTP methods Entra uses. Serialized as HTTP writes them (`"POST"`, not `"Post"`), so every
/// `--json` output that shows a request reads like the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One request Entra would send, relative to the Tenant URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Path and query after the Tenant URL, e.g. `/Users?filter=userName+eq+%22a%22`.
    pub path: String,
    /// The JSON body (POST, PATCH).
    pub body: Option<serde_json::Value>,
}

/// What came back for a [`Request`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An HTTP response.
    Http {
        /// Status code.
        status: u16,
        /// The `Retry-After` header, if any.
        retry_after: Option<String>,
        /// The raw body.
        body: Vec<u8>,
    },
    /// The request never got a response.
    Transport {
        /// True when it timed out.
        timeout: bool,
        /// True when no connection could be made (the Tenant URL is unreachable).
        connect: bool,
        /// What went wrong (never contains the token).
        message: String,
    },
    /// The request was never sent: no access token could be obtained from the job's OAuth token
    /// endpoint. Entra's credential failure, as a 401 from the server would be on Test Connection.
    NoToken {
        /// Which: the endpoint refused the client, could not be reached, or answered garbage
        /// (never contains a secret).
        message: String,
    },
}

/// What a flow wants next. An entry's flow ends with its [`EntryOutcome`]; a command's flow
/// (`drift`, `compare-modes --probe`, `test-connection`) with its own result `D`.
#[derive(Debug)]
pub enum Next<D = Box<EntryOutcome>> {
    /// Send this request and feed the reply back.
    Send(Request),
    /// The flow is finished.
    Done(D),
}

/// The state changes an entry asks the runner to persist.
#[derive(Debug, Clone, PartialEq)]
pub enum StateChange {
    /// Record or replace a connection.
    PutAnchor(ObjectKey, Anchor),
    /// Forget a connection (and what the target was last known to hold).
    RemoveAnchor(ObjectKey),
    /// What the target now holds for the object, as far as Entra knows (its mapped attributes as
    /// last exported or confirmed); `plan --offline` plans against it.
    Known(ObjectKey, serde_json::Value),
}

/// A failure of the job as a whole (credentials, SCIM compliance, unreachable endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// Entra's error code.
    pub code: ErrorCode,
    /// The reason text.
    pub reason: String,
}

/// The result of one entry.
#[derive(Debug, Default)]
pub struct EntryOutcome {
    /// The provisioning-log record, if this entry produces one.
    pub log: Option<LogEntry>,
    /// State to persist (before the next request that depends on it).
    pub changes: Vec<StateChange>,
    /// True when the entry failed and must be retried in a later cycle (escrow).
    pub failed: bool,
    /// The job-level failure this entry hit (bad credentials, SCIM-compliance failure), if any.
    pub job_failure: Option<JobFailure>,
}

/// A state machine for one object change (or, with another `D`, for one command's requests).
pub trait Flow<D = Box<EntryOutcome>> {
    /// Given the reply to the previous request (`None` at the start), says what to do next.
    fn step(&mut self, reply: Option<Reply>) -> Next<D>;
}
