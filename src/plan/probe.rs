//! `compare-modes --probe` as a flow: creates scratch objects (three users, a group with two of
//! them), sends both dialects of every difference to them — Replace/replace, "False"/false, a
//! merged path-less replace, member removal by value list and by filter — reads each result back,
//! notes which form the server really applies, and deletes the scratch objects. The bodies come
//! from `scim`, the same functions a cycle uses.

use std::collections::VecDeque;

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::wire::{self, Answer};
use super::{Flow, Method, Next, Reply, Request};
use crate::expr::Value;
use crate::scim::{self, AttrChange, OpKind, PatchOp, ResourceKind, ScimMode, TargetPath};

/// One form sent and what the server made of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    /// What is being tried, e.g. `disable: "False" (default)`.
    pub check: String,
    /// The dialect whose form this is.
    pub mode: String,
    /// The server answered 2xx.
    pub accepted: bool,
    /// Reading back shows the intended effect.
    pub applied: bool,
    /// The error, or what was read back when it was not applied.
    pub detail: String,
}

/// Which dialects the server applied in full: every probe of the dialect (and any probe both
/// share, like creating the scratch group) was accepted and read back as intended.
#[derive(Debug, Serialize)]
pub struct Verdict {
    /// The default dialect (no feature flag).
    pub default: bool,
    /// The dialect `?aadOptscim062020` selects.
    #[serde(rename = "aadOptscim062020")]
    pub aad_opt_scim062020: bool,
}

impl Verdict {
    /// The verdict of `results`.
    pub fn of(results: &[ProbeResult]) -> Verdict {
        let works = |mode: ScimMode| {
            let name = mode_name(mode);
            results.iter().any(|r| r.mode == name)
                && results
                    .iter()
                    .filter(|r| r.mode == name || r.mode == "both")
                    .all(|r| r.applied)
        };
        Verdict {
            default: works(ScimMode::Default),
            aad_opt_scim062020: works(ScimMode::Aad062020),
        }
    }

    /// `your server accepts: default dialect yes, aadOptscim062020 no`.
    pub fn line(&self) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" };
        format!(
            "your server accepts: default dialect {}, aadOptscim062020 {}",
            yes(self.default),
            yes(self.aad_opt_scim062020)
        )
    }
}

/// Why the probe could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFailure {
    /// A scratch user could not be created (nothing else was sent).
    Scratch(String),
    /// A probe's PATCH could not be built (the scratch objects were deleted).
    Local(crate::scim::PathError),
}

fn mode_name(mode: ScimMode) -> &'static str {
    match mode {
        ScimMode::Default => "default",
        ScimMode::Aad062020 => "aadOptscim062020",
    }
}

/// How a probe's read-back is judged.
#[derive(Debug)]
enum Judge {
    /// `displayName` is this.
    DisplayName(String),
    /// `active` is this (a boolean, or its text in any case).
    Active(bool),
    /// `name.givenName` is this, as a sub-attribute (not a flat `name.givenName` key).
    GivenName(String),
    /// `member` is gone; `kept`, when given, is still there.
    Removed {
        member: String,
        kept: Option<String>,
    },
}

impl Judge {
    /// Whether `seen` shows the intended effect, and what to show of it.
    fn judge(&self, seen: Option<&Json>) -> (bool, Option<String>) {
        match self {
            Judge::DisplayName(name) => (
                seen.is_some_and(|r| r["displayName"] == json!(name)),
                seen.map(|r| r["displayName"].to_string()),
            ),
            Judge::Active(want) => {
                let active = seen.map(|r| &r["active"]);
                let applied = active.is_some_and(|a| {
                    a == &json!(want)
                        || a.as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case(&want.to_string()))
                });
                (applied, active.map(|a| format!("active = {a}")))
            }
            Judge::GivenName(given) => (
                seen.is_some_and(|r| {
                    r["name"]["givenName"] == json!(given) && r.get("name.givenName").is_none()
                }),
                seen.map(|r| format!("name = {}", r["name"])),
            ),
            Judge::Removed { member, kept } => {
                let members: Vec<&str> = seen
                    .and_then(|g| g["members"].as_array())
                    .map(|m| m.iter().filter_map(|m| m["value"].as_str()).collect())
                    .unwrap_or_default();
                let others_kept = kept.as_deref().is_none_or(|kept| members.contains(&kept));
                let applied = !members.contains(&member.as_str()) && others_kept;
                (applied, Some(format!("members left: {}", members.len())))
            }
        }
    }
}

/// One probe: a PATCH, the read that follows it, and how the read is judged.
#[derive(Debug)]
struct Check {
    patch: Request,
    read: Request,
    pending: Pending,
}

/// What a probe's result is made of, beside its requests.
#[derive(Debug)]
struct Pending {
    check: String,
    mode: ScimMode,
    judge: Judge,
}

/// What a PATCH got: accepted, or the failure as `code: reason`.
type Sent = Result<(), String>;

#[derive(Debug)]
enum State {
    /// Creating scratch user number `users.len()`.
    CreatingUser,
    CreatingGroup,
    /// Awaiting the PATCH of a probe; the read follows it.
    Patching(Pending, Request),
    /// Awaiting the read-back of a probe whose PATCH got `sent`.
    Reading(Pending, Sent),
    /// Awaiting the answer to a DELETE of a scratch object.
    CleaningUp,
}

/// Runs every probe on scratch objects named after `tag`, then deletes them; ends with the
/// results.
#[derive(Debug)]
pub struct ProbeFlow {
    tag: String,
    state: State,
    users: Vec<String>,
    /// The scratch group's id, or why it could not be created (set once its POST is answered).
    group: Result<String, String>,
    checks: VecDeque<Check>,
    cleanup: VecDeque<Request>,
    results: Vec<ProbeResult>,
    failure: Option<ProbeFailure>,
}

/// What the probe flow ends with.
pub type Probed = Result<Vec<ProbeResult>, ProbeFailure>;

const SCRATCH_USERS: usize = 3;

impl ProbeFlow {
    /// Probes on scratch objects whose names carry `tag`.
    pub fn new(tag: &str) -> Self {
        Self {
            tag: tag.to_string(),
            state: State::CreatingUser,
            users: Vec::new(),
            group: Err(String::new()),
            checks: VecDeque::new(),
            cleanup: VecDeque::new(),
            results: Vec::new(),
            failure: None,
        }
    }

    fn create_user(&mut self) -> Next<Probed> {
        let n = self.users.len();
        self.state = State::CreatingUser;
        Next::Send(Request {
            method: Method::Post,
            path: ResourceKind::User.collection_path().to_string(),
            body: Some(scratch_user(&self.tag, n)),
        })
    }

    fn user_created(&mut self, reply: Reply) -> Next<Probed> {
        match created(reply) {
            Ok(id) => self.users.push(id),
            Err(e) => return Next::Done(Err(ProbeFailure::Scratch(e))),
        }
        if self.users.len() < SCRATCH_USERS {
            return self.create_user();
        }
        self.state = State::CreatingGroup;
        let members = [&self.users[1], &self.users[2]];
        Next::Send(Request {
            method: Method::Post,
            path: ResourceKind::Group.collection_path().to_string(),
            body: Some(json!({
                "schemas": [scim::schema::GROUP_SCHEMA],
                "displayName": format!("entra-sim-probe-{}", self.tag),
                "members": [{"value": members[0]}, {"value": members[1]}],
            })),
        })
    }

    fn group_created(&mut self, reply: Reply) -> Next<Probed> {
        self.group = created(reply);
        match checks(&self.users, self.group.as_ref().ok()) {
            Ok(checks) => self.checks = checks.into(),
            Err(e) => self.failure = Some(ProbeFailure::Local(e)),
        }
        self.next_check()
    }

    /// Sends the next probe's PATCH; after the last, cleans up.
    fn next_check(&mut self) -> Next<Probed> {
        let Some(Check {
            patch,
            read,
            pending,
        }) = self.checks.pop_front()
        else {
            return self.clean_up();
        };
        self.state = State::Patching(pending, read);
        Next::Send(patch)
    }

    fn patched(&mut self, pending: Pending, read: Request, reply: Reply) -> Next<Probed> {
        let sent = match wire::interpret(OpKind::Update, reply) {
            Answer::Resource(..) | Answer::Done(_) => Ok(()),
            Answer::Failed(f) => Err(format!("{}: {}", f.code, f.reason)),
        };
        self.state = State::Reading(pending, sent);
        Next::Send(read)
    }

    fn read_back(&mut self, pending: Pending, sent: Sent, reply: Reply) -> Next<Probed> {
        let seen = match wire::interpret(OpKind::GetById, reply) {
            Answer::Resource(_, resource) => Some(resource),
            Answer::Done(_) | Answer::Failed(_) => None,
        };
        let (applied, shown) = pending.judge.judge(seen.as_ref());
        let Pending { check, mode, .. } = pending;
        self.results
            .push(result(&check, mode, &sent, applied, shown));
        self.next_check()
    }

    /// Deletes the group (if it was created), then the users, whatever happened.
    fn clean_up(&mut self) -> Next<Probed> {
        if let Ok(group) = &self.group {
            let path = scim::resource_path(ResourceKind::Group, group);
            self.cleanup.push_back(delete(path));
        }
        let users = self.users.iter();
        let deletes = users.map(|id| delete(scim::resource_path(ResourceKind::User, id)));
        self.cleanup.extend(deletes);
        self.next_delete()
    }

    fn next_delete(&mut self) -> Next<Probed> {
        if let Some(request) = self.cleanup.pop_front() {
            self.state = State::CleaningUp;
            return Next::Send(request);
        }
        if let Err(e) = &self.group {
            self.results.push(ProbeResult {
                check: "group with members".into(),
                mode: "both".into(),
                accepted: false,
                applied: false,
                detail: e.clone(),
            });
        }
        match self.failure.take() {
            Some(failure) => Next::Done(Err(failure)),
            None => Next::Done(Ok(std::mem::take(&mut self.results))),
        }
    }
}

impl Flow<Probed> for ProbeFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next<Probed> {
        let Some(reply) = reply else {
            return self.create_user();
        };
        match std::mem::replace(&mut self.state, State::CleaningUp) {
            State::CreatingUser => self.user_created(reply),
            State::CreatingGroup => self.group_created(reply),
            State::Patching(pending, read) => self.patched(pending, read, reply),
            State::Reading(pending, sent) => self.read_back(pending, sent, reply),
            State::CleaningUp => self.next_delete(),
        }
    }
}

/// The id a scratch object was created with, or why there is none.
fn created(reply: Reply) -> Result<String, String> {
    match wire::interpret(OpKind::Create, reply) {
        Answer::Resource(_, r) => r
            .get("id")
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .ok_or_else(|| "the scratch object came back without an id".into()),
        Answer::Done(_) => Err("the scratch object came back without a body".into()),
        Answer::Failed(f) => Err(format!(
            "cannot create a scratch object on the target: {}: {}",
            f.code, f.reason
        )),
    }
}

fn scratch_user(tag: &str, n: usize) -> Json {
    json!({
        "schemas": [scim::schema::USER_SCHEMA],
        "userName": format!("entra-sim-probe-{tag}-{n}@example.invalid"),
        "active": true,
        "displayName": "entra-sim probe",
        "name": {"givenName": "Probe", "familyName": "User"},
    })
}

fn read(kind: ResourceKind, id: &str) -> Request {
    Request {
        method: Method::Get,
        path: scim::resource_path(kind, id),
        body: None,
    }
}

fn delete(path: String) -> Request {
    Request {
        method: Method::Delete,
        path,
        body: None,
    }
}

fn patch(kind: ResourceKind, id: &str, body: Option<Json>) -> Request {
    Request {
        method: Method::Patch,
        path: scim::resource_path(kind, id),
        body,
    }
}

fn change(path: &str, value: &str, op: PatchOp) -> Result<AttrChange, crate::scim::PathError> {
    let path = TargetPath::parse(path)?;
    Ok(AttrChange {
        path,
        old: Some("probe".into()),
        new: Value::Str(value.into()),
        op,
    })
}

/// Every probe, in the order they are sent: per dialect, on the first scratch user, op casing,
/// the boolean form (disable, then enable) and several attributes at once; then, when the group
/// exists, removing one member in each dialect.
fn checks(users: &[String], group: Option<&String>) -> Result<Vec<Check>, crate::scim::PathError> {
    let user = &users[0];
    let on_user = |check: String, mode, body, judge| Check {
        patch: patch(ResourceKind::User, user, Some(body)),
        read: read(ResourceKind::User, user),
        pending: Pending { check, mode, judge },
    };
    let mut checks = Vec::new();
    for mode in [ScimMode::Default, ScimMode::Aad062020] {
        let name = format!("{} probe", mode_name(mode));
        let body = scim::patch_body(&[change("displayName", &name, PatchOp::Replace)?], mode);
        let label = "replace one attribute (op casing)".to_string();
        checks.push(on_user(label, mode, body, Judge::DisplayName(name)));
        for (label, body, want) in [
            ("disable", scim::disable_body(mode), false),
            ("enable", scim::enable_body(mode), true),
        ] {
            let label = format!("{label} (boolean form)");
            checks.push(on_user(label, mode, body, Judge::Active(want)));
        }
        let given = format!("{}Given", mode_name(mode));
        let changes = [
            change("displayName", &format!("{given} User"), PatchOp::Replace)?,
            change("name.givenName", &given, PatchOp::Replace)?,
        ];
        let body = scim::patch_body(&changes, mode);
        let label = "replace several attributes (merged path-less form in the flag mode)";
        checks.push(on_user(label.into(), mode, body, Judge::GivenName(given)));
    }
    let Some(group) = group else {
        return Ok(checks);
    };
    for (mode, member, kept) in [
        (ScimMode::Default, &users[1], Some(users[2].clone())),
        (ScimMode::Aad062020, &users[2], None),
    ] {
        let body = scim::member_bodies(&[], std::slice::from_ref(member), mode, 1)
            .into_iter()
            .next();
        let judge = Judge::Removed {
            member: member.clone(),
            kept,
        };
        checks.push(Check {
            patch: patch(ResourceKind::Group, group, body),
            read: read(ResourceKind::Group, group),
            pending: Pending {
                check: "remove one group member".into(),
                mode,
                judge,
            },
        });
    }
    Ok(checks)
}

fn result(
    check: &str,
    mode: ScimMode,
    sent: &Sent,
    applied: bool,
    seen: Option<String>,
) -> ProbeResult {
    ProbeResult {
        check: check.to_string(),
        mode: mode_name(mode).to_string(),
        accepted: sent.is_ok(),
        applied: sent.is_ok() && applied,
        detail: match sent {
            Err(e) => e.clone(),
            Ok(()) if !applied => format!(
                "accepted but not applied; read back {}",
                seen.unwrap_or_default()
            ),
            Ok(()) => String::new(),
        },
    }
}
