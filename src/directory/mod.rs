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
pub mod index;
mod jsonl;
mod load;
pub mod mutate;
pub(crate) mod par;
mod raw;
mod write;

pub use index::{LineIndex, SourceIndex};
pub use write::{DirectoryFormat, DirectoryWriter};

use index::{Ghosts, UserLine};

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::expr::Value;
use crate::yaml::{self, Checked, Problem, Problems};

/// How many dropped references of a load get a closest name ([`Directory::dropped_reference`]).
const SUGGESTIONS: usize = 20;

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
    /// Parallel to `users` for a JSON-lines file: each user's line.
    lines: Vec<UserLine>,
    /// Users whose lines were not read because a [`SourceIndex`] knows them unchanged.
    ghosts: Option<Box<Ghosts>>,
    /// The references dropped because they name no object (deleted), located.
    warnings: Vec<Problem>,
    /// The names of the entries rejected as duplicates.
    rejected: Rejected,
}

/// The names of the entries a load rejected as duplicates, which no other entry has: a
/// reference to one is neither resolved nor reported again ([`ResolveError::Duplicate`]).
#[derive(Debug, Clone, Default)]
struct Rejected {
    /// objectIds and group display names, as written.
    ids: HashSet<String>,
    /// userPrincipalNames, lower-cased (they are looked up case-insensitively).
    upns: HashSet<String>,
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

    /// The managers and group members that name no user or group, each dropped as a deleted
    /// object's link would be in Entra, as located warnings.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// The warning of a reference (a manager, a group member, an assignment's principal) that
    /// names no user or group: in Entra, deleting an object removes its memberships, manager
    /// links and app role assignments, so the reference is dropped and the object treated as
    /// deleted. When a name is close to it (a likely typo), the warning names that instead. Each
    /// lookup walks every user, so only the first 20 dropped references of a load (`nth` counts
    /// them from 0) get one.
    pub fn dropped_reference(&self, reference: &str, nth: usize) -> String {
        match (nth < SUGGESTIONS)
            .then(|| self.closest_name(reference))
            .flatten()
        {
            Some(name) => {
                format!("\"{reference}\" names no user or group (did you mean \"{name}\"?)")
            }
            None => format!("\"{reference}\" names no user or group; treated as deleted"),
        }
    }

    /// The name closest to `reference` that does name an object, if one is close enough to be a
    /// likely typo: for a userPrincipalName, the local part among the UPNs of the same domain
    /// (two UPNs of one tenant share a long suffix, which would make any two look close), else
    /// the whole name among every UPN and group display name.
    pub fn closest_name(&self, reference: &str) -> Option<&str> {
        let ghosts = self.ghosts.as_deref();
        let upns = || {
            self.users.iter().map(|u| u.upn.as_str()).chain(
                ghosts
                    .into_iter()
                    .flat_map(|g| g.present().map(|(i, _)| g.user(i).upn.as_str())),
            )
        };
        if let Some((local, domain)) = reference.rsplit_once('@') {
            let same_domain: Vec<(&str, &str)> = upns()
                .filter_map(|upn| {
                    let (l, d) = upn.rsplit_once('@')?;
                    d.eq_ignore_ascii_case(domain).then_some((l, upn))
                })
                .collect();
            if !same_domain.is_empty() {
                let closest = yaml::did_you_mean(local, same_domain.iter().map(|(l, _)| *l))?;
                return same_domain
                    .iter()
                    .find(|(l, _)| std::ptr::eq(*l, closest))
                    .map(|(_, upn)| *upn);
            }
        }
        let groups = self.groups.iter().map(|g| g.display_name.as_str());
        yaml::did_you_mean(reference, upns().chain(groups))
    }

    /// The users and groups, in file order, giving up the lookups.
    pub fn into_parts(self) -> (Vec<User>, Vec<Group>) {
        (self.users, self.groups)
    }

    /// All users, in file order — only the users read when the directory is partial
    /// ([`Directory::is_partial`]).
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
        let ghosts = self.ghosts.as_deref();
        let user = self
            .user(reference)
            .map(|u| u.object_id.as_str())
            .or_else(|| ghosts.and_then(|g| g.find_id(reference).map(|i| g.id(i))))
            .or_else(|| self.user_by_upn(reference).map(|u| u.object_id.as_str()))
            .or_else(|| ghosts.and_then(|g| g.find_upn(reference).map(|i| g.id(i))));
        if let Some(object_id) = user {
            return Ok(MemberRef {
                object_id: object_id.to_owned(),
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
            None if self.rejected.ids.contains(reference)
                || self.rejected.upns.contains(&reference.to_lowercase()) =>
            {
                Err(ResolveError::Duplicate(reference.to_owned()))
            }
            None => Err(ResolveError::NotFound(reference.to_owned())),
        }
    }
}

/// Line-level deltas (see [`index`]).
impl Directory {
    /// Read from a JSON-lines file with a [`SourceIndex`] of the last clean cycle: only new and
    /// changed lines (and every group line) were parsed. Falls back to reading every line
    /// whenever the index cannot answer for the rest (another mapping, a problem anywhere, a new
    /// line clashing with an unchanged one, an unchanged line's manager gone): the result, and
    /// every problem reported, are those of [`Directory::parse`].
    pub fn parse_delta(
        file: &str,
        text: &str,
        index: impl Into<LineIndex>,
        mapping: &str,
    ) -> Result<Directory, Problems> {
        let index = index.into();
        if index.mapping() != mapping {
            return jsonl::parse(file, text);
        }
        jsonl::parse_delta(file, text, index.0)
    }

    /// Some users were not read (they are unchanged since the last clean cycle).
    pub fn is_partial(&self) -> bool {
        self.ghosts.is_some()
    }

    /// How many users were not read.
    pub fn ghost_count(&self) -> usize {
        self.ghosts.as_deref().map_or(0, |g| g.present().count())
    }

    /// The objectIds of the users that were not read.
    pub fn ghost_ids(&self) -> Vec<&str> {
        self.ghosts
            .as_deref()
            .map(|g| g.present().map(|(i, _)| g.id(i)).collect())
            .unwrap_or_default()
    }

    /// Whether the source has this user or group (read or not).
    pub fn contains(&self, object: &MemberRef) -> bool {
        match object.kind {
            MemberKind::User => {
                self.users_by_id.contains_key(&object.object_id)
                    || self
                        .ghosts
                        .as_deref()
                        .is_some_and(|g| g.find_id(&object.object_id).is_some())
            }
            MemberKind::Group => self.groups_by_id.contains_key(&object.object_id),
        }
    }

    /// A user's userPrincipalName as written (read or not).
    pub fn user_name(&self, object_id: &str) -> Option<&str> {
        if let Some(user) = self.user(object_id) {
            return Some(&user.upn);
        }
        let ghosts = self.ghosts.as_deref()?;
        ghosts
            .find_id(object_id)
            .map(|i| ghosts.user(i).upn.as_str())
    }

    /// For a partial directory: what the last clean cycle's source had and this one has not
    /// (hard-deleted), and the index's orphans still missing — the objects a full cycle would
    /// find among its connections and watermarks but not in the source.
    pub fn gone(&self) -> Vec<MemberRef> {
        let Some(ghosts) = self.ghosts.as_deref() else {
            return Vec::new();
        };
        let index = &ghosts.index;
        let users = index
            .users
            .iter()
            .zip(0u32..)
            .filter(|(u, i)| !ghosts.is_placed(*i) && !self.users_by_id.contains_key(&u.object_id))
            .map(|(u, _)| MemberRef {
                object_id: u.object_id.clone(),
                kind: MemberKind::User,
            });
        let groups = index
            .groups
            .iter()
            .filter(|id| !self.groups_by_id.contains_key(*id))
            .map(|id| MemberRef {
                object_id: id.clone(),
                kind: MemberKind::Group,
            });
        let orphans = index.orphans.iter().filter(|o| !self.contains(o)).cloned();
        users.chain(groups).chain(orphans).collect()
    }

    /// Reads the lines of the users `wanted` picks among those not read, given each one's
    /// objectId and the [`index::assignment_digest`] it had (those whose assignment changed, so
    /// their fingerprint did). `text` is the file [`Directory::parse_delta`] read.
    pub fn read_ghosts(
        &mut self,
        file: &str,
        text: &str,
        wanted: impl Fn(&str, u64) -> bool + Sync,
    ) -> Result<(), Problems> {
        jsonl::read_ghosts(self, file, text, wanted)
    }

    /// The target id of an unread user's connection, as the index has it, with its hash
    /// (`Some(None)`: it has none); `None` when the user was read or is not in the source.
    pub fn ghost_target(&self, object_id: &str) -> Option<Option<crate::hash::Keyed<'_>>> {
        let ghosts = self.ghosts.as_deref()?;
        let i = ghosts.find_id(object_id)?;
        Some(ghosts.target(i))
    }

    /// Whether every user came from a line of a JSON-lines file: only such a source has an
    /// index ([`Directory::write_source_index`]).
    pub fn has_lines(&self) -> bool {
        self.lines.len() == self.users.len()
    }

    /// Writes the index of this source for the next cycle to `to`, as the bytes
    /// [`SourceIndex::decode`] reads, in pieces as it is encoded. An error unless the source
    /// [`Directory::has_lines`]. `assignment` gives a read user's [`index::assignment_digest`]
    /// and `target` its connection's target id (unread users keep theirs); `orphans` are the
    /// connected objects not in the source.
    pub fn write_source_index<'a>(
        &'a self,
        mapping: &str,
        assignment: impl Fn(&str) -> u64,
        target: impl Fn(&str) -> Option<&'a str>,
        orphans: &[MemberRef],
        to: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        if !self.has_lines() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the directory was not read from JSON lines: it has no source index",
            ));
        }
        let mut rows: Vec<index::Row<'_>> = self
            .users
            .iter()
            .zip(&self.lines)
            .map(|(u, l)| index::Row {
                number: l.at.number,
                line: l.at.hash,
                object_id: &u.object_id,
                upn: &u.upn,
                manager: u.manager.as_deref().map(index::Manager::Id),
                assignment: assignment(&u.object_id),
                reread: l.reread,
                target: target(&u.object_id),
                keys: index::keys_of(&u.object_id, &u.upn),
                ghost: None,
            })
            .collect();
        if let Some(ghosts) = self.ghosts.as_deref() {
            // Unread users are unchanged, assignment included.
            rows.extend(ghosts.present().map(|(i, at)| {
                let user = ghosts.user(i);
                index::Row {
                    number: at.number,
                    line: at.hash,
                    object_id: &user.object_id,
                    upn: &user.upn,
                    manager: user.manager.map(index::Manager::Indexed),
                    assignment: user.assignment,
                    reread: user.reread,
                    target: user.target.as_deref(),
                    keys: user.keys,
                    ghost: Some(i),
                }
            }));
        }
        index::encode_rows(
            mapping,
            &mut rows,
            self.groups.iter().map(|g| g.object_id.as_str()),
            orphans,
            self.ghosts.as_deref(),
            to,
        )
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
    /// Only an entry rejected as a duplicate has that name: the file has a problem there
    /// already, which a reference to it does not repeat.
    #[error("\"{0}\" names only an entry rejected as a duplicate")]
    Duplicate(String),
}

#[cfg(test)]
mod tests;
