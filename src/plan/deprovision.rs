//! Flows that take objects away: disable a user that left scope (spec §4.2), delete a hard-deleted
//! user or a group that left scope (§4.2–§4.3), and the log-only skip for out-of-scope objects.

use super::flows::{Draft, EntryContext, done, failed, skipped};
use super::wire::{self, Answer, Failure};
use super::{Anchor, Flow, Next, ObjectKey, Reply, StateChange};
use crate::provlog::{ProvisioningAction, Status, Step, StepType};
use crate::scim::OpKind;

#[derive(Debug)]
enum DisableState {
    Start,
    Reading,
    Patching,
    Finished,
}

/// Disables a connected user that left scope (unassigned, or failing a scoping filter), then stops
/// managing it: `GET /Users/{id}`, and unless it is already inactive, PATCH `active` False.
#[derive(Debug)]
pub struct DisableFlow {
    ctx: EntryContext,
    key: ObjectKey,
    anchor: Anchor,
    state: DisableState,
    draft: Option<Draft>,
}

impl DisableFlow {
    /// A flow disabling `key`, connected through `anchor`.
    pub fn new(
        ctx: EntryContext,
        key: ObjectKey,
        name: &str,
        anchor: Anchor,
        steps: Vec<Step>,
    ) -> Self {
        let mut draft = Draft::new(&key, name, &anchor.target_id, steps);
        draft.action = ProvisioningAction::Disable;
        Self {
            ctx,
            key,
            anchor,
            state: DisableState::Start,
            draft: Some(draft),
        }
    }

    fn take(&mut self) -> Draft {
        self.state = DisableState::Finished;
        self.draft
            .take()
            .unwrap_or_else(|| Draft::new(&self.key, "", "", Vec::new()))
    }
}

impl Flow for DisableFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next {
        let ctx = self.ctx.clone();
        let name = self
            .draft
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default();
        let release = vec![StateChange::RemoveAnchor(self.key.clone())];
        match (
            std::mem::replace(&mut self.state, DisableState::Finished),
            reply,
        ) {
            (DisableState::Start, _) => {
                self.state = DisableState::Reading;
                Next::Send(wire::get_request(self.key.kind, &self.anchor.target_id))
            }
            (DisableState::Reading, Some(reply)) => match wire::interpret(OpKind::GetById, reply) {
                Answer::Resource(_, resource) if !wire::is_active(&resource) => {
                    let draft = self.take();
                    skipped(&ctx, draft, "RedundantExport", "The state of the user in both the source and target systems already match.".into(), release)
                }
                Answer::Resource(..) | Answer::Done(_) => {
                    if let Some(d) = self.draft.as_mut() {
                        d.props = wire::disable_properties();
                    }
                    self.state = DisableState::Patching;
                    Next::Send(wire::disable_request(&self.anchor.target_id, ctx.mode))
                }
                Answer::Failed(failure) => {
                    let draft = self.take();
                    failed(
                        &ctx,
                        draft,
                        "EntryExportUpdate",
                        format!("Failed to disable User '{name}' in {}", ctx.target_name),
                        failure,
                    )
                }
            },
            (DisableState::Patching, Some(reply)) => {
                match wire::interpret_write(OpKind::Update, reply) {
                    Answer::Resource(..) | Answer::Done(_) => {
                        let mut draft = self.take();
                        draft.step(
                            "EntryExportUpdateSoftDelete",
                            StepType::Export,
                            Status::Success,
                            format!("User '{name}' was disabled in {}", ctx.target_name),
                        );
                        done(draft.finish(&ctx, Status::Success, None), release)
                    }
                    Answer::Failed(failure) => {
                        let draft = self.take();
                        failed(
                            &ctx,
                            draft,
                            "EntryExportUpdateSoftDelete",
                            format!("Failed to disable User '{name}' in {}", ctx.target_name),
                            failure,
                        )
                    }
                }
            }
            (DisableState::Finished, _) | (_, None) => {
                let draft = self.take();
                failed(
                    &ctx,
                    draft,
                    "EntryExport",
                    name,
                    Failure::local("InternalError", "the flow was driven out of order".into()),
                )
            }
        }
    }
}

/// Deletes a connected object: `DELETE /Users/{id}` or `DELETE /Groups/{id}`.
#[derive(Debug)]
pub struct DeleteFlow {
    ctx: EntryContext,
    key: ObjectKey,
    anchor: Anchor,
    sent: bool,
    draft: Option<Draft>,
}

impl DeleteFlow {
    /// A flow deleting `key`, connected through `anchor`.
    pub fn new(
        ctx: EntryContext,
        key: ObjectKey,
        name: &str,
        anchor: Anchor,
        steps: Vec<Step>,
    ) -> Self {
        let mut draft = Draft::new(&key, name, &anchor.target_id, steps);
        draft.action = ProvisioningAction::Delete;
        Self {
            ctx,
            key,
            anchor,
            sent: false,
            draft: Some(draft),
        }
    }
}

impl Flow for DeleteFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next {
        if !self.sent {
            self.sent = true;
            return Next::Send(wire::delete_request(self.key.kind, &self.anchor.target_id));
        }
        let ctx = self.ctx.clone();
        let mut draft = self
            .draft
            .take()
            .unwrap_or_else(|| Draft::new(&self.key, "", "", Vec::new()));
        let name = draft.name.clone();
        let kind = self.key.kind.as_str();
        let release = vec![StateChange::RemoveAnchor(self.key.clone())];
        let Some(reply) = reply else {
            return failed(
                &ctx,
                draft,
                "EntryExportDelete",
                name,
                Failure::local("InternalError", "the flow was driven out of order".into()),
            );
        };
        match wire::interpret_write(OpKind::Delete, reply) {
            Answer::Resource(..) | Answer::Done(_) => {
                draft.step(
                    "EntryExportDelete",
                    StepType::Export,
                    Status::Success,
                    format!("{kind} '{name}' was deleted in {}", ctx.target_name),
                );
                done(draft.finish(&ctx, Status::Success, None), release)
            }
            Answer::Failed(failure) if failure.not_found && ctx.delete_not_found_is_success => {
                draft.step(
                    "EntryExportDelete",
                    StepType::Export,
                    Status::Success,
                    format!(
                        "{kind} '{name}' was already absent from {}",
                        ctx.target_name
                    ),
                );
                done(draft.finish(&ctx, Status::Success, None), release)
            }
            Answer::Failed(failure) => failed(
                &ctx,
                draft,
                "EntryExportDelete",
                format!("Failed to delete {kind} '{name}' in {}", ctx.target_name),
                failure,
            ),
        }
    }
}

/// A change that needs no request: logged as skipped with its reason (e.g. out of scope).
#[derive(Debug)]
pub struct SkipFlow {
    ctx: EntryContext,
    draft: Option<Draft>,
    reason: &'static str,
    text: String,
    changes: Vec<StateChange>,
}

impl SkipFlow {
    /// A skipped entry for `key` with `reason` (`SkipReason`) and its sentence.
    pub fn new(
        ctx: EntryContext,
        key: &ObjectKey,
        name: &str,
        steps: Vec<Step>,
        reason: &'static str,
        text: String,
        changes: Vec<StateChange>,
    ) -> Self {
        let mut draft = Draft::new(key, name, "", steps);
        draft.action = ProvisioningAction::Other;
        Self {
            ctx,
            draft: Some(draft),
            reason,
            text,
            changes,
        }
    }
}

impl SkipFlow {
    /// The same entry, logged as a `stageddelete` (held back by the accidental-deletion guard).
    pub fn staged(mut self) -> Self {
        if let Some(draft) = self.draft.as_mut() {
            draft.action = ProvisioningAction::StagedDelete;
        }
        self
    }
}

impl Flow for SkipFlow {
    fn step(&mut self, _reply: Option<Reply>) -> Next {
        let draft = match self.draft.take() {
            Some(d) => d,
            None => return Next::Done(Box::default()),
        };
        skipped(
            &self.ctx,
            draft,
            self.reason,
            std::mem::take(&mut self.text),
            std::mem::take(&mut self.changes),
        )
    }
}
