//! Turning one piece of a phase's work into what drives it: a flow of the planner, an outcome
//! decided without a request (a mapping that does not evaluate), or nothing to do.

use std::collections::HashMap;

use super::drive::Cycle;
use crate::directory::Directory;
use crate::hash::Keyed;
use crate::plan::{
    Anchors, DeleteFlow, DisableFlow, EntryOutcome, Flow, GroupFlow, ManagerFlow, MembersFlow,
    ObjectKey, ObjectKind, SkipFlow, SourceObject, UserFlow, Work, evaluation_failure,
};

use super::classify::work_key;

/// One unit of a phase.
#[derive(Clone, Copy)]
pub(super) enum Item<'w> {
    /// Reconcile, disable, delete, skip or forget an object.
    Work(&'w Work),
    /// Export the references of a reconciled object.
    Reference(&'w ObjectKey),
    /// Log a delete or disable held back by the accidental-deletion guard.
    Staged(&'w Work),
}

/// What [`Cycle::prepare`] decided.
pub(super) enum Prepared {
    /// Nothing to do.
    Nothing,
    /// An outcome decided without a request.
    Done(ObjectKey, Box<EntryOutcome>),
    /// A flow to drive.
    Flow(ObjectKey, Box<dyn Flow + Send>),
}

impl Cycle<'_, '_> {
    /// Turns one piece of work into a flow to drive, an outcome decided without a request, or nothing.
    pub fn prepare(
        &mut self,
        item: Item<'_>,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Prepared {
        match item {
            Item::Work(work) => self.prepare_work(work, objects),
            Item::Reference(key) => self.prepare_reference(key, objects),
            Item::Staged(work) => {
                let key = work_key(work);
                let (name, steps) = self.named(key, objects);
                let text = "The delete or disable is held back: this cycle's deletions exceed the accidental-deletion threshold. Allow deletes with `entra-sim restart --scope ForceDeletes`.".to_string();
                let flow = SkipFlow::new(
                    self.context(),
                    key,
                    &name,
                    steps,
                    crate::provlog::SkipReason::StagedDelete,
                    text,
                    Vec::new(),
                )
                .staged();
                Prepared::Flow(key.clone(), Box::new(flow))
            }
        }
    }

    fn prepare_work(
        &mut self,
        work: &Work,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Prepared {
        match work {
            Work::Reconcile(key) => {
                let Some(obj) = objects.get(key).copied() else {
                    return Prepared::Nothing;
                };
                let details = self.details(obj);
                let ctx = self.context();
                if let Some(error) = details.error {
                    let outcome = evaluation_failure(&ctx, key, &obj.name, details.steps, error);
                    return Prepared::Done(key.clone(), Box::new(outcome));
                }
                let anchor = self.anchors.get(key).cloned();
                let flow: GroupFlow = UserFlow::new(
                    ctx,
                    key.clone(),
                    &obj.name,
                    details.spec,
                    anchor,
                    details.steps,
                );
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Disable(key, anchor) => {
                let (name, steps) = self.named(key, objects);
                let flow =
                    DisableFlow::new(self.context(), key.clone(), &name, anchor.clone(), steps);
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Delete(key, anchor) => {
                let (name, steps) = self.named(key, objects);
                let flow =
                    DeleteFlow::new(self.context(), key.clone(), &name, anchor.clone(), steps);
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Skip(key, reason) => {
                let (name, steps) = self.named(key, objects);
                let text = match reason {
                    crate::provlog::SkipReason::SkipOutOfScopeDeletions => "The object left scope and SkipOutOfScopeDeletions is set, so it is not disabled.".to_string(),
                    crate::provlog::SkipReason::ScopingFilterNotMatched => "The object does not pass the scoping filters.".to_string(),
                    crate::provlog::SkipReason::TargetActionNotEnabled => "The object was deleted in the source but the Delete target action is disabled.".to_string(),
                    other => format!("The object is out of scope ({other})."),
                };
                let flow =
                    SkipFlow::new(self.context(), key, &name, steps, *reason, text, Vec::new());
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Forget(_) => Prepared::Nothing,
        }
    }

    /// The target id of an object's connection, with its hash: for a user whose line was not
    /// read (not processed since the last clean cycle, so without an anchor read this cycle),
    /// the one the source index kept; otherwise the cycle's.
    fn target_of(&self, key: &ObjectKey) -> Option<Keyed<'_>> {
        target_in(&self.env.job.directory, &self.anchors, key)
    }

    /// The manager or member export of a reconciled object, when its references changed.
    fn prepare_reference(
        &mut self,
        key: &ObjectKey,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Prepared {
        if self.failed.contains(key) {
            return Prepared::Nothing;
        }
        let (Some(obj), Some(anchor)) = (objects.get(key), self.anchors.get(key).cloned()) else {
            return Prepared::Nothing;
        };
        match key.kind {
            ObjectKind::User => {
                let Some(manager) = &obj.manager else {
                    // No manager in the source: clear the one the target holds (the only
                    // reference Entra clears; other attributes never flow nulls).
                    if !self.env.compiled.users.links_manager || anchor.manager.is_none() {
                        return Prepared::Nothing;
                    }
                    let flow = ManagerFlow::remove(self.context(), key.clone(), &obj.name, anchor);
                    return Prepared::Flow(key.clone(), Box::new(flow));
                };
                let manager_key = ObjectKey::user(manager);
                let Some(Keyed {
                    text: manager_id, ..
                }) = self.target_of(&manager_key)
                else {
                    return Prepared::Nothing;
                };
                if anchor.manager.as_deref() == Some(manager_id) {
                    return Prepared::Nothing;
                }
                let manager_id = manager_id.to_owned();
                let manager_name = objects
                    .get(&manager_key)
                    .map(|o| o.name.as_str())
                    .or_else(|| self.env.job.directory.user_name(manager))
                    .unwrap_or_default()
                    .to_owned();
                let flow = ManagerFlow::new(
                    self.context(),
                    key.clone(),
                    &obj.name,
                    anchor,
                    manager_id,
                    &manager_name,
                );
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            ObjectKind::Group => {
                let ctx = self.context();
                // Each lookup is a few cache misses in tables of every user; a large group's
                // members are looked up on both cores.
                let (directory, anchors) = (&self.env.job.directory, &self.anchors);
                let members: Vec<&ObjectKey> = obj.members.iter().collect();
                let desired =
                    crate::directory::par::map(members, |m| target_in(directory, anchors, m));
                let desired = desired.into_iter().flatten();
                let flow = MembersFlow::new(ctx, key.clone(), &obj.name, anchor, desired);
                if flow.is_noop() {
                    return Prepared::Nothing;
                }
                Prepared::Flow(key.clone(), Box::new(flow))
            }
        }
    }
}

/// The target id of an object's connection, with its hash ([`Cycle::target_of`]): for an unread
/// user, the one the source index kept; otherwise the cycle's.
fn target_in<'c>(
    directory: &'c Directory,
    anchors: &'c Anchors,
    key: &ObjectKey,
) -> Option<Keyed<'c>> {
    if key.kind == ObjectKind::User
        && let Some(ghost) = directory.ghost_target(&key.object_id)
    {
        return ghost;
    }
    anchors.get(key).map(|a| Keyed::new(&a.target_id))
}
