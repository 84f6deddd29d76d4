//! The cycle's work, before any request: the connections of the objects it looks at, which
//! objects need what ([`classify_objects`]), and what is held back — escrowed objects until their
//! retry time (§9), deletes and disables beyond the accidental-deletion threshold (§4.4).

use std::collections::BTreeMap;

use super::{CycleEnv, CycleError};
use crate::directory::{MemberKind, MemberRef};
use crate::plan::{
    Anchors, CycleInputs, CycleKind, CyclePlan, CycleRules, ObjectKey, ObjectKind, SourceObject,
    Work, classify_objects,
};
use crate::policy::{DeletionDecision, Escrows, JobState, PendingDeletes, deletion_guard};

/// The connections of the objects a cycle looks at.
pub(super) struct Connections {
    /// Each object's anchor: its target id and what the cycle knows of it.
    pub anchors: Anchors,
    /// Fingerprints as of each object's last completed change.
    pub watermarks: BTreeMap<ObjectKey, String>,
}

/// Reads the connections a cycle needs. A directory read by line-level deltas holds only what
/// changed since the last clean cycle: the other objects' watermarks still match, so only the
/// read objects' state is read, and what the source no longer has comes from the index instead
/// of from every connection. A read object's manager or members are read objects (their state
/// read here) or unread users (not processed since the index was written: the cycle takes
/// theirs from it).
pub(super) fn read_connections(
    env: &CycleEnv<'_>,
    kind: CycleKind,
    objects: &[SourceObject],
) -> Result<Connections, CycleError> {
    let (store, directory) = (env.store, &env.job.directory);
    if !directory.is_partial() {
        return Ok(Connections {
            anchors: store.anchors()?.into_iter().collect(),
            watermarks: store.watermarks()?.into_iter().collect(),
        });
    }
    if kind == CycleKind::Initial {
        return Err(CycleError::PartialInitial);
    }
    let gone: Vec<ObjectKey> = directory.gone().iter().map(object_key).collect();
    let keys = || objects.iter().map(|o| &o.key).chain(&gone);
    Ok(Connections {
        anchors: store.anchors_of(keys())?.into_iter().collect(),
        watermarks: store.watermarks_of(keys())?.into_iter().collect(),
    })
}

/// What a cycle's phases do.
pub(super) struct Worklist {
    /// Users, groups and deprovisioning to drive.
    pub plan: CyclePlan,
    /// Deletes and disables the accidental-deletion guard held back: only logged.
    pub staged: Vec<Work>,
}

impl Worklist {
    /// The objects with work, staged ones included (`countImportedDeltas`).
    pub fn len(&self) -> usize {
        self.plan.users.len()
            + self.plan.groups.len()
            + self.plan.deprovision.len()
            + self.staged.len()
    }

    /// Every object with work, staged ones included.
    pub fn keys(&self) -> impl Iterator<Item = &ObjectKey> {
        let plan = &self.plan;
        plan.users
            .iter()
            .chain(plan.groups.iter())
            .chain(plan.deprovision.iter())
            .chain(self.staged.iter())
            .map(work_key)
    }
}

/// Decides what each object needs, then holds back what must wait.
pub(super) fn classify(
    env: &CycleEnv<'_>,
    kind: CycleKind,
    objects: &[SourceObject],
    connections: &Connections,
    escrows: &Escrows,
    state: &JobState,
    began: chrono::DateTime<chrono::Utc>,
) -> Worklist {
    let delete_groups = env
        .compiled
        .groups
        .as_ref()
        .is_some_and(|g| g.actions.delete);
    let rules = CycleRules {
        skip_out_of_scope_deletions: env.job.settings.skip_out_of_scope_deletions,
        delete_users: env.compiled.users.actions.delete,
        delete_groups,
    };
    let mut plan = classify_objects(&CycleInputs {
        kind,
        objects,
        anchors: &connections.anchors,
        watermarks: &connections.watermarks,
        rules,
    });
    defer_escrowed(&mut plan, escrows, began);
    let staged = hold_back_deletions(&mut plan, env, state);
    Worklist { plan, staged }
}

/// Escrowed objects wait for their retry time (§9).
fn defer_escrowed(plan: &mut CyclePlan, escrows: &Escrows, began: chrono::DateTime<chrono::Utc>) {
    for works in [&mut plan.users, &mut plan.groups, &mut plan.deprovision] {
        works.retain(|w| escrows.may_process(&work_key(w).to_string(), began));
    }
}

/// The accidental-deletion guard (§4.4) holds back every delete and disable above the
/// threshold: they are taken out of the plan and returned.
fn hold_back_deletions(plan: &mut CyclePlan, env: &CycleEnv<'_>, state: &JobState) -> Vec<Work> {
    let pending = PendingDeletes {
        user_deletes: count(
            &plan.deprovision,
            |w| matches!(w, Work::Delete(k, _) if k.kind == ObjectKind::User),
        ),
        user_disables: count(&plan.deprovision, |w| matches!(w, Work::Disable(..))),
        group_deletes: count(
            &plan.deprovision,
            |w| matches!(w, Work::Delete(k, _) if k.kind == ObjectKind::Group),
        ),
    };
    let threshold = env.job.settings.deletion_threshold;
    match deletion_guard(threshold, &pending, state.force_deletes) {
        DeletionDecision::Allow => Vec::new(),
        DeletionDecision::Stage { .. } => {
            let (staged, kept): (Vec<Work>, Vec<Work>) = plan
                .deprovision
                .drain(..)
                .partition(|w| matches!(w, Work::Disable(..) | Work::Delete(..)));
            plan.deprovision = kept;
            staged
        }
    }
}

/// The object a piece of work is about.
pub(super) fn work_key(work: &Work) -> &ObjectKey {
    match work {
        Work::Reconcile(k)
        | Work::Disable(k, _)
        | Work::Delete(k, _)
        | Work::Skip(k, _)
        | Work::Forget(k) => k,
    }
}

fn count(works: &[Work], wanted: impl Fn(&Work) -> bool) -> u32 {
    u32::try_from(works.iter().filter(|w| wanted(w)).count()).unwrap_or(u32::MAX)
}

/// The connection key of a source object.
fn object_key(object: &MemberRef) -> ObjectKey {
    match object.kind {
        MemberKind::User => ObjectKey::user(&object.object_id),
        MemberKind::Group => ObjectKey::group(&object.object_id),
    }
}

/// The source object of a connection key.
pub(super) fn member_ref(key: &ObjectKey) -> MemberRef {
    MemberRef {
        object_id: key.object_id.clone(),
        kind: match key.kind {
            ObjectKind::User => MemberKind::User,
            ObjectKind::Group => MemberKind::Group,
        },
    }
}
