//! App assignments (§1.5): a user is assigned when assigned directly or when a **direct** member of
//! an assigned group; members of nested groups are not. Under "sync all" everyone counts as
//! assigned, but roles still come only from assignments.
//!
//! Every assignment grants a role: an assignment that names none grants the built-in "User" role,
//! as Entra gives every enterprise app roles nobody declared ([`built_in_roles`]).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::directory::{Directory, MemberKind, MemberRef};
use crate::expr::AppRole;
use crate::hash::{self, Prehashed};

/// The job's scope setting (Graph secret `SyncAll`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeMode {
    /// "Sync only assigned users and groups" (the default).
    #[default]
    Assigned,
    /// "Sync all users and groups".
    All,
}

/// The value of the role an assignment that names none grants.
pub const DEFAULT_ROLE: &str = "User";

/// The roles every enterprise app has without declaring them, as Entra shows them:
/// - "User" (`18d14569-…`) and "msiam_access" (`b9632174-…`): a new non-gallery service
///   principal carries both (Graph docs, "Configure Application Proxy using the Microsoft Graph
///   API", learn.microsoft.com/graph/application-proxy-configure-api). Graph gives both a null
///   `value`; what flows is the display name, as Graph's `provisionOnDemand` example shows a
///   role-less assigned user's `appRoleAssignments` as "User"
///   (synchronization-synchronizationjob-provisionondemand.md), so `value` = `display_name` here.
/// - "Default Access" (`00000000-…`): the role the portal shows for an app that defines none
///   (MicrosoftDocs/entra-docs, assign-user-or-group-access-portal.md).
///
/// The spec (§1.5) has "Default Access" assignments evaluated like any other role. A role the
/// job declares with the same value takes precedence.
pub fn built_in_roles() -> [AppRole; 3] {
    let role = |id: &str, name: &str| AppRole {
        id: id.to_owned(),
        value: name.to_owned(),
        display_name: name.to_owned(),
    };
    [
        role("18d14569-c3bd-439b-9a66-3a2aee01d14f", DEFAULT_ROLE),
        role("b9632174-c057-4f7e-951b-be3adc52bfe6", "msiam_access"),
        role("00000000-0000-0000-0000-000000000000", "Default Access"),
    ]
}

/// One app assignment from the job file, with its principal resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAssignment {
    /// The assigned user or group.
    pub principal: MemberRef,
    /// The app role granted ([`DEFAULT_ROLE`] when the job file names none).
    pub role: AppRole,
}

/// Whether an object is assigned to the app, and with which roles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    /// Assigned (or scope is "all").
    pub assigned: bool,
    /// The user's `appRoleAssignments`: direct roles and roles of assigned groups it is a direct
    /// member of, deduplicated, in job-file order.
    pub roles: Vec<AppRole>,
}

/// Assignments precomputed per objectId so each lookup is O(1) however big the groups are;
/// objectIds are known by their 128-bit [`hash::of`] (a million users' ids are not copied).
#[derive(Debug, Clone, Default)]
pub struct AssignmentIndex {
    users: Grants,
    groups: Grants,
}

type Grants = HashMap<u128, Assignment, BuildHasherDefault<Prehashed>>;

fn key(object_id: &str) -> u128 {
    hash::of(object_id.as_bytes())
}

impl AssignmentIndex {
    /// Expands group assignments to the groups' direct user members (one level, never nested).
    pub fn new(assignments: &[AppAssignment], directory: &Directory) -> AssignmentIndex {
        let mut index = AssignmentIndex::default();
        let members: usize = assignments
            .iter()
            .filter(|a| a.principal.kind == MemberKind::Group)
            .filter_map(|a| directory.group(&a.principal.object_id))
            .map(|g| g.members.len())
            .sum();
        index.users.reserve(members);
        for assignment in assignments {
            let id = &assignment.principal.object_id;
            match assignment.principal.kind {
                MemberKind::User => grant(&mut index.users, id, &assignment.role),
                MemberKind::Group => {
                    grant(&mut index.groups, id, &assignment.role);
                    let members = directory
                        .group(id)
                        .map(|g| g.members.as_slice())
                        .unwrap_or_default();
                    for member in members.iter().filter(|m| m.kind == MemberKind::User) {
                        grant(&mut index.users, &member.object_id, &assignment.role);
                    }
                }
            }
        }
        index
    }

    /// The user's assignment under `mode`.
    pub fn user(&self, object_id: &str, mode: ScopeMode) -> Assignment {
        lookup(&self.users, object_id, mode)
    }

    /// The user's assignment under `mode` as (assigned, roles), without copying it.
    pub fn user_parts(&self, object_id: &str, mode: ScopeMode) -> (bool, &[AppRole]) {
        match self.users.get(&key(object_id)) {
            Some(found) => (found.assigned || mode == ScopeMode::All, &found.roles),
            None => (mode == ScopeMode::All, &[]),
        }
    }

    /// The group's assignment under `mode` (a group is assigned only directly).
    pub fn group(&self, object_id: &str, mode: ScopeMode) -> Assignment {
        lookup(&self.groups, object_id, mode)
    }
}

fn grant(map: &mut Grants, object_id: &str, role: &AppRole) {
    let entry = map.entry(key(object_id)).or_default();
    entry.assigned = true;
    if !entry.roles.contains(role) {
        entry.roles.push(role.clone());
    }
}

fn lookup(map: &Grants, object_id: &str, mode: ScopeMode) -> Assignment {
    let mut found = map.get(&key(object_id)).cloned().unwrap_or_default();
    if mode == ScopeMode::All {
        found.assigned = true;
    }
    found
}
