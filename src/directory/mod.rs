//! The source directory (the Entra tenant the simulator provisions from): users and groups with
//! their Graph attributes, loaded from a `directory-samples/*.yaml` file (or its `*.jsonl`
//! twin), with cheap lookups by objectId, userPrincipalName and group displayName. Also written
//! back out (`write`), generated synthetically at scale (`generate`) and changed at random for
//! incremental benchmarks (`mutate`).
//!
//! A user missing from the file is hard-deleted in Entra; that is the engine's concern, the lookups
//! here just make the check cheap.

pub mod attributes;
pub mod generate;
mod jsonl;
mod load;
pub mod mutate;
mod par;
mod raw;
mod write;

pub use write::{DirectoryFormat, DirectoryWriter};

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::expr::Value;
use crate::yaml::{Checked, Problems};

/// An Entra user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The Entra objectId (the source anchor).
    pub object_id: String,
    /// The raw userPrincipalName as stored in Entra (B2B guests keep their `#EXT#` form here).
    pub upn: String,
    /// Every source attribute the user has, as provisioning sees it: strings, `"True"`/`"False"`
    /// booleans (`accountEnabled` included), `proxyAddresses` as a multi-value, `manager` as the
    /// manager's objectId, `originalUserPrincipalName` (defaults to the UPN).
    pub attrs: BTreeMap<String, Value>,
    /// The manager's objectId, resolved at load.
    pub manager: Option<String>,
    /// `accountEnabled` (default true).
    pub account_enabled: bool,
    /// In the Entra recycle bin (default false).
    pub soft_deleted: bool,
}

/// Whether a group member is a user or a (nested) group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberKind {
    /// A user.
    User,
    /// A group.
    Group,
}

/// A group member or an assignment principal, resolved to an objectId.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberRef {
    /// The member's objectId.
    pub object_id: String,
    /// User or group.
    pub kind: MemberKind,
}

/// An Entra group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The Entra objectId.
    pub object_id: String,
    /// The display name (the default matching attribute).
    pub display_name: String,
    /// Source attributes: `objectId`, `displayName`, `mailNickname`, `description`,
    /// `securityEnabled` ("True"/"False"), directory extensions.
    pub attrs: BTreeMap<String, Value>,
    /// Direct members, in file order.
    pub members: Vec<MemberRef>,
}

/// A loaded directory with its lookup indexes.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    users: Vec<User>,
    groups: Vec<Group>,
    users_by_id: HashMap<String, usize>,
    users_by_upn: HashMap<String, usize>,
    groups_by_id: HashMap<String, usize>,
    groups_by_name: HashMap<String, usize>,
    ambiguous_group_names: HashSet<String>,
}

impl Directory {
    /// Parses and validates a directory file. `file` is the name used in error messages; a name
    /// ending in `.jsonl` selects the JSON-lines format, anything else YAML. Every problem in the
    /// file is reported, each with file:line:column and field.
    pub fn parse(file: &str, text: &str) -> Result<Directory, Problems> {
        load::check(file, text).into_result()
    }

    /// Reads a directory file as far as it goes: every problem, and a directory of the entries
    /// that could be read (for checking what refers to it).
    pub fn check(file: &str, text: &str) -> Checked<Directory> {
        load::check(file, text)
    }

    /// The users and groups, in file order, giving up the lookups.
    pub fn into_parts(self) -> (Vec<User>, Vec<Group>) {
        (self.users, self.groups)
    }

    /// All users, in file order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// All groups, in file order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The user with this objectId.
    pub fn user(&self, object_id: &str) -> Option<&User> {
        self.users_by_id
            .get(object_id)
            .and_then(|&i| self.users.get(i))
    }

    /// The user with this userPrincipalName (case-insensitive, as in Entra).
    pub fn user_by_upn(&self, upn: &str) -> Option<&User> {
        self.users_by_upn
            .get(&upn.to_lowercase())
            .and_then(|&i| self.users.get(i))
    }

    /// The group with this objectId.
    pub fn group(&self, object_id: &str) -> Option<&Group> {
        self.groups_by_id
            .get(object_id)
            .and_then(|&i| self.groups.get(i))
    }

    /// The group with this display name, if exactly one group has it (Entra allows duplicates).
    pub fn group_by_display_name(&self, name: &str) -> Option<&Group> {
        if self.ambiguous_group_names.contains(name) {
            return None;
        }
        self.groups_by_name
            .get(name)
            .and_then(|&i| self.groups.get(i))
    }

    /// Resolves a reference written in a file — a user objectId or UPN, a group objectId or
    /// display name, tried in that order.
    pub fn resolve(&self, reference: &str) -> Result<MemberRef, ResolveError> {
        if let Some(user) = self.user(reference).or_else(|| self.user_by_upn(reference)) {
            return Ok(MemberRef {
                object_id: user.object_id.clone(),
                kind: MemberKind::User,
            });
        }
        if let Some(group) = self.group(reference) {
            return Ok(MemberRef {
                object_id: group.object_id.clone(),
                kind: MemberKind::Group,
            });
        }
        if self.ambiguous_group_names.contains(reference) {
            return Err(ResolveError::Ambiguous(reference.to_owned()));
        }
        match self.group_by_display_name(reference) {
            Some(group) => Ok(MemberRef {
                object_id: group.object_id.clone(),
                kind: MemberKind::Group,
            }),
            None => Err(ResolveError::NotFound(reference.to_owned())),
        }
    }
}

/// Why a reference did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No user or group has that objectId, UPN or display name.
    #[error("no user or group with objectId, userPrincipalName or displayName \"{0}\"")]
    NotFound(String),
    /// Several groups have that display name.
    #[error("several groups are named \"{0}\"; refer to the group by objectId")]
    Ambiguous(String),
}

#[cfg(test)]
mod tests;
