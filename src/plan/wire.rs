//! The planner's view of the wire: builds [`Request`]s from `scim` bodies and paths, and reads
//! [`Reply`]s through `scim::classify` into what a flow needs next.

use serde_json::Value as Json;

use super::{Method, ObjectKind, Reply, Request};
use crate::expr::Value;
use crate::provlog::{ErrorInformation, ModifiedProperty};
use crate::scim::{
    self, AttrChange, CreateSettings, ErrorCode, OpKind, Outcome, ResourceKind, RoleFunction,
    ScimMode, TargetPath, TransportKind,
};

/// The enterprise extension's manager path, as it appears in PATCH and logs.
pub const MANAGER_PATH: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

/// A failed step, as the log and the job status need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Entra's error code: the one the server's answer classified to, or the planner's own.
    pub code: ErrorCode,
    /// The reason text.
    pub reason: String,
    /// A job-level failure (credentials, SCIM compliance): the job, not just the object, is unhealthy.
    pub job_level: bool,
    /// The server said 404 for a connected object.
    pub not_found: bool,
    /// A reference export (manager, member) failed: tracked apart from object failures.
    pub reference: bool,
}

impl Failure {
    /// A failure decided locally, without a server response.
    pub fn local(code: ErrorCode, reason: String) -> Self {
        Self {
            code,
            reason,
            job_level: false,
            not_found: false,
            reference: false,
        }
    }

    fn from_scim(failure: scim::Failure, unreachable: bool) -> Self {
        Self {
            code: failure.code,
            not_found: failure.code == ErrorCode::InvalidAnchor,
            job_level: unreachable
                || failure.credential
                || failure.retry == scim::RetryClass::Quarantine,
            reason: failure.reason,
            reference: false,
        }
    }

    /// The same failure, counted as a reference failure.
    pub fn as_reference(mut self) -> Self {
        self.reference = true;
        self
    }

    /// The log's `errorInformation`.
    pub fn into_error_information(self) -> ErrorInformation {
        ErrorInformation {
            error_code: self.code.as_str().to_owned(),
            reason: self.reason,
            additional_details: None,
            error_category: "nonServiceFailure".into(),
            recommended_action: None,
        }
    }
}

/// A non-query reply, as a flow needs it.
#[derive(Debug)]
pub enum Answer {
    /// Success with a resource body: its `id` (if any) and the resource.
    Resource(Option<String>, Json),
    /// Success with no resource to read: a write's reply (the `id` it named, if any: see
    /// [`interpret_write`]) or an empty body.
    Done(Option<String>),
    /// Failure.
    Failed(Failure),
}

fn kind(kind: ObjectKind) -> ResourceKind {
    match kind {
        ObjectKind::User => ResourceKind::User,
        ObjectKind::Group => ResourceKind::Group,
    }
}

/// Classifies any reply (an HTTP response or a transport failure) into Entra's outcome.
pub fn outcome(op: OpKind, reply: Reply) -> Outcome {
    outcome_as(op, reply, scim::classify)
}

fn outcome_as(
    op: OpKind,
    reply: Reply,
    by: fn(OpKind, u16, Option<&str>, &[u8]) -> Outcome,
) -> Outcome {
    match reply {
        Reply::Http {
            status,
            retry_after,
            body,
        } => by(op, status, retry_after.as_deref(), &body),
        Reply::Transport {
            timeout, message, ..
        } => Outcome::transport(
            if timeout {
                TransportKind::Timeout
            } else {
                TransportKind::Protocol
            },
            &message,
        ),
        Reply::NoToken { message } => Outcome::no_token(&message),
    }
}

/// Classifies a reply; a Tenant URL that cannot be reached at all fails the job, not just the entry.
fn classify(
    op: OpKind,
    reply: Reply,
    by: fn(OpKind, u16, Option<&str>, &[u8]) -> Outcome,
) -> (Outcome, bool) {
    let unreachable = matches!(reply, Reply::Transport { connect: true, .. });
    (outcome_as(op, reply, by), unreachable)
}

/// Reads the reply to a create, read, update or delete.
pub fn interpret(op: OpKind, reply: Reply) -> Answer {
    answer(classify(op, reply, scim::classify))
}

/// Reads the reply to a create, update or delete as a flow needs it: success is
/// [`Answer::Done`] with the `id` the reply named — the resource is checked as [`interpret`]
/// would, but not built (see BENCHMARKS.md, section "History: the sixth session's figures",
/// writes' replies).
pub fn interpret_write(op: OpKind, reply: Reply) -> Answer {
    answer(classify(op, reply, scim::classify_write))
}

fn answer((outcome, unreachable): (Outcome, bool)) -> Answer {
    match outcome {
        Outcome::Success {
            id,
            resource: Some(resource),
        } => Answer::Resource(id, resource),
        Outcome::Success { id, resource: None } => Answer::Done(id),
        Outcome::NoMatch { .. } => Answer::Done(None),
        Outcome::Match { id, resource } => Answer::Resource(Some(id), resource),
        Outcome::Failure(failure) => Answer::Failed(Failure::from_scim(failure, unreachable)),
    }
}

/// What a matching query found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// No resource listed; `claimed` is the `totalResults` the server stated with the empty list.
    Nothing {
        /// Above 0, the reply contradicts itself.
        claimed: u64,
    },
    /// One resource: its `id` and the resource.
    One(String, Json),
}

/// Reads the reply to a matching query: no match, one match, or a failure.
pub fn interpret_query(reply: Reply) -> Result<Found, Failure> {
    let (outcome, unreachable) = classify(OpKind::Query, reply, scim::classify);
    match outcome {
        Outcome::Match { id, resource } => Ok(Found::One(id, resource)),
        Outcome::NoMatch { claimed } => Ok(Found::Nothing { claimed }),
        Outcome::Success {
            id: Some(id),
            resource: Some(resource),
        } => Ok(Found::One(id, resource)),
        Outcome::Success { .. } => Ok(Found::Nothing { claimed: 0 }),
        Outcome::Failure(failure) => Err(Failure::from_scim(failure, unreachable)),
    }
}

/// `GET /Users?filter=…` / `GET /Groups?excludedAttributes=members&filter=…`.
pub fn match_request(object: ObjectKind, path: &TargetPath, value: &str) -> Request {
    Request {
        method: Method::Get,
        path: scim::match_query(kind(object), path, value),
        body: None,
    }
}

/// The `SelectUniqueValue` check of one candidate: is `value` held by any object at `path`? No
/// capture of Entra's request was found; Microsoft's function reference says each candidate is
/// checked in the target, and the one query a SCIM target answers for that is the matching
/// query's filter, so it is the same request as [`match_request`].
pub fn uniqueness_request(object: ObjectKind, path: &TargetPath, value: &str) -> Request {
    match_request(object, path, value)
}

/// Reads the reply to a uniqueness check: `Ok(true)` when some object holds the value (any
/// resource listed, or a `totalResults` above 0 with none listed), `Ok(false)` when none does, or
/// the failure of the query, classified as a matching query's.
pub fn interpret_uniqueness(reply: Reply) -> Result<bool, Failure> {
    let (outcome, unreachable) = classify(OpKind::Query, reply, scim::classify);
    match outcome {
        Outcome::NoMatch { claimed } => Ok(claimed > 0),
        Outcome::Success { resource: None, .. } => Ok(false),
        Outcome::Match { .. } | Outcome::Success { .. } => Ok(true),
        // Several holders answer "taken" as well as one does.
        Outcome::Failure(failure)
            if failure.code
                == ErrorCode::SystemForCrossDomainIdentityManagementMultipleEntriesInResponse =>
        {
            Ok(true)
        }
        Outcome::Failure(failure) => Err(Failure::from_scim(failure, unreachable)),
    }
}

/// `GET /Users/{id}` / `GET /Groups/{id}?excludedAttributes=members`.
pub fn get_request(object: ObjectKind, id: &str) -> Request {
    Request {
        method: Method::Get,
        path: scim::get_by_id_path(kind(object), id),
        body: None,
    }
}

/// `DELETE /Users/{id}` / `DELETE /Groups/{id}`.
pub fn delete_request(object: ObjectKind, id: &str) -> Request {
    Request {
        method: Method::Delete,
        path: scim::resource_path(kind(object), id),
        body: None,
    }
}

fn strip(attrs: &[(TargetPath, Value, bool)]) -> Vec<(TargetPath, Value)> {
    attrs
        .iter()
        .map(|(p, v, _)| (p.clone(), v.clone()))
        .collect()
}

/// `POST /Users` / `POST /Groups`.
pub fn create_request(
    object: ObjectKind,
    attrs: &[(TargetPath, Value, bool)],
    settings: &CreateSettings,
) -> Result<Request, Failure> {
    let attrs = strip(attrs);
    let body = match object {
        ObjectKind::User => scim::create_user_body(&attrs, settings),
        ObjectKind::Group => scim::create_group_body(&attrs),
    };
    body.map(|body| Request {
        method: Method::Post,
        path: kind(object).collection_path().to_string(),
        body: Some(body),
    })
    .map_err(|e| Failure::local(e.code(), e.to_string()))
}

/// What differs between the mapped state and the resource read from the server.
pub fn diff(
    desired: &[(TargetPath, Value, bool)],
    current: &Json,
    case_exact: &[TargetPath],
    roles: RoleFunction,
) -> Result<Vec<AttrChange>, Failure> {
    scim::diff(&strip(desired), current, |p| case_exact.contains(p), roles)
        .map_err(|e| Failure::local(e.code(), e.to_string()))
}

/// The target's state as Entra believes it after a successful export of `attrs`: the resource a
/// create would send, with the object's id.
pub fn known_resource(
    object: ObjectKind,
    id: &str,
    attrs: &[(TargetPath, Value, bool)],
    settings: &CreateSettings,
) -> Option<Json> {
    let attrs = strip(attrs);
    let body = match object {
        ObjectKind::User => scim::create_user_body(&attrs, settings),
        ObjectKind::Group => scim::create_group_body(&attrs),
    };
    let mut body = body.ok()?;
    if let Some(map) = body.as_object_mut() {
        map.insert("id".into(), Json::String(id.to_string()));
    }
    Some(body)
}

/// `PATCH /Users/{id}` with the changes.
pub fn patch_request(
    object: ObjectKind,
    id: &str,
    changes: &[AttrChange],
    mode: ScimMode,
) -> Request {
    Request {
        method: Method::Patch,
        path: scim::resource_path(kind(object), id),
        body: Some(scim::patch_body(changes, mode)),
    }
}

/// `PATCH /Users/{id}` setting `active` False.
pub fn disable_request(id: &str, mode: ScimMode) -> Request {
    Request {
        method: Method::Patch,
        path: scim::resource_path(ResourceKind::User, id),
        body: Some(scim::disable_body(mode)),
    }
}

/// `PATCH /Users/{id}` linking the manager (`Some(new id)`), or clearing the one last linked.
pub fn manager_request(id: &str, link: Option<&str>, old: Option<&str>, mode: ScimMode) -> Request {
    let body = match (link, old) {
        (Some(manager_id), _) => scim::manager_body(manager_id, mode),
        (None, old) => scim::manager_removal_body(old.unwrap_or_default(), mode),
    };
    Request {
        method: Method::Patch,
        path: scim::resource_path(ResourceKind::User, id),
        body: Some(body),
    }
}

/// Member PATCHes for a group, each with the ids it adds and removes.
pub fn member_requests(
    id: &str,
    add: &[String],
    remove: &[String],
    mode: ScimMode,
    batch: usize,
) -> Vec<(Request, Vec<String>, Vec<String>)> {
    let path = scim::resource_path(ResourceKind::Group, id);
    let size = batch.max(1);
    let mut out = Vec::new();
    for chunk in add.chunks(size) {
        for body in scim::member_bodies(chunk, &[], mode, size) {
            out.push((
                Request {
                    method: Method::Patch,
                    path: path.clone(),
                    body: Some(body),
                },
                chunk.to_vec(),
                Vec::new(),
            ));
        }
    }
    for chunk in remove.chunks(size) {
        for body in scim::member_bodies(&[], chunk, mode, size) {
            out.push((
                Request {
                    method: Method::Patch,
                    path: path.clone(),
                    body: Some(body),
                },
                Vec::new(),
                chunk.to_vec(),
            ));
        }
    }
    out
}

/// True unless the resource says `active` is false.
pub fn is_active(resource: &Json) -> bool {
    match TargetPath::parse("active").map(|p| p.read(resource)) {
        Ok(Value::Str(s)) => !s.eq_ignore_ascii_case("false"),
        _ => true,
    }
}

/// A value as the log shows it.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Str(s) => s.clone(),
        Value::Multi(items) => items.join(";"),
        Value::Roles(roles) => roles
            .iter()
            .map(|r| r.value.clone())
            .collect::<Vec<_>>()
            .join(";"),
    }
}

/// True when the change turns a user inactive.
pub fn disables(change: &AttrChange) -> bool {
    change.path.is_plain("active")
        && matches!(&change.new, Value::Str(s) if s.eq_ignore_ascii_case("false"))
}

/// The modified properties of a PATCH.
pub fn change_properties(changes: &[AttrChange], redacted: &[TargetPath]) -> Vec<ModifiedProperty> {
    changes
        .iter()
        .map(|c| {
            let hide = redacted.contains(&c.path);
            ModifiedProperty {
                display_name: c.path.to_string(),
                old_value: if hide {
                    c.old.as_ref().map(|_| "[Redact]".to_string())
                } else {
                    c.old.clone()
                },
                new_value: Some(if hide {
                    "[Redact]".into()
                } else {
                    display_value(&c.new)
                }),
            }
        })
        .collect()
}

/// The modified property of a disable.
pub fn disable_properties() -> Vec<ModifiedProperty> {
    vec![ModifiedProperty {
        display_name: "active".into(),
        old_value: Some("True".into()),
        new_value: Some("False".into()),
    }]
}
