//! The per-object state machines: a user or group being matched, created or updated; disabled when
//! it leaves scope; deleted when it is hard-deleted; and the reference exports (manager, members)
//! that follow once every object has its target id (spec §1.2–§1.3, §2.3–§2.4, §4.2–§4.3).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::wire::{self, Answer, Failure};
use super::{Anchor, EntryOutcome, Flow, Next, ObjectKey, Reply, Request, StateChange};
use crate::expr::{UniqueCandidates, Value};
use crate::provlog::{
    ErrorInformation, Identity, Initiator, LogEntry, ModifiedProperty, ProvisioningAction,
    SkipReason, Status, StatusInfo, Step, StepName, StepType, System,
};
use crate::scim::{CreateSettings, ErrorCode, OpKind, RoleFunction, ScimMode, TargetPath};

/// What every entry of a cycle shares.
#[derive(Debug, Clone)]
pub struct EntryContext {
    /// The job id (`scim.<tenant>.<app>`-like).
    pub job_id: Arc<str>,
    /// The cycle's id.
    pub cycle_id: Arc<str>,
    /// This change's id.
    pub change_id: String,
    /// When the entry started.
    pub now: DateTime<Utc>,
    /// Default or `aadOptscim062020` wire shapes.
    pub mode: ScimMode,
    /// The target system's display name in logs: the app's name.
    pub target_name: Arc<str>,
    /// The app: `tenantId`, `servicePrincipal` and `targetSystem` of every record.
    pub app: Arc<crate::provlog::App>,
    /// Whether a 404 answering a DELETE counts as success (UNCONFIRMED in the spec; a setting).
    pub delete_not_found_is_success: bool,
    /// How many member changes go in one PATCH.
    pub member_batch_size: usize,
    /// How create bodies are shaped (primary types, empty roles).
    pub create_settings: Arc<CreateSettings>,
}

/// Accumulates one provisioning-log record.
#[derive(Debug)]
pub(super) struct Draft {
    pub(super) key: ObjectKey,
    pub(super) name: String,
    pub(super) target_id: String,
    pub(super) action: ProvisioningAction,
    pub(super) steps: Vec<Step>,
    pub(super) props: Vec<ModifiedProperty>,
}

impl Draft {
    pub(super) fn new(key: &ObjectKey, name: &str, target_id: &str, steps: Vec<Step>) -> Self {
        Self {
            key: key.clone(),
            name: name.to_string(),
            target_id: target_id.to_string(),
            action: ProvisioningAction::Update,
            steps,
            props: Vec::new(),
        }
    }

    fn kind(&self) -> &'static str {
        self.key.kind.as_str()
    }

    pub(super) fn step(
        &mut self,
        name: StepName,
        kind: StepType,
        status: Status,
        description: String,
    ) {
        self.steps.push(Step::new(name, kind, status, description));
    }

    pub(super) fn finish(
        self,
        ctx: &EntryContext,
        status: Status,
        error: Option<ErrorInformation>,
    ) -> LogEntry {
        let identity_type = self.kind().to_string();
        LogEntry {
            id: format!("{}-{}", ctx.change_id, self.steps.len()),
            activity_date_time: crate::provlog::graph_time(ctx.now),
            tenant_id: ctx.app.tenant_id.clone(),
            job_id: ctx.job_id.to_string(),
            cycle_id: ctx.cycle_id.to_string(),
            change_id: ctx.change_id.clone(),
            provisioning_action: self.action,
            duration_in_milliseconds: 0,
            initiated_by: Initiator {
                initiating_type: "system".into(),
                id: String::new(),
                display_name: "Azure AD Provisioning Service".into(),
            },
            service_principal: ctx.app.service_principal(),
            source_system: System {
                id: String::new(),
                display_name: "Azure Active Directory".into(),
                details: serde_json::Map::new(),
            },
            target_system: ctx.app.target_system(),
            source_identity: Identity {
                identity_type: identity_type.clone(),
                id: self.key.object_id.clone(),
                display_name: self.name.clone(),
                details: serde_json::Map::new(),
            },
            target_identity: Identity {
                identity_type,
                id: self.target_id,
                display_name: self.name,
                details: serde_json::Map::new(),
            },
            provisioning_status_info: StatusInfo {
                status,
                error_information: error,
            },
            modified_properties: self.props,
            provisioning_steps: self.steps,
        }
    }
}

pub(super) fn done(log: LogEntry, changes: Vec<StateChange>) -> Next {
    Next::Done(Box::new(EntryOutcome {
        log: Some(log),
        changes,
        failed: false,
        job_failure: None,
    }))
}

/// What an entry was doing when it failed: names the failed step and says what failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// Importing an object no matching attribute can match.
    Import,
    /// Evaluating the attribute mappings.
    Evaluate,
    /// Checking `SelectUniqueValue` candidates in the target.
    CheckUnique,
    /// The matching query.
    Match,
    /// The create.
    Create,
    /// The read by id, answered with nothing to read.
    ReadEmpty,
    /// The read by id.
    Read,
    /// The update.
    Update,
    /// The read before a disable.
    DisableRead,
    /// The disabling PATCH.
    Disable,
    /// The delete.
    Delete,
    /// The manager's PATCH.
    UpdateManager,
    /// A member PATCH.
    UpdateMembers,
}

impl Attempt {
    /// The failed step's name.
    fn step(self) -> StepName {
        match self {
            Self::Import => StepName::EntryImportSkipped,
            Self::Evaluate | Self::CheckUnique | Self::Match => StepName::EntrySynchronizationError,
            Self::Create => StepName::EntryExportAdd,
            Self::ReadEmpty
            | Self::Read
            | Self::Update
            | Self::DisableRead
            | Self::UpdateManager
            | Self::UpdateMembers => StepName::EntryExportUpdate,
            Self::Disable => StepName::EntryExportUpdateSoftDelete,
            Self::Delete => StepName::EntryExportDelete,
        }
    }

    /// The failed step's sentence, for the object `name` of `kind`.
    fn describe(self, kind: &str, name: &str, target: &str) -> String {
        match self {
            Self::Import => format!("Skipped {kind} '{name}'"),
            Self::Evaluate => {
                format!("Failed to evaluate the attribute mappings of {kind} '{name}'")
            }
            Self::CheckUnique => format!(
                "Failed to check in {target} whether the values of {kind} '{name}' are unique"
            ),
            Self::Match => {
                format!("Failed to match an entry in the source and target systems {kind} '{name}'")
            }
            Self::Create => format!("Failed to create {kind} '{name}' in {target}"),
            Self::ReadEmpty => format!("Failed to read {kind} '{name}'"),
            Self::Read => format!("Failed to read {kind} '{name}' from {target}"),
            Self::Update => format!("Failed to update {kind} '{name}' in {target}"),
            Self::DisableRead | Self::Disable => {
                format!("Failed to disable User '{name}' in {target}")
            }
            Self::Delete => format!("Failed to delete {kind} '{name}' in {target}"),
            Self::UpdateManager => {
                format!("Failed to update the manager of User '{name}' in {target}")
            }
            Self::UpdateMembers => {
                format!("Failed to update the members of Group '{name}' in {target}")
            }
        }
    }
}

/// The failed entry: the attempt's failed step, the failure as the record's error.
pub(super) fn failure_outcome(
    ctx: &EntryContext,
    mut draft: Draft,
    attempt: Attempt,
    failure: Failure,
) -> EntryOutcome {
    let what = attempt.describe(draft.kind(), &draft.name, &ctx.target_name);
    draft.step(attempt.step(), StepType::Export, Status::Failure, what);
    let job_failure = failure.job_level.then(|| super::JobFailure {
        code: failure.code,
        reason: failure.reason.clone(),
    });
    let log = draft.finish(ctx, Status::Failure, Some(failure.into_error_information()));
    EntryOutcome {
        log: Some(log),
        changes: Vec::new(),
        failed: true,
        job_failure,
    }
}

/// [`failure_outcome`], as a flow's last step.
pub(super) fn failed(ctx: &EntryContext, draft: Draft, attempt: Attempt, failure: Failure) -> Next {
    Next::Done(Box::new(failure_outcome(ctx, draft, attempt, failure)))
}

/// The skipped entry, with its `EntrySynchronizationSkip` step and `reason` as its error code.
pub(super) fn skipped(
    ctx: &EntryContext,
    mut draft: Draft,
    reason: SkipReason,
    text: String,
    changes: Vec<StateChange>,
) -> Next {
    draft.steps.push(
        Step::new(
            StepName::EntrySynchronizationSkip,
            StepType::Export,
            Status::Skipped,
            text.clone(),
        )
        .detail("SkipReason", reason.as_str()),
    );
    let error = ErrorInformation {
        error_code: reason.as_str().to_owned(),
        reason: text,
        additional_details: None,
        error_category: "nonServiceFailure".into(),
        recommended_action: None,
    };
    done(draft.finish(ctx, Status::Skipped, Some(error)), changes)
}

fn props_from_desired(desired: &[(TargetPath, Value, bool)]) -> Vec<ModifiedProperty> {
    desired
        .iter()
        .filter(|(_, v, _)| *v != Value::Null)
        .map(|(path, value, redacted)| ModifiedProperty {
            display_name: path.to_string(),
            old_value: None,
            new_value: Some(if *redacted {
                "[Redact]".into()
            } else {
                wire::display_value(value)
            }),
        })
        .collect()
}

/// What a user or group should look like in the target, as the mappings say.
#[derive(Debug, Clone, Default)]
pub struct ObjectSpec {
    /// Attributes sent on create: every mapping incl. `on_create` ones and defaults; (path, value, redacted).
    pub create: Vec<(TargetPath, Value, bool)>,
    /// Attributes kept in sync on update: `always` mappings, no defaults.
    pub update: Vec<(TargetPath, Value, bool)>,
    /// Paths whose comparison is case-sensitive.
    pub case_exact: Vec<TargetPath>,
    /// Matching attributes in precedence order: (path, value). A missing value is skipped.
    pub matching: Vec<(TargetPath, Option<String>)>,
    /// True when the source object is active (not IsSoftDeleted); inactive users are not created.
    pub active: bool,
    /// The Create target action is enabled.
    pub can_create: bool,
    /// The Update target action is enabled.
    pub can_update: bool,
    /// How a roles mapping is exported (complex adds, or assertive replace).
    pub roles: RoleFunction,
    /// Paths whose values are logged as `[Redact]`.
    pub redacted: Vec<TargetPath>,
    /// Where the manager goes, when a manager is mapped (users). A read of the object notes the
    /// manager the target holds, so the reference export compares it like any mapped attribute.
    pub manager: Option<TargetPath>,
    /// `SelectUniqueValue` mappings: picked against the target just before a create.
    pub unique: Vec<UniqueValue>,
}

/// A create attribute whose value `SelectUniqueValue` picks: `create[index]` holds the first
/// candidate until the target has been asked.
#[derive(Debug, Clone)]
pub struct UniqueValue {
    /// The attribute's position in [`ObjectSpec::create`].
    pub index: usize,
    /// The candidates, in order.
    pub candidates: UniqueCandidates,
}

/// Where a [`UserFlow`] is. The entry's draft lives in the state that can still add to it.
#[derive(Debug)]
enum State {
    /// Not started: the draft holds the import and scoping steps; the connection, if any.
    Start(Draft, Option<Anchor>),
    /// A request is out; its reply goes to what [`Awaiting`] names.
    Waiting(Draft, Awaiting),
    /// The entry's outcome has been handed back.
    Finished,
}

/// The request a [`UserFlow`] is waiting on.
#[derive(Debug)]
enum Awaiting {
    /// The matching query on the `i`th matching attribute.
    Matching(usize),
    /// Whether candidate `taken` of `spec.unique[unique]` is held (the ones before it are).
    Checking { unique: usize, taken: usize },
    /// The read by id of the connected object.
    Reading(Anchor),
    /// The create.
    Creating,
    /// The update. `put_anchor`: the connection is new or its manager was read anew; kept once
    /// the PATCH succeeds.
    Patching { anchor: Anchor, put_anchor: bool },
}

/// Brings one in-scope user or group to its mapped state: match (or read by anchor), then create,
/// update only what differs, or skip with `RedundantExport`.
#[derive(Debug)]
pub struct UserFlow {
    ctx: EntryContext,
    key: ObjectKey,
    spec: ObjectSpec,
    state: State,
}

/// Groups follow the same machine; the wire differs (`excludedAttributes=members`, no `active`).
pub type GroupFlow = UserFlow;

impl UserFlow {
    /// A flow for `key`, named `name` in logs, whose import/scoping steps are `steps`.
    pub fn new(
        ctx: EntryContext,
        key: ObjectKey,
        name: &str,
        spec: ObjectSpec,
        anchor: Option<Anchor>,
        steps: Vec<Step>,
    ) -> Self {
        let target_id = anchor
            .as_ref()
            .map(|a| a.target_id.clone())
            .unwrap_or_default();
        let draft = Draft::new(&key, name, &target_id, steps);
        Self {
            ctx,
            key,
            spec,
            state: State::Start(draft, anchor),
        }
    }

    /// Sends `request`, keeping the draft until its reply.
    fn send(&mut self, draft: Draft, awaiting: Awaiting, request: Request) -> Next {
        self.state = State::Waiting(draft, awaiting);
        Next::Send(request)
    }

    fn fail(&self, draft: Draft, attempt: Attempt, failure: Failure) -> Next {
        failed(&self.ctx, draft, attempt, failure)
    }

    /// What the target holds after a successful export, as far as Entra knows.
    fn known(&self, target_id: &str) -> Option<StateChange> {
        wire::known_resource(
            self.key.kind,
            target_id,
            &self.spec.update,
            &self.ctx.create_settings,
        )
        .map(|resource| StateChange::Known(self.key.clone(), resource))
    }

    /// The `i`th matching attribute's path, for the log.
    fn matching_path(&self, i: usize) -> String {
        self.spec
            .matching
            .get(i)
            .map(|(p, _)| p.to_string())
            .unwrap_or_default()
    }

    /// Reads the connected object by its id, or matches an unconnected one.
    fn start(&mut self, draft: Draft, anchor: Option<Anchor>) -> Next {
        match anchor {
            Some(anchor) => {
                let request = wire::get_request(self.key.kind, &anchor.target_id);
                self.send(draft, Awaiting::Reading(anchor), request)
            }
            None => self.next_match(draft, 0),
        }
    }

    fn next_match(&mut self, draft: Draft, from: usize) -> Next {
        let kind = self.key.kind;
        let candidate = self
            .spec
            .matching
            .iter()
            .enumerate()
            .skip(from)
            .find_map(|(i, (path, value))| value.as_ref().map(|v| (i, path.clone(), v.clone())));
        match candidate {
            Some((i, path, value)) => {
                let request = wire::match_request(kind, &path, &value);
                self.send(draft, Awaiting::Matching(i), request)
            }
            None if from == 0 => {
                let failure = Failure::local(
                    ErrorCode::ImportSkipped,
                    format!(
                        "The {} '{}' has no value for any matching attribute, so it cannot be matched or created.",
                        kind.as_str(),
                        draft.name
                    ),
                );
                self.fail(draft, Attempt::Import, failure)
            }
            None => self.create(draft),
        }
    }

    /// Takes the answer to the matching query on the `i`th matching attribute.
    fn matched(&mut self, mut draft: Draft, i: usize, reply: Reply) -> Next {
        let kind = self.key.kind;
        let name = draft.name.clone();
        match wire::interpret_query(reply) {
            Ok(wire::Found::Nothing { claimed }) => {
                if claimed > 0 {
                    let path = self.matching_path(i);
                    draft.step(
                        StepName::EntrySynchronizationWarning,
                        StepType::Matching,
                        Status::Warning,
                        format!(
                            "The query on {path} for {} '{name}' answered totalResults {claimed} but listed no resource; treated as no match",
                            kind.as_str()
                        ),
                    );
                }
                self.next_match(draft, i + 1)
            }
            Ok(wire::Found::One(id, resource)) => {
                let path = self.matching_path(i);
                draft.target_id = id.clone();
                draft.step(
                    StepName::EntrySynchronizationUpdate,
                    StepType::Matching,
                    Status::Success,
                    format!(
                        "Retrieved '{name}' from {} (matched on {path}, id {id})",
                        self.ctx.target_name
                    ),
                );
                let anchor = Anchor {
                    target_id: id,
                    ..Anchor::default()
                };
                self.reconcile(draft, anchor, &resource, true)
            }
            Err(failure) => self.fail(draft, Attempt::Match, failure),
        }
    }

    fn create(&mut self, mut draft: Draft) -> Next {
        let kind = self.key.kind.as_str();
        let target = &self.ctx.target_name;
        let skip = if !self.spec.active {
            Some((
                SkipReason::NotEffectivelyEntitled,
                format!(
                    "The {kind} '{}' is not active in Azure Active Directory and no matching {kind} exists in {target}; it is not created.",
                    draft.name
                ),
            ))
        } else if !self.spec.can_create {
            Some((
                SkipReason::TargetActionNotEnabled,
                format!(
                    "No matching {kind} was found in {target} and the Create target action is disabled."
                ),
            ))
        } else {
            None
        };
        if let Some((reason, text)) = skip {
            draft.action = ProvisioningAction::Other;
            return skipped(&self.ctx, draft, reason, text, Vec::new());
        }
        draft.action = ProvisioningAction::Create;
        self.check_unique(draft, 0, 0)
    }

    /// Asks the target about the next `SelectUniqueValue` candidate (spec §7.2): one query per
    /// candidate, in order, until one is free; once every such attribute has its value, creates.
    fn check_unique(&mut self, draft: Draft, unique: usize, taken: usize) -> Next {
        let Some(u) = self.spec.unique.get(unique) else {
            return self.post(draft);
        };
        let path = match self.spec.create.get(u.index) {
            Some((path, _, _)) => path.clone(),
            None => return self.post(draft),
        };
        match u.candidates.candidate(taken) {
            Ok(candidate) => {
                let request = wire::uniqueness_request(self.key.kind, &path, candidate);
                self.send(draft, Awaiting::Checking { unique, taken }, request)
            }
            Err(e) => {
                let failure = Failure::local(
                    ErrorCode::ExpressionEvaluationFailed,
                    format!("{path}: {e}"),
                );
                self.fail(draft, Attempt::Evaluate, failure)
            }
        }
    }

    /// Takes the target's answer about the candidate asked for in [`Awaiting::Checking`].
    fn checked(&mut self, draft: Draft, unique: usize, taken: usize, reply: Reply) -> Next {
        match wire::interpret_uniqueness(reply) {
            Ok(true) => self.check_unique(draft, unique, taken + 1),
            Ok(false) => {
                let chosen = self.spec.unique.get(unique).and_then(|u| {
                    let candidate = u.candidates.candidate(taken).ok()?;
                    Some((u.index, candidate.to_string()))
                });
                if let Some((index, candidate)) = chosen
                    && let Some(attr) = self.spec.create.get_mut(index)
                {
                    attr.1 = Value::Str(candidate);
                }
                self.check_unique(draft, unique + 1, 0)
            }
            Err(failure) => self.fail(draft, Attempt::CheckUnique, failure),
        }
    }

    /// Sends the create.
    fn post(&mut self, mut draft: Draft) -> Next {
        let kind = self.key.kind.as_str();
        let target = &self.ctx.target_name;
        draft.step(
            StepName::EntrySynchronizationAdd,
            StepType::Matching,
            Status::Success,
            format!("{kind} '{}' will be created in {target} ({kind} is active and assigned in Azure Active Directory, but no matching {kind} was found in {target})", draft.name),
        );
        draft.props = props_from_desired(&self.spec.create);
        match wire::create_request(self.key.kind, &self.spec.create, &self.ctx.create_settings) {
            Ok(request) => self.send(draft, Awaiting::Creating, request),
            Err(failure) => self.fail(draft, Attempt::Create, failure),
        }
    }

    /// Takes the answer to the read by id of the connected object.
    fn read(&mut self, mut draft: Draft, anchor: Anchor, reply: Reply) -> Next {
        match wire::interpret(OpKind::GetById, reply) {
            Answer::Resource(_, resource) => {
                draft.step(
                    StepName::EntryImportObject,
                    StepType::Matching,
                    Status::Success,
                    format!(
                        "Retrieved '{}' from {} by its id {}",
                        draft.name, self.ctx.target_name, anchor.target_id
                    ),
                );
                self.reconcile(draft, anchor, &resource, false)
            }
            Answer::Done(_) => {
                let failure = Failure::local(
                    ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible,
                    "The SCIM endpoint answered the read with an empty body.".into(),
                );
                self.fail(draft, Attempt::ReadEmpty, failure)
            }
            Answer::Failed(failure) => self.fail(draft, Attempt::Read, failure),
        }
    }

    /// Updates what differs between the mapped state and `resource`, read from the target; or
    /// skips when nothing does (or updates are disabled).
    fn reconcile(
        &mut self,
        mut draft: Draft,
        mut anchor: Anchor,
        resource: &serde_json::Value,
        connected_now: bool,
    ) -> Next {
        let changes = match wire::diff(
            &self.spec.update,
            resource,
            &self.spec.case_exact,
            self.spec.roles,
        ) {
            Ok(changes) => changes,
            Err(failure) => return self.fail(draft, Attempt::Update, failure),
        };
        let put_anchor = self.note_manager(&mut anchor, resource) || connected_now;
        if changes.is_empty() || !self.spec.can_update {
            let mut connect = Vec::new();
            if put_anchor {
                connect.push(StateChange::PutAnchor(self.key.clone(), anchor.clone()));
            }
            if changes.is_empty() {
                connect.extend(self.known(&anchor.target_id));
            }
            return self.skip_update(draft, changes.is_empty(), connect);
        }
        let request =
            wire::patch_request(self.key.kind, &anchor.target_id, &changes, self.ctx.mode);
        draft.target_id = anchor.target_id.clone();
        draft.action = if changes.iter().any(wire::disables) {
            ProvisioningAction::Disable
        } else {
            ProvisioningAction::Update
        };
        draft.props = wire::change_properties(&changes, &self.spec.redacted);
        self.send(draft, Awaiting::Patching { anchor, put_anchor }, request)
    }

    /// Notes the manager the target holds, when a manager is mapped: what the reference export
    /// compares the desired manager with (azure-docs#11784: Entra re-sends a manager whenever
    /// the read-back `manager.value` differs from the one it wants). True when it changed.
    fn note_manager(&self, anchor: &mut Anchor, resource: &serde_json::Value) -> bool {
        let Some(path) = &self.spec.manager else {
            return false;
        };
        let held = match path.read(resource) {
            Value::Str(id) if !id.is_empty() => Some(id),
            _ => None,
        };
        let changed = held != anchor.manager;
        anchor.manager = held;
        changed
    }

    /// The skipped entry of an object that already matches (`unchanged`), or whose update is
    /// disabled.
    fn skip_update(&self, draft: Draft, unchanged: bool, connect: Vec<StateChange>) -> Next {
        let kind = self.key.kind.as_str().to_lowercase();
        let (reason, text) = if unchanged {
            (
                SkipReason::RedundantExport,
                format!(
                    "The state of the {kind} in both the source and target systems already match."
                ),
            )
        } else {
            (
                SkipReason::TargetActionNotEnabled,
                format!(
                    "The {kind} differs in {} but the Update target action is disabled.",
                    self.ctx.target_name
                ),
            )
        };
        skipped(&self.ctx, draft, reason, text, connect)
    }

    /// Takes the answer to the create.
    fn created(&mut self, mut draft: Draft, reply: Reply) -> Next {
        match wire::interpret_write(OpKind::Create, reply) {
            Answer::Resource(Some(id), _) | Answer::Done(Some(id)) => {
                draft.target_id = id.clone();
                draft.step(
                    StepName::EntryExportAdd,
                    StepType::Export,
                    Status::Success,
                    format!(
                        "{} '{}' was created in {}",
                        self.key.kind.as_str(),
                        draft.name,
                        self.ctx.target_name
                    ),
                );
                let anchor = Anchor {
                    target_id: id,
                    ..Anchor::default()
                };
                let known = self.known(&anchor.target_id);
                let mut changes = vec![StateChange::PutAnchor(self.key.clone(), anchor)];
                changes.extend(known);
                done(draft.finish(&self.ctx, Status::Success, None), changes)
            }
            Answer::Resource(None, _) | Answer::Done(None) => {
                let failure = Failure::local(
                    ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible,
                    "The SCIM endpoint did not return the created resource with its id.".into(),
                );
                self.fail(draft, Attempt::Create, failure)
            }
            Answer::Failed(failure) => self.fail(draft, Attempt::Create, failure),
        }
    }

    /// Takes the answer to the update.
    fn patched(
        &mut self,
        mut draft: Draft,
        anchor: Anchor,
        put_anchor: bool,
        reply: Reply,
    ) -> Next {
        match wire::interpret_write(OpKind::Update, reply) {
            Answer::Resource(..) | Answer::Done(_) => {
                draft.step(
                    StepName::EntryExportUpdate,
                    StepType::Export,
                    Status::Success,
                    format!(
                        "{} '{}' was updated in {}",
                        self.key.kind.as_str(),
                        draft.name,
                        self.ctx.target_name
                    ),
                );
                let known = self.known(&anchor.target_id);
                let mut changes = Vec::new();
                if put_anchor {
                    changes.push(StateChange::PutAnchor(self.key.clone(), anchor));
                }
                changes.extend(known);
                done(draft.finish(&self.ctx, Status::Success, None), changes)
            }
            Answer::Failed(failure) => self.fail(draft, Attempt::Update, failure),
        }
    }
}

impl Flow for UserFlow {
    /// A step without the reply its request waits for, or after the end, has nothing to do.
    fn step(&mut self, reply: Option<Reply>) -> Next {
        match (std::mem::replace(&mut self.state, State::Finished), reply) {
            (State::Start(draft, anchor), _) => self.start(draft, anchor),
            (State::Waiting(draft, awaiting), Some(reply)) => match awaiting {
                Awaiting::Matching(i) => self.matched(draft, i, reply),
                Awaiting::Checking { unique, taken } => self.checked(draft, unique, taken, reply),
                Awaiting::Reading(anchor) => self.read(draft, anchor, reply),
                Awaiting::Creating => self.created(draft, reply),
                Awaiting::Patching { anchor, put_anchor } => {
                    self.patched(draft, anchor, put_anchor, reply)
                }
            },
            (State::Waiting(..), None) | (State::Finished, _) => Next::Done(Box::default()),
        }
    }
}

/// The failed entry of an object whose mappings could not be evaluated (an expression failed).
pub fn evaluation_failure(
    ctx: &EntryContext,
    key: &ObjectKey,
    name: &str,
    steps: Vec<Step>,
    reason: String,
) -> EntryOutcome {
    let draft = Draft::new(key, name, "", steps);
    let failure = Failure::local(ErrorCode::ExpressionEvaluationFailed, reason);
    failure_outcome(ctx, draft, Attempt::Evaluate, failure)
}

#[cfg(test)]
mod tests;
