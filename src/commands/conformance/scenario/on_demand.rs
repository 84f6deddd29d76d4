//! The provision-on-demand scenarios of `conformance` (`POD_User_Test`, `POD_Group_Test`): on a
//! fresh scratch job, one user — or one group with a member — provisioned on demand as
//! `entra-sim provision-on-demand` does it ([`on_demand::provision`]), then read back. Entra's
//! on-demand provisioning ignores `aadOptscim062020` by design, so in that mode the test sends the
//! default shapes and says so.

use std::sync::Mutex;

use serde_json::Value as Json;

use super::judge::{self, NOT_APPLIED};
use super::{Scenario, ScenarioFailure, ScenarioFuture};
use crate::clock::{Clock, FakeClock};
use crate::commands::on_demand::{self, OnDemandEnv, Subject};
use crate::directory::MemberKind;
use crate::plan::{Method, Reply, Request};
use crate::provlog::{LogEntry, ProvisioningAction, Status};
use crate::runner::{FlowId, Sending, Transport};
use crate::scim::{self, ResourceKind, ScimMode};

/// The hint when the user could not be provisioned on demand.
const USER: &str = "accept Entra's POST /Users (core and enterprise schemas, the mapped attributes) and answer 201 with the id; on demand Entra sends what a cycle sends, in the default dialect";

/// The hint when the group or its member could not be provisioned on demand.
const GROUP: &str = "accept Entra's POST /Groups (with the ADSCIM group schema URN) and the members PATCH that follows, as in a cycle; on demand Entra always sends the default dialect";

/// The stage of every on-demand scenario.
const STAGE: &str = "provision on demand";

/// `POD_User_Test`: an assigned user provisioned on demand is created (a create entry, status
/// success) and reads back with what was exported.
pub fn pod_user<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        mode_note(s);
        s.directory.add_user("u");
        s.directory.assign("u");
        let who = object_id(s, "u")?;
        let pod = provision(s, Subject::User(who), USER).await?;
        let entry = pod.succeeded(s, "u", ProvisioningAction::Create, USER)?;
        let user = read(s, ResourceKind::User, &entry.target_identity.id).await?;
        check(judge::reads_back(entry, &user), NOT_APPLIED)
    })
}

/// `POD_Group_Test`: an assigned group provisioned on demand with one of its members: the
/// member and the group are created, the membership exported (entries with status success),
/// and the group reads back with the member.
pub fn pod_group<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        mode_note(s);
        s.directory.add_user("m");
        s.directory.add_group("g", &["m"]);
        s.directory.assign("g");
        let subject = Subject::Group {
            which: object_id(s, "g")?,
            members: vec![object_id(s, "m")?],
        };
        let pod = provision(s, subject, GROUP).await?;
        let member = pod.succeeded(s, "m", ProvisioningAction::Create, USER)?;
        let member_id = member.target_identity.id.clone();
        let entry = pod.succeeded(s, "g", ProvisioningAction::Create, GROUP)?;
        let group_id = entry.target_identity.id.clone();
        pod.succeeded(s, "g", ProvisioningAction::Update, GROUP)?;
        let group = read(s, ResourceKind::Group, &group_id).await?;
        check(judge::reads_back(entry, &group), NOT_APPLIED)?;
        check(lists(&group, &member_id), GROUP)
    })
}

/// In `aadOptscim062020` mode the test still passes or fails on the default shapes: say so.
fn mode_note(s: &mut Scenario<'_>) {
    if s.mode() == ScimMode::Aad062020 {
        s.note(on_demand::MODE_NOTE);
    }
}

fn failure(reason: String, entra: Option<String>, hint: &str) -> ScenarioFailure {
    ScenarioFailure {
        stage: STAGE.into(),
        reason,
        entra,
        hint: hint.into(),
    }
}

fn check(result: Result<(), String>, hint: &str) -> Result<(), ScenarioFailure> {
    result.map_err(|reason| failure(reason, None, hint))
}

fn object_id(s: &Scenario<'_>, tag: &str) -> Result<String, ScenarioFailure> {
    s.directory
        .object_id(tag)
        .map(str::to_string)
        .ok_or_else(|| {
            failure(
                format!("the scratch tenant has no object tagged {tag}"),
                None,
                "this is entra-sim's own failure: please report it",
            )
        })
}

/// What an on-demand provisioning logged.
struct Pod {
    entries: Vec<LogEntry>,
}

/// Provisions `subject` on demand on the scratch job, over the run's transport, recording every
/// request. A failed Test Connection or a job that does not run fails with `hint`.
async fn provision(
    s: &mut Scenario<'_>,
    subject: Subject,
    hint: &str,
) -> Result<Pod, ScenarioFailure> {
    let clock = FakeClock::new(s.clock().now());
    let tap = Tap::new(s.transport());
    let loaded = s.load(STAGE)?;
    let result = {
        let env = OnDemandEnv {
            job: &loaded.job,
            compiled: &loaded.compiled,
            store: s.store(STAGE)?,
            transport: &tap,
            clock: &clock,
        };
        on_demand::provision(&env, &subject).await
    };
    s.record(STAGE, &tap.taken());
    let provisioned = result.map_err(|e| {
        let hint = judge::hint(s.last_refusal(STAGE), hint);
        failure(format!("on demand: {e}"), None, &hint)
    })?;
    let entries: Vec<LogEntry> = provisioned.shown.into_iter().map(|s| s.log).collect();
    s.note_entries(&entries);
    Ok(Pod { entries })
}

impl Pod {
    /// The entry for the object tagged `tag` with `action`, when it succeeded; otherwise a
    /// failure with what Entra shows and `hint`.
    fn succeeded(
        &self,
        s: &Scenario<'_>,
        tag: &str,
        action: ProvisioningAction,
        hint: &str,
    ) -> Result<&LogEntry, ScenarioFailure> {
        let object_id = s.directory.object_id(tag).unwrap_or_default();
        let logged: Vec<&LogEntry> = self
            .entries
            .iter()
            .filter(|e| judge::is_of(e, object_id, None))
            .collect();
        let entry = logged
            .iter()
            .rev()
            .find(|e| e.provisioning_action == action);
        let last = s.last_refusal(STAGE);
        match entry {
            Some(e) if e.provisioning_status_info.status == Status::Success => Ok(e),
            Some(e) => Err(failure(
                judge::refused(e, last),
                Some(reading(e)),
                &judge::hint(last, hint),
            )),
            None => Err(failure(
                judge::missing(&logged, &name_of(s, tag), action),
                None,
                judge::MISSING,
            )),
        }
    }
}

/// The name of the user or group tagged `tag`, as messages show it.
fn name_of(s: &Scenario<'_>, tag: &str) -> String {
    match s.directory.member(tag).map(|m| m.kind) {
        Some(MemberKind::Group) => s.directory.group_name(tag),
        _ => s.directory.user_name(tag),
    }
}

/// What Entra shows for a failed on-demand entry: the step fails with the error code; nothing
/// is escrowed, the next cycle tries the object again.
fn reading(entry: &LogEntry) -> String {
    match &entry.provisioning_status_info.error_information {
        Some(info) => format!(
            "Entra shows the on-demand export failed with {}; nothing is escrowed: the next cycle tries the object again",
            info.error_code
        ),
        None => "Entra shows the on-demand export failed".into(),
    }
}

/// Reads `id` back from the server.
async fn read(s: &mut Scenario<'_>, kind: ResourceKind, id: &str) -> Result<Json, ScenarioFailure> {
    let request = Request {
        method: Method::Get,
        path: scim::resource_path(kind, id),
        body: None,
    };
    let answer = s.send(&format!("{STAGE} read back"), request).await;
    if answer.is_success() {
        Ok(answer.body)
    } else {
        let refusal = crate::commands::conformance::direct::refusal(&answer);
        Err(failure(
            format!("read back: {refusal}"),
            None,
            judge::READ_BACK,
        ))
    }
}

/// The group lists the member `id`.
fn lists(group: &Json, id: &str) -> Result<(), String> {
    let listed = group
        .get("members")
        .and_then(Json::as_array)
        .is_some_and(|m| {
            m.iter()
                .any(|m| m.get("value").and_then(Json::as_str) == Some(id))
        });
    if listed {
        Ok(())
    } else {
        Err(format!(
            "the group read back does not list the member {id} provisioned with it"
        ))
    }
}

/// A transport keeping every exchange of `inner`, so the on-demand requests are recorded like a
/// cycle's.
struct Tap<'t> {
    inner: &'t dyn Transport,
    seen: Mutex<Vec<(Request, Reply)>>,
}

impl<'t> Tap<'t> {
    fn new(inner: &'t dyn Transport) -> Self {
        Self {
            inner,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// The exchanges so far, in order.
    fn taken(&self) -> Vec<(Request, Reply)> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Transport for Tap<'_> {
    fn send<'a>(&'a self, flow: FlowId, request: &'a Request) -> Sending<'a> {
        Box::pin(async move {
            let reply = self.inner.send(flow, request).await;
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.push((request.clone(), reply.clone()));
            reply
        })
    }

    fn flow_started(&self) -> FlowId {
        self.inner.flow_started()
    }
}
