//! Flows that take objects away: disable a user that left scope (spec §4.2), delete a hard-deleted
//! user or a group that left scope (§4.2–§4.3), and the log-only skip for out-of-scope objects.

use super::flows::{Attempt, Draft, EntryContext, done, failed, skipped};
use super::wire::{self, Answer};
use super::{Anchor, Flow, Next, ObjectKey, Reply, StateChange};
use crate::provlog::{ProvisioningAction, SkipReason, Status, Step, StepName, StepType};
use crate::scim::OpKind;

/// Where a [`DisableFlow`] is. The entry's draft lives in the state that can still add to it.
#[derive(Debug)]
enum DisableState {
    /// Not started.
    Start(Draft),
    /// The read of the user is out.
    Reading(Draft),
    /// The disabling PATCH is out.
    Patching(Draft),
    /// The entry's outcome has been handed back.
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
            state: DisableState::Start(draft),
        }
    }

    fn release(&self) -> Vec<StateChange> {
        vec![StateChange::RemoveAnchor(self.key.clone())]
    }

    /// Takes the read: an inactive user needs nothing; any other is disabled.
    fn read(&mut self, mut draft: Draft, reply: Reply) -> Next {
        match wire::interpret(OpKind::GetById, reply) {
            Answer::Resource(_, resource) if !wire::is_active(&resource) => skipped(
                &self.ctx,
                draft,
                SkipReason::RedundantExport,
                "The state of the user in both the source and target systems already match.".into(),
                self.release(),
            ),
            Answer::Resource(..) | Answer::Done(_) => {
                draft.props = wire::disable_properties();
                self.state = DisableState::Patching(draft);
                Next::Send(wire::disable_request(&self.anchor.target_id, self.ctx.mode))
            }
            Answer::Failed(failure) => failed(&self.ctx, draft, Attempt::DisableRead, failure),
        }
    }

    /// Takes the answer to the disabling PATCH.
    fn patched(&self, mut draft: Draft, reply: Reply) -> Next {
        match wire::interpret_write(OpKind::Update, reply) {
            Answer::Resource(..) | Answer::Done(_) => {
                draft.step(
                    StepName::EntryExportUpdateSoftDelete,
                    StepType::Export,
                    Status::Success,
                    format!(
                        "User '{}' was disabled in {}",
                        draft.name, self.ctx.target_name
                    ),
                );
                done(
                    draft.finish(&self.ctx, Status::Success, None),
                    self.release(),
                )
            }
            Answer::Failed(failure) => failed(&self.ctx, draft, Attempt::Disable, failure),
        }
    }
}

impl Flow for DisableFlow {
    /// A step without the reply its request waits for, or after the end, has nothing to do.
    fn step(&mut self, reply: Option<Reply>) -> Next {
        match (
            std::mem::replace(&mut self.state, DisableState::Finished),
            reply,
        ) {
            (DisableState::Start(draft), _) => {
                self.state = DisableState::Reading(draft);
                Next::Send(wire::get_request(self.key.kind, &self.anchor.target_id))
            }
            (DisableState::Reading(draft), Some(reply)) => self.read(draft, reply),
            (DisableState::Patching(draft), Some(reply)) => self.patched(draft, reply),
            (DisableState::Reading(_) | DisableState::Patching(_), None)
            | (DisableState::Finished, _) => Next::Done(Box::default()),
        }
    }
}

/// Where a [`DeleteFlow`] is.
#[derive(Debug)]
enum DeleteState {
    /// Not started.
    Start(Draft),
    /// The DELETE is out.
    Deleting(Draft),
    /// The entry's outcome has been handed back.
    Finished,
}

/// Deletes a connected object: `DELETE /Users/{id}` or `DELETE /Groups/{id}`.
#[derive(Debug)]
pub struct DeleteFlow {
    ctx: EntryContext,
    key: ObjectKey,
    anchor: Anchor,
    state: DeleteState,
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
            state: DeleteState::Start(draft),
        }
    }

    /// Takes the answer to the DELETE; a 404 counts as deleted when the job says so.
    fn deleted(&self, mut draft: Draft, reply: Reply) -> Next {
        let ctx = &self.ctx;
        let kind = self.key.kind.as_str();
        let name = draft.name.clone();
        let text = match wire::interpret_write(OpKind::Delete, reply) {
            Answer::Resource(..) | Answer::Done(_) => {
                format!("{kind} '{name}' was deleted in {}", ctx.target_name)
            }
            Answer::Failed(failure) if failure.not_found && ctx.delete_not_found_is_success => {
                format!(
                    "{kind} '{name}' was already absent from {}",
                    ctx.target_name
                )
            }
            Answer::Failed(failure) => return failed(ctx, draft, Attempt::Delete, failure),
        };
        draft.step(
            StepName::EntryExportDelete,
            StepType::Export,
            Status::Success,
            text,
        );
        let release = vec![StateChange::RemoveAnchor(self.key.clone())];
        done(draft.finish(ctx, Status::Success, None), release)
    }
}

impl Flow for DeleteFlow {
    /// A step without the reply its request waits for, or after the end, has nothing to do.
    fn step(&mut self, reply: Option<Reply>) -> Next {
        match (
            std::mem::replace(&mut self.state, DeleteState::Finished),
            reply,
        ) {
            (DeleteState::Start(draft), _) => {
                self.state = DeleteState::Deleting(draft);
                Next::Send(wire::delete_request(self.key.kind, &self.anchor.target_id))
            }
            (DeleteState::Deleting(draft), Some(reply)) => self.deleted(draft, reply),
            (DeleteState::Deleting(_), None) | (DeleteState::Finished, _) => {
                Next::Done(Box::default())
            }
        }
    }
}

/// A change that needs no request: logged as skipped with its reason (e.g. out of scope).
#[derive(Debug)]
pub struct SkipFlow {
    ctx: EntryContext,
    draft: Option<Draft>,
    reason: SkipReason,
    text: String,
    changes: Vec<StateChange>,
}

impl SkipFlow {
    /// A skipped entry for `key` with `reason` and its sentence.
    pub fn new(
        ctx: EntryContext,
        key: &ObjectKey,
        name: &str,
        steps: Vec<Step>,
        reason: SkipReason,
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
