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
    state: ManagerState,
}

/// Where a [`ManagerFlow`] is. The entry's draft lives in the state that can still add to it.
#[derive(Debug)]
enum ManagerState {
    /// Not started: the draft holds the reference-resolution step.
    Start(Draft),
    /// The PATCH is out.
    Patching(Draft),
    /// The entry's outcome has been handed back.
    Finished,
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
            state: ManagerState::Start(draft),
        }
    }

    /// Sends the manager PATCH, keeping the draft until its reply.
    fn send(&mut self, draft: Draft) -> Next {
        self.state = ManagerState::Patching(draft);
        Next::Send(wire::manager_request(
            &self.anchor.target_id,
            self.manager_target_id.as_deref(),
            self.anchor.manager.as_deref(),
            self.ctx.mode,
        ))
    }

    /// The PATCH's reply: the manager is exported (and kept in the anchor), or the entry failed.
    fn patched(&self, mut draft: Draft, reply: Reply) -> Next {
        let ctx = &self.ctx;
        match wire::interpret_write(OpKind::Update, reply) {
            Answer::Resource(..) | Answer::Done(_) => {
                let name = draft.name.clone();
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
                    draft.finish(ctx, Status::Success, None),
                    vec![StateChange::PutAnchor(self.key.clone(), anchor)],
                )
            }
            Answer::Failed(failure) => {
                failed(ctx, draft, Attempt::UpdateManager, failure.as_reference())
            }
        }
    }
}

impl Flow for ManagerFlow {
    /// A step without the reply its PATCH waits for, or after the end, has nothing to do.
    fn step(&mut self, reply: Option<Reply>) -> Next {
        match (
            std::mem::replace(&mut self.state, ManagerState::Finished),
            reply,
        ) {
            (ManagerState::Start(draft), _) => self.send(draft),
            (ManagerState::Patching(draft), Some(reply)) => self.patched(draft, reply),
            (ManagerState::Patching(_), None) | (ManagerState::Finished, _) => {
                Next::Done(Box::default())
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
    /// The member PATCHes still to send, each with the ids it adds and removes.
    pending: VecDeque<(Request, Batch)>,
    /// What the server accepted so far.
    added: Vec<String>,
    removed: HashSet<String>,
    state: MembersState,
}

/// The ids one member PATCH adds and removes.
#[derive(Debug)]
struct Batch {
    added: Vec<String>,
    removed: Vec<String>,
}

/// Where a [`MembersFlow`] is. The entry's draft lives in the state that can still add to it.
#[derive(Debug)]
enum MembersState {
    /// Not started: the draft holds the reference-resolution step.
    Start(Draft),
    /// A member PATCH is out; its ids are kept once the server accepts it.
    Patching(Draft, Batch),
    /// The entry's outcome has been handed back.
    Finished,
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
        .into_iter()
        .map(|(request, added, removed)| (request, Batch { added, removed }))
        .collect();
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
            state: MembersState::Start(draft),
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

    /// Sends the next member PATCH, keeping the draft until its reply; with none left, the
    /// membership is exported.
    fn next_batch(&mut self, draft: Draft) -> Next {
        match self.pending.pop_front() {
            Some((request, batch)) => {
                self.state = MembersState::Patching(draft, batch);
                Next::Send(request)
            }
            None => self.updated(draft),
        }
    }

    /// A member PATCH's reply: its ids are kept and the next batch goes out, or the entry failed.
    fn patched(&mut self, draft: Draft, batch: Batch, reply: Reply) -> Next {
        match wire::interpret_write(OpKind::Update, reply) {
            Answer::Resource(..) | Answer::Done(_) => {
                self.removed.extend(batch.removed);
                self.added.extend(batch.added);
                self.next_batch(draft)
            }
            Answer::Failed(failure) => self.fail(draft, failure),
        }
    }

    /// The failed entry. What was already exported stays exported: the anchor keeps it, so a
    /// retry sends only the rest.
    fn fail(&self, draft: Draft, failure: wire::Failure) -> Next {
        let ctx = &self.ctx;
        let mut outcome =
            failure_outcome(ctx, draft, Attempt::UpdateMembers, failure.as_reference());
        outcome.changes = vec![StateChange::PutAnchor(self.key.clone(), self.anchor_now())];
        // The record's id has always counted one step more than the record shows.
        if let Some(log) = outcome.log.as_mut() {
            log.id = format!("{}-{}", ctx.change_id, log.provisioning_steps.len() + 1);
        }
        Next::Done(Box::new(outcome))
    }

    /// Every batch was accepted: the membership is exported.
    fn updated(&self, mut draft: Draft) -> Next {
        let name = draft.name.clone();
        draft.step(
            StepName::EntryExportUpdate,
            StepType::Export,
            Status::Success,
            format!(
                "The members of Group '{name}' were updated in {}",
                self.ctx.target_name
            ),
        );
        done(
            draft.finish(&self.ctx, Status::Success, None),
            vec![StateChange::PutAnchor(self.key.clone(), self.anchor_now())],
        )
    }
}

impl Flow for MembersFlow {
    /// A step without the reply its PATCH waits for, or after the end, has nothing to do.
    fn step(&mut self, reply: Option<Reply>) -> Next {
        match (
            std::mem::replace(&mut self.state, MembersState::Finished),
            reply,
        ) {
            (MembersState::Start(draft), _) => self.next_batch(draft),
            (MembersState::Patching(draft, batch), Some(reply)) => {
                self.patched(draft, batch, reply)
            }
            (MembersState::Patching(..), None) | (MembersState::Finished, _) => {
                Next::Done(Box::default())
            }
        }
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
    fn the_manager_patch_goes_out_once_and_its_success_keeps_the_manager() {
        let anchor = Anchor {
            target_id: "u1".into(),
            manager: None,
            members: Vec::new(),
        };
        let key = ObjectKey::user("U");
        let mut flow = ManagerFlow::new(ctx(1), key, "Alice", anchor, "m1".into(), "Bob");
        let Next::Send(request) = flow.step(None) else {
            panic!("the manager PATCH")
        };
        assert_eq!(request.path, "/Users/u1");
        let Next::Done(outcome) = flow.step(Some(ok())) else {
            panic!("the reply ends the entry")
        };
        assert!(!outcome.failed);
        match &outcome.changes[..] {
            [StateChange::PutAnchor(_, anchor)] => {
                assert_eq!(anchor.manager.as_deref(), Some("m1"))
            }
            other => panic!("{other:?}"),
        }
        let Next::Done(after) = flow.step(Some(ok())) else {
            panic!("nothing more to send")
        };
        assert!(after.log.is_none() && after.changes.is_empty());
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
