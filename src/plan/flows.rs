//! The per-object state machines: a user or group being matched, created or updated; disabled when
//! it leaves scope; deleted when it is hard-deleted; and the reference exports (manager, members)
//! that follow once every object has its target id (spec §1.2–§1.3, §2.3–§2.4, §4.2–§4.3).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::wire::{self, Answer, Failure};
use super::{Anchor, EntryOutcome, Flow, Next, ObjectKey, Reply, StateChange};
use crate::expr::{UniqueCandidates, Value};
use crate::provlog::{
    ErrorInformation, Identity, Initiator, LogEntry, ModifiedProperty, ProvisioningAction, Status,
    StatusInfo, Step, StepType, System,
};
use crate::scim::{CreateSettings, OpKind, RoleFunction, ScimMode, TargetPath};

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

    pub(super) fn step(&mut self, name: &str, kind: StepType, status: Status, description: String) {
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

pub(super) fn failed(
    ctx: &EntryContext,
    mut draft: Draft,
    step: &str,
    what: String,
    failure: Failure,
) -> Next {
    draft.step(step, StepType::Export, Status::Failure, what);
    let job_failure = failure.job_level.then(|| super::JobFailure {
        code: failure.code.clone(),
        reason: failure.reason.clone(),
    });
    let log = draft.finish(ctx, Status::Failure, Some(failure.into_error_information()));
    Next::Done(Box::new(EntryOutcome {
        log: Some(log),
        changes: Vec::new(),
        failed: true,
        job_failure,
    }))
}

pub(super) fn skipped(
    ctx: &EntryContext,
    mut draft: Draft,
    reason: &str,
    text: String,
    changes: Vec<StateChange>,
) -> Next {
    draft.steps.push(
        Step::new(
            "EntrySynchronizationSkip",
            StepType::Export,
            Status::Skipped,
            text.clone(),
        )
        .detail("SkipReason", reason),
    );
    let error = ErrorInformation {
        error_code: reason.to_string(),
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

#[derive(Debug)]
enum State {
    Start,
    Matching(usize),
    /// Asking whether candidate `taken` of `spec.unique[unique]` is held (the ones before it are).
    Checking {
        unique: usize,
        taken: usize,
    },
    Reading,
    Creating,
    /// `put_anchor`: the connection is new or its manager was read anew; kept once the PATCH
    /// succeeds.
    Patching {
        put_anchor: bool,
    },
    Finished,
}

/// Brings one in-scope user or group to its mapped state: match (or read by anchor), then create,
/// update only what differs, or skip with `RedundantExport`.
#[derive(Debug)]
pub struct UserFlow {
    ctx: EntryContext,
    key: ObjectKey,
    spec: ObjectSpec,
    anchor: Option<Anchor>,
    state: State,
    draft: Option<Draft>,
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
            anchor,
            state: State::Start,
            draft: Some(draft),
        }
    }

    fn take_draft(&mut self) -> Draft {
        self.state = State::Finished;
        self.draft
            .take()
            .unwrap_or_else(|| Draft::new(&self.key, "", "", Vec::new()))
    }

    fn draft(&mut self) -> &mut Draft {
        if self.draft.is_none() {
            self.draft = Some(Draft::new(&self.key, "", "", Vec::new()));
        }
        match self.draft.as_mut() {
            Some(d) => d,
            None => unreachable!("draft was just set"),
        }
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

    fn name(&self) -> String {
        self.draft
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default()
    }

    /// The `i`th matching attribute's path, for the log.
    fn matching_path(&self, i: usize) -> String {
        self.spec
            .matching
            .get(i)
            .map(|(p, _)| p.to_string())
            .unwrap_or_default()
    }

    fn next_match(&mut self, from: usize) -> Next {
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
                self.state = State::Matching(i);
                Next::Send(wire::match_request(kind, &path, &value))
            }
            None if from == 0 => {
                let ctx = self.ctx.clone();
                let name = self.name();
                let draft = self.take_draft();
                let failure = Failure::local(
                    "ImportSkipped",
                    format!(
                        "The {} '{name}' has no value for any matching attribute, so it cannot be matched or created.",
                        kind.as_str()
                    ),
                );
                failed(
                    &ctx,
                    draft,
                    "EntryImportSkipped",
                    format!("Skipped {} '{name}'", kind.as_str()),
                    failure,
                )
            }
            None => self.create(),
        }
    }

    fn create(&mut self) -> Next {
        let ctx = self.ctx.clone();
        let name = self.name();
        let kind = self.key.kind;
        if !self.spec.active {
            let mut draft = self.take_draft();
            draft.action = ProvisioningAction::Other;
            return skipped(
                &ctx,
                draft,
                "NotEffectivelyEntitled",
                format!(
                    "The {} '{name}' is not active in Azure Active Directory and no matching {} exists in {}; it is not created.",
                    kind.as_str(),
                    kind.as_str(),
                    ctx.target_name
                ),
                Vec::new(),
            );
        }
        if !self.spec.can_create {
            let mut draft = self.take_draft();
            draft.action = ProvisioningAction::Other;
            return skipped(
                &ctx,
                draft,
                "TargetActionNotEnabled",
                format!(
                    "No matching {} was found in {} and the Create target action is disabled.",
                    kind.as_str(),
                    ctx.target_name
                ),
                Vec::new(),
            );
        }
        self.draft().action = ProvisioningAction::Create;
        self.check_unique(0, 0)
    }

    /// Asks the target about the next `SelectUniqueValue` candidate (spec §7.2): one query per
    /// candidate, in order, until one is free; once every such attribute has its value, creates.
    fn check_unique(&mut self, unique: usize, taken: usize) -> Next {
        let Some(u) = self.spec.unique.get(unique) else {
            return self.post();
        };
        let path = match self.spec.create.get(u.index) {
            Some((path, _, _)) => path.clone(),
            None => return self.post(),
        };
        match u.candidates.candidate(taken) {
            Ok(candidate) => {
                let request = wire::uniqueness_request(self.key.kind, &path, candidate);
                self.state = State::Checking { unique, taken };
                Next::Send(request)
            }
            Err(e) => {
                let ctx = self.ctx.clone();
                let name = self.name();
                let kind = self.key.kind;
                let draft = self.take_draft();
                failed(
                    &ctx,
                    draft,
                    "EntrySynchronizationError",
                    format!(
                        "Failed to evaluate the attribute mappings of {} '{name}'",
                        kind.as_str()
                    ),
                    Failure::local(EVALUATION_FAILED, format!("{path}: {e}")),
                )
            }
        }
    }

    /// Takes the target's answer about the candidate asked for in [`State::Checking`].
    fn checked(&mut self, unique: usize, taken: usize, reply: Reply) -> Next {
        match wire::interpret_uniqueness(reply) {
            Ok(true) => self.check_unique(unique, taken + 1),
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
                self.check_unique(unique + 1, 0)
            }
            Err(failure) => {
                let ctx = self.ctx.clone();
                let name = self.name();
                let kind = self.key.kind;
                let draft = self.take_draft();
                failed(
                    &ctx,
                    draft,
                    "EntrySynchronizationError",
                    format!(
                        "Failed to check in {} whether the values of {} '{name}' are unique",
                        ctx.target_name,
                        kind.as_str()
                    ),
                    failure,
                )
            }
        }
    }

    /// Sends the create.
    fn post(&mut self) -> Next {
        let ctx = self.ctx.clone();
        let name = self.name();
        let kind = self.key.kind;
        let create = self.spec.create.clone();
        let draft = self.draft();
        draft.step(
            "EntrySynchronizationAdd",
            StepType::Matching,
            Status::Success,
            format!("{} '{name}' will be created in {} ({} is active and assigned in Azure Active Directory, but no matching {} was found in {})", kind.as_str(), ctx.target_name, kind.as_str(), kind.as_str(), ctx.target_name),
        );
        draft.props = props_from_desired(&create);
        match wire::create_request(kind, &create, &ctx.create_settings) {
            Ok(request) => {
                self.state = State::Creating;
                Next::Send(request)
            }
            Err(failure) => {
                let draft = self.take_draft();
                failed(
                    &ctx,
                    draft,
                    "EntryExportAdd",
                    format!(
                        "Failed to create {} '{name}' in {}",
                        kind.as_str(),
                        ctx.target_name
                    ),
                    failure,
                )
            }
        }
    }

    fn reconcile(&mut self, resource: &serde_json::Value, connected_now: bool) -> Next {
        let ctx = self.ctx.clone();
        let name = self.name();
        let kind = self.key.kind;
        let Some(mut anchor) = self.anchor.clone() else {
            let draft = self.take_draft();
            return failed(
                &ctx,
                draft,
                "EntryExportUpdate",
                format!("Failed to update {} '{name}'", kind.as_str()),
                Failure::local("InternalError", "no anchor".into()),
            );
        };
        let changes = match wire::diff(
            &self.spec.update,
            resource,
            &self.spec.case_exact,
            self.spec.roles,
        ) {
            Ok(changes) => changes,
            Err(failure) => {
                let draft = self.take_draft();
                return failed(
                    &ctx,
                    draft,
                    "EntryExportUpdate",
                    format!(
                        "Failed to update {} '{name}' in {}",
                        kind.as_str(),
                        ctx.target_name
                    ),
                    failure,
                );
            }
        };
        // The manager the target holds, when a manager is mapped: what the reference export
        // compares the desired manager with (azure-docs#11784: Entra re-sends a manager whenever
        // the read-back `manager.value` differs from the one it wants).
        let manager_read = match &self.spec.manager {
            Some(path) => {
                let held = match path.read(resource) {
                    Value::Str(id) if !id.is_empty() => Some(id),
                    _ => None,
                };
                let changed = held != anchor.manager;
                anchor.manager = held;
                self.anchor = Some(anchor.clone());
                changed
            }
            None => false,
        };
        let put_anchor = connected_now || manager_read;
        let mut connect = if put_anchor {
            vec![StateChange::PutAnchor(self.key.clone(), anchor.clone())]
        } else {
            Vec::new()
        };
        if changes.is_empty() {
            connect.extend(self.known(&anchor.target_id));
        }
        if changes.is_empty() || !self.spec.can_update {
            let draft = self.take_draft();
            let (reason, text) = if changes.is_empty() {
                (
                    "RedundantExport",
                    format!(
                        "The state of the {} in both the source and target systems already match.",
                        kind.as_str().to_lowercase()
                    ),
                )
            } else {
                (
                    "TargetActionNotEnabled",
                    format!(
                        "The {} differs in {} but the Update target action is disabled.",
                        kind.as_str().to_lowercase(),
                        ctx.target_name
                    ),
                )
            };
            return skipped(&ctx, draft, reason, text, connect);
        }
        let request = wire::patch_request(kind, &anchor.target_id, &changes, ctx.mode);
        let disabling = changes.iter().any(wire::disables);
        let redacted = self.spec.redacted.clone();
        let draft = self.draft();
        draft.target_id = anchor.target_id.clone();
        draft.action = if disabling {
            ProvisioningAction::Disable
        } else {
            ProvisioningAction::Update
        };
        draft.props = wire::change_properties(&changes, &redacted);
        self.state = State::Patching { put_anchor };
        Next::Send(request)
    }
}

impl Flow for UserFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next {
        let ctx = self.ctx.clone();
        let kind = self.key.kind;
        let name = self.name();
        let state = std::mem::replace(&mut self.state, State::Finished);
        match (state, reply) {
            (State::Start, _) => match &self.anchor {
                Some(anchor) => {
                    self.state = State::Reading;
                    Next::Send(wire::get_request(kind, &anchor.target_id))
                }
                None => self.next_match(0),
            },
            (State::Matching(i), Some(reply)) => match wire::interpret_query(reply) {
                Ok(wire::Found::Nothing { claimed }) => {
                    if claimed > 0 {
                        let path = self.matching_path(i);
                        self.draft().step(
                            "EntrySynchronizationWarning",
                            StepType::Matching,
                            Status::Warning,
                            format!(
                                "The query on {path} for {} '{name}' answered totalResults {claimed} but listed no resource; treated as no match",
                                kind.as_str()
                            ),
                        );
                    }
                    self.next_match(i + 1)
                }
                Ok(wire::Found::One(id, resource)) => {
                    self.anchor = Some(Anchor {
                        target_id: id.clone(),
                        ..Anchor::default()
                    });
                    let path = self.matching_path(i);
                    let draft = self.draft();
                    draft.target_id = id.clone();
                    draft.step(
                        "EntrySynchronizationUpdate",
                        StepType::Matching,
                        Status::Success,
                        format!(
                            "Retrieved '{name}' from {} (matched on {path}, id {id})",
                            ctx.target_name
                        ),
                    );
                    self.reconcile(&resource, true)
                }
                Err(failure) => {
                    let draft = self.take_draft();
                    failed(
                        &ctx,
                        draft,
                        "EntrySynchronizationError",
                        format!(
                            "Failed to match an entry in the source and target systems {} '{name}'",
                            kind.as_str()
                        ),
                        failure,
                    )
                }
            },
            (State::Checking { unique, taken }, Some(reply)) => self.checked(unique, taken, reply),
            (State::Reading, Some(reply)) => match wire::interpret(OpKind::GetById, reply) {
                Answer::Resource(_, resource) => {
                    let id = self
                        .anchor
                        .as_ref()
                        .map(|a| a.target_id.clone())
                        .unwrap_or_default();
                    self.draft().step(
                        "EntryImportObject",
                        StepType::Matching,
                        Status::Success,
                        format!("Retrieved '{name}' from {} by its id {id}", ctx.target_name),
                    );
                    self.reconcile(&resource, false)
                }
                Answer::Done(_) => {
                    let draft = self.take_draft();
                    failed(
                        &ctx,
                        draft,
                        "EntryExportUpdate",
                        format!("Failed to read {} '{name}'", kind.as_str()),
                        Failure::local(
                            "SystemForCrossDomainIdentityManagementServiceIncompatible",
                            "The SCIM endpoint answered the read with an empty body.".into(),
                        ),
                    )
                }
                Answer::Failed(failure) => {
                    let draft = self.take_draft();
                    failed(
                        &ctx,
                        draft,
                        "EntryExportUpdate",
                        format!(
                            "Failed to read {} '{name}' from {}",
                            kind.as_str(),
                            ctx.target_name
                        ),
                        failure,
                    )
                }
            },
            (State::Creating, Some(reply)) => {
                match wire::interpret_write(OpKind::Create, reply) {
                    Answer::Resource(Some(id), _) | Answer::Done(Some(id)) => {
                        let mut draft = self.take_draft();
                        draft.target_id = id.clone();
                        draft.step(
                            "EntryExportAdd",
                            StepType::Export,
                            Status::Success,
                            format!(
                                "{} '{name}' was created in {}",
                                kind.as_str(),
                                ctx.target_name
                            ),
                        );
                        let anchor = Anchor {
                            target_id: id,
                            ..Anchor::default()
                        };
                        let known = self.known(&anchor.target_id);
                        let mut changes = vec![StateChange::PutAnchor(self.key.clone(), anchor)];
                        changes.extend(known);
                        done(draft.finish(&ctx, Status::Success, None), changes)
                    }
                    Answer::Resource(None, _) | Answer::Done(None) => {
                        let draft = self.take_draft();
                        failed(&ctx, draft, "EntryExportAdd", format!("Failed to create {} '{name}' in {}", kind.as_str(), ctx.target_name), Failure::local("SystemForCrossDomainIdentityManagementServiceIncompatible", "The SCIM endpoint did not return the created resource with its id.".into()))
                    }
                    Answer::Failed(failure) => {
                        let draft = self.take_draft();
                        failed(
                            &ctx,
                            draft,
                            "EntryExportAdd",
                            format!(
                                "Failed to create {} '{name}' in {}",
                                kind.as_str(),
                                ctx.target_name
                            ),
                            failure,
                        )
                    }
                }
            }
            (State::Patching { put_anchor }, Some(reply)) => {
                match wire::interpret_write(OpKind::Update, reply) {
                    Answer::Resource(..) | Answer::Done(_) => {
                        let mut draft = self.take_draft();
                        draft.step(
                            "EntryExportUpdate",
                            StepType::Export,
                            Status::Success,
                            format!(
                                "{} '{name}' was updated in {}",
                                kind.as_str(),
                                ctx.target_name
                            ),
                        );
                        let mut changes = match (&self.anchor, put_anchor) {
                            (Some(anchor), true) => {
                                vec![StateChange::PutAnchor(self.key.clone(), anchor.clone())]
                            }
                            _ => Vec::new(),
                        };
                        if let Some(anchor) = &self.anchor {
                            changes.extend(self.known(&anchor.target_id));
                        }
                        done(draft.finish(&ctx, Status::Success, None), changes)
                    }
                    Answer::Failed(failure) => {
                        let draft = self.take_draft();
                        failed(
                            &ctx,
                            draft,
                            "EntryExportUpdate",
                            format!(
                                "Failed to update {} '{name}' in {}",
                                kind.as_str(),
                                ctx.target_name
                            ),
                            failure,
                        )
                    }
                }
            }
            (State::Finished, _) | (_, None) => {
                let draft = self.take_draft();
                failed(
                    &ctx,
                    draft,
                    "EntryExport",
                    format!("{} '{name}'", kind.as_str()),
                    Failure::local("InternalError", "the flow was driven out of order".into()),
                )
            }
        }
    }
}

/// The error code of an entry whose mappings could not be evaluated.
const EVALUATION_FAILED: &str = "ExpressionEvaluationFailed";

/// The failed entry of an object whose mappings could not be evaluated (an expression failed).
pub fn evaluation_failure(
    ctx: &EntryContext,
    key: &ObjectKey,
    name: &str,
    steps: Vec<Step>,
    reason: String,
) -> EntryOutcome {
    let draft = Draft::new(key, name, "", steps);
    let failure = Failure::local(EVALUATION_FAILED, reason);
    match failed(
        ctx,
        draft,
        "EntrySynchronizationError",
        format!(
            "Failed to evaluate the attribute mappings of {} '{name}'",
            key.kind.as_str()
        ),
        failure,
    ) {
        Next::Done(outcome) => *outcome,
        Next::Send(_) => EntryOutcome::default(),
    }
}

#[cfg(test)]
mod tests;
