//! Reference exports, run after every object of the cycle has its target id (spec §1.2 step 6,
//! §2.3 manager, §2.4 members, §6.4): the manager link as a PATCH of the enterprise `manager`, and
//! group membership as member PATCHes whose values are the members' target ids. Entra never reads
//! members back, so what was last exported is kept in the anchor.

use std::collections::{HashSet, VecDeque};

use super::flows::{Attempt, Draft, EntryContext, done, failed, failure_outcome};
use super::wire::{self, Answer};
use super::{Anchor, Flow, Next, ObjectKey, Reply, Request, StateChange};
use crate::hash::{KeySet, Keyed};
use crate::provlog::{ModifiedProperty, ProvisioningAction, Status, StepName, StepType};
use crate::scim::OpKind;

/// Links a user to its manager (PATCH `urn:…:enterprise:2.0:User:manager` with the manager's
/// id), or clears the manager the target holds when the source user has none.
#[derive(Debug)]
pub struct ManagerFlow {
    ctx: EntryContext,
    key: ObjectKey,
    anchor: Anchor,
    /// The manager's target id; `None` clears the one in `anchor.manager`.
    manager_target_id: Option<String>,
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
        let text = format!(
            "Resolved the manager of User '{name}' to '{manager_name}' (id {manager_target_id} in {})",
            ctx.target_name
        );
        Self::with(ctx, key, name, anchor, Some(manager_target_id), text)
    }

    /// A flow clearing `key`'s manager (the one `anchor.manager` names): the source user has
    /// none. Logged as an update whose `manager` is newly empty, which is what Microsoft's
    /// validation (`User_Update_Manager_Test`, "remove manager") waits for.
    pub fn remove(ctx: EntryContext, key: ObjectKey, name: &str, anchor: Anchor) -> Self {
        let text = format!("User '{name}' has no manager in Azure Active Directory");
        Self::with(ctx, key, name, anchor, None, text)
    }

    fn with(
        ctx: EntryContext,
        key: ObjectKey,
        name: &str,
        anchor: Anchor,
        manager_target_id: Option<String>,
        resolution: String,
    ) -> Self {
        let mut draft = Draft::new(&key, name, &anchor.target_id, Vec::new());
        draft.step(
            StepName::EntryReferenceResolution,
            StepType::ReferenceResolution,
            Status::Success,
            resolution,
        );
        draft.props = vec![ModifiedProperty {
            display_name: wire::MANAGER_PATH.into(),
            old_value: anchor.manager.clone(),
            new_value: manager_target_id.clone(),
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
                self.manager_target_id.as_deref(),
                self.anchor.manager.as_deref(),
                self.ctx.mode,
            ));
        }
        // Without the reply its PATCH waits for, or after the end, there is nothing to do.
        let (Some(reply), Some(mut draft)) = (reply, self.draft.take()) else {
            return Next::Done(Box::default());
        };
        let ctx = self.ctx.clone();
        let name = draft.name.clone();
        match wire::interpret_write(OpKind::Update, reply) {
            Answer::Resource(..) | Answer::Done(_) => {
                draft.step(
                    StepName::EntryExportUpdate,
                    StepType::Export,
                    Status::Success,
                    format!(
                        "The manager of User '{name}' was updated in {}",
                        ctx.target_name
                    ),
                );
                let anchor = Anchor {
                    manager: self.manager_target_id.clone(),
                    ..self.anchor.clone()
                };
                done(
                    draft.finish(&ctx, Status::Success, None),
                    vec![StateChange::PutAnchor(self.key.clone(), anchor)],
                )
            }
            Answer::Failed(failure) => {
                failed(&ctx, draft, Attempt::UpdateManager, failure.as_reference())
            }
        }
    }
}

/// Brings a group's membership to the desired set: member PATCHes adding and removing target ids,
/// batched per the job's `member_batch_size`.
#[derive(Debug)]
pub struct MembersFlow {
    ctx: EntryContext,
    key: ObjectKey,
    /// The connection as last exported (its members sorted).
    anchor: Anchor,
    pending: VecDeque<(Request, Vec<String>, Vec<String>)>,
    /// What the server accepted so far.
    added: Vec<String>,
    removed: HashSet<String>,
    in_flight: Option<(Vec<String>, Vec<String>)>,
    draft: Option<Draft>,
}

impl MembersFlow {
    /// A flow moving `key`'s exported members (in `anchor`) to `desired` (target ids, in source
    /// order; one listed twice counts once).
    ///
    /// The log's `members` property holds what the export changes — `oldValue` the members
    /// removed, `newValue` the members added — not the whole lists: Entra logs exported values
    /// (§10), and a group's whole membership can be hundreds of thousands of ids.
    pub fn new<'d>(
        ctx: EntryContext,
        key: ObjectKey,
        name: &str,
        anchor: Anchor,
        desired: impl IntoIterator<Item = Keyed<'d>>,
    ) -> Self {
        // Hash sets, not scans: a group can have hundreds of thousands of members. They compare
        // the ids on a hash match (see `KeySet`), so a collision cannot hide a change.
        let exported: Vec<Keyed<'_>> = anchor.members.iter().map(|id| Keyed::new(id)).collect();
        let known: KeySet<'_> = exported.iter().copied().collect();
        let mut wanted = KeySet::with_capacity_and_hasher(known.len(), Default::default());
        let add: Vec<String> = desired
            .into_iter()
            .filter(|id| wanted.insert(*id) && !known.contains(id))
            .map(|id| id.text.to_owned())
            .collect();
        let remove: Vec<String> = exported
            .iter()
            .filter(|id| !wanted.contains(*id))
            .map(|id| id.text.to_owned())
            .collect();
        let pending = wire::member_requests(
            &anchor.target_id,
            &add,
            &remove,
            ctx.mode,
            ctx.member_batch_size,
        )
        .into();
        let mut draft = Draft::new(&key, name, &anchor.target_id, Vec::new());
        draft.step(
            StepName::EntryReferenceResolution,
            StepType::ReferenceResolution,
            Status::Success,
            format!(
                "Resolved {} member(s) to add and {} to remove for Group '{name}'",
                add.len(),
                remove.len()
            ),
        );
        let listed = |ids: &[String]| (!ids.is_empty()).then(|| ids.join(","));
        draft.props = vec![ModifiedProperty {
            display_name: "members".into(),
            old_value: listed(&remove),
            new_value: listed(&add),
        }];
        draft.action = ProvisioningAction::Update;
        Self {
            ctx,
            key,
            anchor,
            pending,
            added: Vec::new(),
            removed: HashSet::new(),
            in_flight: None,
            draft: Some(draft),
        }
    }

    /// True when the membership already matches.
    pub fn is_noop(&self) -> bool {
        self.pending.is_empty()
    }

    /// The connection with what the server accepted so far, its members sorted.
    fn anchor_now(&self) -> Anchor {
        let mut members: Vec<String> = self
            .anchor
            .members
            .iter()
            .filter(|id| !self.removed.contains(*id))
            .chain(&self.added)
            .cloned()
            .collect();
        members.sort_unstable();
        members.dedup();
        Anchor {
            target_id: self.anchor.target_id.clone(),
            manager: self.anchor.manager.clone(),
            members,
        }
    }
}

impl Flow for MembersFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next {
        let ctx = self.ctx.clone();
        if let (Some((added, removed)), Some(reply)) = (self.in_flight.take(), reply) {
            match wire::interpret_write(OpKind::Update, reply) {
                Answer::Resource(..) | Answer::Done(_) => {
                    self.removed.extend(removed);
                    self.added.extend(added);
                }
                Answer::Failed(failure) => {
                    let Some(draft) = self.draft.take() else {
                        return Next::Done(Box::default());
                    };
                    let mut outcome = failure_outcome(
                        &ctx,
                        draft,
                        Attempt::UpdateMembers,
                        failure.as_reference(),
                    );
                    // What was already exported stays exported: keep it so a retry sends only the rest.
                    outcome.changes =
                        vec![StateChange::PutAnchor(self.key.clone(), self.anchor_now())];
                    // The record's id has always counted one step more than the record shows.
                    if let Some(log) = outcome.log.as_mut() {
                        log.id = format!("{}-{}", ctx.change_id, log.provisioning_steps.len() + 1);
                    }
                    return Next::Done(Box::new(outcome));
                }
            }
        }
        if let Some((request, added, removed)) = self.pending.pop_front() {
            self.in_flight = Some((added, removed));
            return Next::Send(request);
        }
        let Some(mut draft) = self.draft.take() else {
            return Next::Done(Box::default());
        };
        let name = draft.name.clone();
        draft.step(
            StepName::EntryExportUpdate,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::{CreateSettings, ScimMode};

    fn ctx(batch: usize) -> EntryContext {
        EntryContext {
            job_id: "job".into(),
            cycle_id: "cycle".into(),
            change_id: "change".into(),
            now: chrono::DateTime::UNIX_EPOCH,
            mode: ScimMode::Default,
            target_name: "Target".into(),
            app: Default::default(),
            delete_not_found_is_success: true,
            member_batch_size: batch,
            create_settings: CreateSettings::default().into(),
        }
    }

    fn ok() -> Reply {
        Reply::Http {
            status: 204,
            retry_after: None,
            body: Vec::new(),
        }
    }

    #[test]
    fn members_move_to_the_desired_set_and_the_log_holds_what_changed() {
        let anchor = Anchor {
            target_id: "g1".into(),
            manager: None,
            members: vec!["a".into(), "b".into(), "c".into()],
        };
        // Source order, one member listed twice.
        let desired = ["d", "c", "d", "a", "e"].map(Keyed::new);
        let mut flow = MembersFlow::new(ctx(1), ObjectKey::group("G"), "Staff", anchor, desired);
        let mut bodies = Vec::new();
        let mut reply = None;
        let outcome = loop {
            match flow.step(reply.take()) {
                Next::Send(request) => {
                    assert_eq!(request.path, "/Groups/g1");
                    bodies.push(request.body.expect("a PATCH body").to_string());
                    reply = Some(ok());
                }
                Next::Done(outcome) => break outcome,
            }
        };
        // One member a PATCH (batch size 1): adds in source order, then the removal.
        assert_eq!(bodies.len(), 3, "{bodies:?}");
        assert!(bodies[0].contains(r#""value":"d""#) && bodies[0].contains("Add"));
        assert!(bodies[1].contains(r#""value":"e""#) && bodies[1].contains("Add"));
        assert!(bodies[2].contains(r#""value":"b""#) && bodies[2].contains("Remove"));
        let log = outcome.log.expect("a log record");
        let members = &log.modified_properties[0];
        assert_eq!(members.display_name, "members");
        assert_eq!(members.old_value.as_deref(), Some("b"), "removed");
        assert_eq!(members.new_value.as_deref(), Some("d,e"), "added");
        match &outcome.changes[..] {
            [StateChange::PutAnchor(_, anchor)] => {
                assert_eq!(anchor.members, ["a", "c", "d", "e"]);
            }
            other => panic!("{other:?}"),
        }
    }

    /// Issue 19, item 5: member ids were compared by their hashes alone, so a desired id whose
    /// hash equalled an exported one's was taken for it — neither added nor removed. The
    /// collision is forced: `b` is given the key of `a`.
    #[test]
    fn ids_that_share_a_hash_are_still_told_apart() {
        let anchor = Anchor {
            target_id: "g1".into(),
            manager: None,
            members: vec!["a".into()],
        };
        let b = Keyed {
            key: Keyed::new("a").key,
            text: "b",
        };
        let mut flow = MembersFlow::new(ctx(1), ObjectKey::group("G"), "Staff", anchor, [b]);
        assert!(!flow.is_noop(), "a change that a shared hash hid");
        let Next::Send(add) = flow.step(None) else {
            panic!("an add")
        };
        let add = add.body.expect("a PATCH body").to_string();
        assert!(
            add.contains(r#""value":"b""#) && add.contains("Add"),
            "{add}"
        );
        let Next::Send(remove) = flow.step(Some(ok())) else {
            panic!("a removal")
        };
        let remove = remove.body.expect("a PATCH body").to_string();
        assert!(
            remove.contains(r#""value":"a""#) && remove.contains("Remove"),
            "{remove}"
        );
    }

    #[test]
    fn a_failed_batch_keeps_what_was_exported_before_it() {
        let anchor = Anchor {
            target_id: "g1".into(),
            manager: None,
            members: vec!["a".into()],
        };
        let desired = ["b", "c"].map(Keyed::new);
        let mut flow = MembersFlow::new(ctx(1), ObjectKey::group("G"), "Staff", anchor, desired);
        assert!(matches!(flow.step(None), Next::Send(_)));
        assert!(matches!(flow.step(Some(ok())), Next::Send(_)));
        let failure = Reply::Http {
            status: 500,
            retry_after: None,
            body: Vec::new(),
        };
        let Next::Done(outcome) = flow.step(Some(failure)) else {
            panic!("a failed PATCH ends the entry");
        };
        assert!(outcome.failed);
        match &outcome.changes[..] {
            [StateChange::PutAnchor(_, anchor)] => assert_eq!(anchor.members, ["a", "b"]),
            other => panic!("{other:?}"),
        }
    }
}
