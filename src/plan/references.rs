//! Reference exports, run after every object of the cycle has its target id (spec §1.2 step 6,
//! §2.3 manager, §2.4 members, §6.4): the manager link as a PATCH of the enterprise `manager`, and
//! group membership as member PATCHes whose values are the members' target ids. Entra never reads
//! members back, so what was last exported is kept in the anchor.

use std::collections::HashSet;

use super::flows::{Draft, EntryContext, done, failed};
use super::wire::{self, Answer, Failure};
use super::{Anchor, Flow, Next, ObjectKey, Reply, Request, StateChange};
use crate::provlog::{ModifiedProperty, ProvisioningAction, Status, StepType};
use crate::scim::OpKind;

/// Links a user to its manager: PATCH `urn:…:enterprise:2.0:User:manager` with the manager's id.
#[derive(Debug)]
pub struct ManagerFlow {
    ctx: EntryContext,
    key: ObjectKey,
    anchor: Anchor,
    manager_target_id: String,
    sent: bool,
    draft: Option<Draft>,
}

impl ManagerFlow {
    /// A flow pointing `key`'s manager at `manager_target_id`; `manager_name` is for the log.
    pub fn new(
        ctx: EntryContext,
        key: ObjectKey,
        name: &str,
        anchor: Anchor,
        manager_target_id: String,
        manager_name: &str,
    ) -> Self {
        let mut draft = Draft::new(&key, name, &anchor.target_id, Vec::new());
        draft.step(
            "EntryReferenceResolution",
            StepType::ReferenceResolution,
            Status::Success,
            format!("Resolved the manager of User '{name}' to '{manager_name}' (id {manager_target_id} in {})", ctx.target_name),
        );
        draft.props = vec![ModifiedProperty {
            display_name: wire::MANAGER_PATH.into(),
            old_value: anchor.manager.clone(),
            new_value: Some(manager_target_id.clone()),
        }];
        Self {
            ctx,
            key,
            anchor,
            manager_target_id,
            sent: false,
            draft: Some(draft),
        }
    }
}

impl Flow for ManagerFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next {
        if !self.sent {
            self.sent = true;
            return Next::Send(wire::manager_request(
                &self.anchor.target_id,
                &self.manager_target_id,
                self.ctx.mode,
            ));
        }
        let ctx = self.ctx.clone();
        let mut draft = self
            .draft
            .take()
            .unwrap_or_else(|| Draft::new(&self.key, "", "", Vec::new()));
        let name = draft.name.clone();
        let Some(reply) = reply else {
            return failed(
                &ctx,
                draft,
                "EntryExportUpdate",
                name,
                Failure::local("InternalError", "the flow was driven out of order".into()),
            );
        };
        match wire::interpret(OpKind::Update, reply) {
            Answer::Resource(..) | Answer::Empty => {
                draft.step(
                    "EntryExportUpdate",
                    StepType::Export,
                    Status::Success,
                    format!(
                        "The manager of User '{name}' was updated in {}",
                        ctx.target_name
                    ),
                );
                let anchor = Anchor {
                    manager: Some(self.manager_target_id.clone()),
                    ..self.anchor.clone()
                };
                done(
                    draft.finish(&ctx, Status::Success, None),
                    vec![StateChange::PutAnchor(self.key.clone(), anchor)],
                )
            }
            Answer::Failed(failure) => failed(
                &ctx,
                draft,
                "EntryExportUpdate",
                format!(
                    "Failed to update the manager of User '{name}' in {}",
                    ctx.target_name
                ),
                failure.as_reference(),
            ),
        }
    }
}

/// Brings a group's membership to the desired set: member PATCHes adding and removing target ids,
/// batched per the job's `member_batch_size`.
#[derive(Debug)]
pub struct MembersFlow {
    ctx: EntryContext,
    key: ObjectKey,
    anchor: Anchor,
    pending: Vec<(Request, Vec<String>, Vec<String>)>,
    exported: Vec<String>,
    in_flight: Option<(Vec<String>, Vec<String>)>,
    draft: Option<Draft>,
}

impl MembersFlow {
    /// A flow moving `key`'s exported members (in `anchor`) to `desired` (target ids).
    pub fn new(
        ctx: EntryContext,
        key: ObjectKey,
        name: &str,
        anchor: Anchor,
        desired: &[String],
    ) -> Self {
        // Sets, not scans: a group can have hundreds of thousands of members.
        let exported: HashSet<&String> = anchor.members.iter().collect();
        let wanted: HashSet<&String> = desired.iter().collect();
        let add: Vec<String> = desired
            .iter()
            .filter(|id| !exported.contains(id))
            .cloned()
            .collect();
        let remove: Vec<String> = anchor
            .members
            .iter()
            .filter(|id| !wanted.contains(id))
            .cloned()
            .collect();
        let pending = wire::member_requests(
            &anchor.target_id,
            &add,
            &remove,
            ctx.mode,
            ctx.member_batch_size,
        );
        let mut draft = Draft::new(&key, name, &anchor.target_id, Vec::new());
        draft.step(
            "EntryReferenceResolution",
            StepType::ReferenceResolution,
            Status::Success,
            format!(
                "Resolved {} member(s) to add and {} to remove for Group '{name}'",
                add.len(),
                remove.len()
            ),
        );
        draft.props = vec![ModifiedProperty {
            display_name: "members".into(),
            old_value: Some(anchor.members.join(",")),
            new_value: Some(desired.join(",")),
        }];
        draft.action = ProvisioningAction::Update;
        let exported = anchor.members.clone();
        Self {
            ctx,
            key,
            anchor,
            pending,
            exported,
            in_flight: None,
            draft: Some(draft),
        }
    }

    /// True when the membership already matches.
    pub fn is_noop(&self) -> bool {
        self.pending.is_empty()
    }

    fn anchor_now(&self) -> Anchor {
        let mut members = self.exported.clone();
        members.sort();
        members.dedup();
        Anchor {
            members,
            ..self.anchor.clone()
        }
    }
}

impl Flow for MembersFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next {
        let ctx = self.ctx.clone();
        if let (Some((added, removed)), Some(reply)) = (self.in_flight.take(), reply) {
            match wire::interpret(OpKind::Update, reply) {
                Answer::Resource(..) | Answer::Empty => {
                    self.exported.retain(|id| !removed.contains(id));
                    self.exported.extend(added);
                }
                Answer::Failed(failure) => {
                    let mut draft = self
                        .draft
                        .take()
                        .unwrap_or_else(|| Draft::new(&self.key, "", "", Vec::new()));
                    let name = draft.name.clone();
                    let keep = vec![StateChange::PutAnchor(self.key.clone(), self.anchor_now())];
                    draft.step(
                        "EntryExportUpdate",
                        StepType::Export,
                        Status::Failure,
                        format!(
                            "Failed to update the members of Group '{name}' in {}",
                            ctx.target_name
                        ),
                    );
                    let mut next = failed(
                        &ctx,
                        draft,
                        "EntryExportUpdate",
                        String::new(),
                        failure.as_reference(),
                    );
                    if let Next::Done(outcome) = &mut next {
                        // What was already exported stays exported: keep it so a retry sends only the rest.
                        outcome.changes = keep;
                        if let Some(log) = outcome.log.as_mut() {
                            log.provisioning_steps.pop();
                        }
                    }
                    return next;
                }
            }
        }
        if let Some((request, added, removed)) =
            (!self.pending.is_empty()).then(|| self.pending.remove(0))
        {
            self.in_flight = Some((added, removed));
            return Next::Send(request);
        }
        let mut draft = self
            .draft
            .take()
            .unwrap_or_else(|| Draft::new(&self.key, "", "", Vec::new()));
        let name = draft.name.clone();
        draft.step(
            "EntryExportUpdate",
            StepType::Export,
            Status::Success,
            format!(
                "The members of Group '{name}' were updated in {}",
                ctx.target_name
            ),
        );
        done(
            draft.finish(&ctx, Status::Success, None),
            vec![StateChange::PutAnchor(self.key.clone(), self.anchor_now())],
        )
    }
}
