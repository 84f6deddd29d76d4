//! What a cycle has to do (spec §1.2–§1.3): given every source object (already scoped and mapped)
//! and what the store remembers (connections, watermarks), decide which objects to reconcile, which
//! to disable, delete or log as skipped — only changed ones in an incremental cycle — and, once
//! users and groups have their target ids, which references to export.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::flows::ObjectSpec;
use super::{Anchor, Anchors, ObjectKey, ObjectKind};
use crate::provlog::{SkipReason, Step};

/// Initial (everything evaluated) or incremental (only changes since the watermark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CycleKind {
    /// The first cycle, or the first after a restart or a mapping/scoping change.
    Initial,
    /// Every later cycle.
    Incremental,
}

/// One source object as the cycle sees it: scoped, mapped and fingerprinted.
#[derive(Debug, Clone)]
pub struct SourceObject {
    /// Its identity.
    pub key: ObjectKey,
    /// UPN (users) or displayName (groups), for logs.
    pub name: String,
    /// Changes whenever anything that could change what Entra sends changes.
    pub fingerprint: String,
    /// Assigned (or sync-all) and passing the scoping filters.
    pub in_scope: bool,
    /// Why it is out of scope (`NotEffectivelyEntitled`, `ScopingFilterNotMatched`, …).
    pub out_of_scope_reason: Option<SkipReason>,
    /// What the mappings want in the target.
    pub spec: ObjectSpec,
    /// The manager's objectId (users).
    pub manager: Option<String>,
    /// Direct members (groups).
    pub members: Vec<ObjectKey>,
    /// The import and scoping steps, for the log.
    pub steps: Vec<Step>,
    /// Why the mappings could not be evaluated for this object (an expression failed).
    pub error: Option<String>,
}

/// What to do with one object this cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Match or read, then create or update (a `UserFlow`/`GroupFlow`).
    Reconcile(ObjectKey),
    /// Disable a connected user that left scope.
    Disable(ObjectKey, Anchor),
    /// Delete a connected object (hard-deleted user; group out of scope or deleted).
    Delete(ObjectKey, Anchor),
    /// Log as skipped with this reason; no request.
    Skip(ObjectKey, SkipReason),
    /// Remember the object's new fingerprint without doing anything (unmanaged, out of scope).
    Forget(ObjectKey),
}

/// The settings the classification depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct CycleRules {
    /// `SkipOutOfScopeDeletions`: users leaving scope are not disabled.
    pub skip_out_of_scope_deletions: bool,
    /// The Delete target action of the users mapping is enabled.
    pub delete_users: bool,
    /// The Delete target action of the groups mapping is enabled.
    pub delete_groups: bool,
}

/// The inputs of [`classify_objects`].
#[derive(Debug)]
pub struct CycleInputs<'a> {
    /// Initial or incremental.
    pub kind: CycleKind,
    /// Every source object, users first.
    pub objects: &'a [SourceObject],
    /// Connections.
    pub anchors: &'a Anchors,
    /// Fingerprints as of each object's last completed change.
    pub watermarks: &'a BTreeMap<ObjectKey, String>,
    /// The rules.
    pub rules: CycleRules,
}

/// The work of a cycle, in Entra's order: users, groups, (references), deprovisioning.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CyclePlan {
    /// Users to reconcile (and out-of-scope users to log or forget).
    pub users: Vec<Work>,
    /// Groups to reconcile.
    pub groups: Vec<Work>,
    /// Disables and deletes, after references.
    pub deprovision: Vec<Work>,
}

/// Decides what each object needs this cycle.
pub fn classify_objects(inputs: &CycleInputs<'_>) -> CyclePlan {
    let mut plan = CyclePlan::default();
    let mut seen = HashSet::with_capacity(inputs.objects.len());
    for object in inputs.objects {
        seen.insert(&object.key);
        let changed = inputs.kind == CycleKind::Initial
            || inputs.watermarks.get(&object.key) != Some(&object.fingerprint);
        if !changed {
            continue;
        }
        let anchor = inputs.anchors.get(&object.key);
        let work = match (object.in_scope, anchor, object.key.kind) {
            (true, _, _) => Work::Reconcile(object.key.clone()),
            (false, Some(anchor), ObjectKind::User)
                if !inputs.rules.skip_out_of_scope_deletions =>
            {
                Work::Disable(object.key.clone(), anchor.clone())
            }
            (false, Some(anchor), ObjectKind::Group) if inputs.rules.delete_groups => {
                Work::Delete(object.key.clone(), anchor.clone())
            }
            (false, Some(_), _) => {
                Work::Skip(object.key.clone(), SkipReason::SkipOutOfScopeDeletions)
            }
            (false, None, _)
                if inputs.watermarks.contains_key(&object.key)
                    || inputs.kind == CycleKind::Initial =>
            {
                match object.out_of_scope_reason {
                    Some(reason) if reason != SkipReason::NotEffectivelyEntitled => {
                        Work::Skip(object.key.clone(), reason)
                    }
                    _ => Work::Forget(object.key.clone()),
                }
            }
            (false, None, _) => Work::Forget(object.key.clone()),
        };
        match (&work, object.key.kind) {
            (Work::Disable(..) | Work::Delete(..), _) => plan.deprovision.push(work),
            (_, ObjectKind::User) => plan.users.push(work),
            (_, ObjectKind::Group) => plan.groups.push(work),
        }
    }
    // Objects Entra remembers that are gone from the source: hard-deleted.
    let gone: BTreeSet<&ObjectKey> = inputs
        .anchors
        .keys()
        .chain(inputs.watermarks.keys())
        .filter(|k| !seen.contains(*k))
        .collect();
    for key in gone {
        let delete_allowed = match key.kind {
            ObjectKind::User => inputs.rules.delete_users,
            ObjectKind::Group => inputs.rules.delete_groups,
        };
        match inputs.anchors.get(key) {
            Some(anchor) if delete_allowed => plan
                .deprovision
                .push(Work::Delete(key.clone(), anchor.clone())),
            Some(_) => plan
                .deprovision
                .push(Work::Skip(key.clone(), SkipReason::TargetActionNotEnabled)),
            None => plan.deprovision.push(Work::Forget(key.clone())),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source user as the cycle classifier sees it.
    struct User<'a> {
        id: &'a str,
        in_scope: bool,
        fingerprint: &'a str,
    }

    fn user(user: User) -> SourceObject {
        let User {
            id,
            in_scope,
            fingerprint,
        } = user;
        SourceObject {
            key: ObjectKey::user(id),
            name: id.to_string(),
            fingerprint: fingerprint.to_string(),
            in_scope,
            out_of_scope_reason: (!in_scope).then_some(SkipReason::NotEffectivelyEntitled),
            spec: ObjectSpec::default(),
            manager: None,
            members: Vec::new(),
            steps: Vec::new(),
            error: None,
        }
    }

    fn rules() -> CycleRules {
        CycleRules {
            skip_out_of_scope_deletions: false,
            delete_users: true,
            delete_groups: true,
        }
    }

    #[test]
    fn incremental_cycles_touch_only_changed_objects() {
        let objects = vec![
            user(User {
                id: "a",
                in_scope: true,
                fingerprint: "1",
            }),
            user(User {
                id: "b",
                in_scope: true,
                fingerprint: "2",
            }),
        ];
        let watermarks = BTreeMap::from([
            (ObjectKey::user("a"), "1".to_string()),
            (ObjectKey::user("b"), "old".to_string()),
        ]);
        let anchors = Anchors::new();
        let plan = classify_objects(&CycleInputs {
            kind: CycleKind::Incremental,
            objects: &objects,
            anchors: &anchors,
            watermarks: &watermarks,
            rules: rules(),
        });
        assert_eq!(plan.users, vec![Work::Reconcile(ObjectKey::user("b"))]);
        let plan = classify_objects(&CycleInputs {
            kind: CycleKind::Initial,
            objects: &objects,
            anchors: &anchors,
            watermarks: &watermarks,
            rules: rules(),
        });
        assert_eq!(plan.users.len(), 2);
    }

    #[test]
    fn scope_out_disables_and_hard_delete_deletes() {
        let anchor = Anchor {
            target_id: "t1".into(),
            ..Anchor::default()
        };
        let objects = vec![user(User {
            id: "a",
            in_scope: false,
            fingerprint: "2",
        })];
        let anchors = Anchors::from([
            (ObjectKey::user("a"), anchor.clone()),
            (ObjectKey::user("gone"), anchor.clone()),
        ]);
        let watermarks = BTreeMap::from([(ObjectKey::user("a"), "1".to_string())]);
        let plan = classify_objects(&CycleInputs {
            kind: CycleKind::Incremental,
            objects: &objects,
            anchors: &anchors,
            watermarks: &watermarks,
            rules: rules(),
        });
        assert_eq!(
            plan.deprovision,
            vec![
                Work::Disable(ObjectKey::user("a"), anchor.clone()),
                Work::Delete(ObjectKey::user("gone"), anchor.clone())
            ]
        );
        let skip = CycleRules {
            skip_out_of_scope_deletions: true,
            ..rules()
        };
        let plan = classify_objects(&CycleInputs {
            kind: CycleKind::Incremental,
            objects: &objects,
            anchors: &anchors,
            watermarks: &watermarks,
            rules: skip,
        });
        assert_eq!(
            plan.users,
            vec![Work::Skip(
                ObjectKey::user("a"),
                SkipReason::SkipOutOfScopeDeletions
            )]
        );
    }
}
