//! A deterministic batch of random changes to a directory, for incremental-cycle benchmarks:
//! attribute edits, disables, soft and hard deletes, manager changes and membership changes.
//! Every change really changes something, and the result stays valid (no dangling reference, no
//! manager cycle), so it loads like the original.

use std::collections::{HashMap, HashSet};
use std::fmt;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::generate::{DEPARTMENTS, LAST_NAMES};
use super::{Directory, Group, MemberKind, MemberRef, User};
use crate::expr::Value;

/// One applied change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A user attribute (`jobTitle`, `department`, `surname` with `displayName`, `mobile`) got a
    /// new value.
    Edit {
        /// The user's objectId.
        user: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// `accountEnabled` became false.
    Disable {
        /// The user's objectId.
        user: String,
    },
    /// The user went to the recycle bin.
    SoftDelete {
        /// The user's objectId.
        user: String,
    },
    /// The user left the file; their reports moved to their manager, their memberships went.
    HardDelete {
        /// The user's objectId.
        user: String,
    },
    /// The user got another manager.
    ManagerChange {
        /// The user's objectId.
        user: String,
    },
    /// A user joined a group.
    MemberAdd {
        /// The group's objectId.
        group: String,
        /// The user's objectId.
        member: String,
    },
    /// A member left a group.
    MemberRemove {
        /// The group's objectId.
        group: String,
        /// The member's objectId.
        member: String,
    },
}

impl Change {
    /// A short name of the kind of change, for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Edit { .. } => "attribute edit",
            Change::Disable { .. } => "disable",
            Change::SoftDelete { .. } => "soft delete",
            Change::HardDelete { .. } => "hard delete",
            Change::ManagerChange { .. } => "manager change",
            Change::MemberAdd { .. } => "member add",
            Change::MemberRemove { .. } => "member remove",
        }
    }
}

/// The directory after the changes, ready to be written.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// Users in file order, hard-deleted ones gone.
    pub users: Vec<User>,
    /// Groups in file order.
    pub groups: Vec<Group>,
    /// The changes, in the order they were applied.
    pub changes: Vec<Change>,
}

/// Why the batch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MutateError {
    /// Changes applied before running out of things to change.
    pub applied: usize,
}

impl fmt::Display for MutateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the directory ran out of things to change after {} changes",
            self.applied
        )
    }
}

/// Relative weights of the kinds of change, in [`Kind`] order.
const WEIGHTS: [u32; 7] = [40, 8, 5, 5, 12, 15, 15];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Edit,
    Disable,
    SoftDelete,
    HardDelete,
    ManagerChange,
    MemberAdd,
    MemberRemove,
}

const KINDS: [Kind; 7] = [
    Kind::Edit,
    Kind::Disable,
    Kind::SoftDelete,
    Kind::HardDelete,
    Kind::ManagerChange,
    Kind::MemberAdd,
    Kind::MemberRemove,
];

/// Attempts per change before giving up on the directory (each attempt draws a kind and a target).
const ATTEMPTS: usize = 200;

/// Applies exactly `count` random changes drawn from `seed` to `dir`.
pub fn mutate(dir: Directory, count: usize, seed: u64) -> Result<Mutation, MutateError> {
    let (users, groups) = dir.into_parts();
    let mut state = State::new(users, groups, seed);
    let mut changes = Vec::with_capacity(count);
    while changes.len() < count {
        let change = (0..ATTEMPTS).find_map(|_| state.attempt());
        match change {
            Some(change) => changes.push(change),
            None => {
                return Err(MutateError {
                    applied: changes.len(),
                });
            }
        }
    }
    let (users, groups) = state.finish();
    Ok(Mutation {
        users,
        groups,
        changes,
    })
}

struct State {
    rng: StdRng,
    users: Vec<User>,
    groups: Vec<Group>,
    deleted: Vec<bool>,
    by_id: HashMap<String, usize>,
    /// Member sets of the groups touched so far, built on first touch.
    member_sets: HashMap<usize, HashSet<String>>,
}

impl State {
    fn new(users: Vec<User>, groups: Vec<Group>, seed: u64) -> Self {
        let by_id = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.object_id.clone(), i))
            .collect();
        State {
            rng: StdRng::seed_from_u64(seed),
            deleted: vec![false; users.len()],
            users,
            groups,
            by_id,
            member_sets: HashMap::new(),
        }
    }

    /// One random change, or `None` when the drawn one is impossible or would change nothing.
    fn attempt(&mut self) -> Option<Change> {
        let total: u32 = WEIGHTS.iter().sum();
        let mut pick = self.rng.random_range(0..total);
        let mut kind = Kind::Edit;
        for (k, w) in KINDS.iter().zip(WEIGHTS) {
            if pick < w {
                kind = *k;
                break;
            }
            pick -= w;
        }
        match kind {
            Kind::Edit => self.edit(),
            Kind::Disable => {
                let i = self.live_user()?;
                let user = self.users.get_mut(i)?;
                if !user.account_enabled {
                    return None;
                }
                user.account_enabled = false;
                user.attrs
                    .insert("accountEnabled".to_owned(), Value::from_bool(false));
                Some(Change::Disable {
                    user: user.object_id.clone(),
                })
            }
            Kind::SoftDelete => {
                let i = self.live_user()?;
                let user = self.users.get_mut(i)?;
                if user.soft_deleted {
                    return None;
                }
                user.soft_deleted = true;
                Some(Change::SoftDelete {
                    user: user.object_id.clone(),
                })
            }
            Kind::HardDelete => {
                let i = self.live_user()?;
                *self.deleted.get_mut(i)? = true;
                Some(Change::HardDelete {
                    user: self.users.get(i)?.object_id.clone(),
                })
            }
            Kind::ManagerChange => self.manager_change(),
            Kind::MemberAdd => self.member_add(),
            Kind::MemberRemove => self.member_remove(),
        }
    }

    fn live_user(&mut self) -> Option<usize> {
        if self.users.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..self.users.len());
        (self.deleted.get(i) == Some(&false)).then_some(i)
    }

    fn edit(&mut self) -> Option<Change> {
        let i = self.live_user()?;
        let attribute = *["jobTitle", "department", "surname", "mobile"].choose(&mut self.rng)?;
        let value = match attribute {
            "jobTitle" => {
                let titles = DEPARTMENTS.choose(&mut self.rng)?.1;
                (*titles.choose(&mut self.rng)?).to_owned()
            }
            "department" => DEPARTMENTS.choose(&mut self.rng)?.0.to_owned(),
            "surname" => (*LAST_NAMES.choose(&mut self.rng)?).to_owned(),
            _ => format!(
                "+1 206 7{:02} {:04}",
                self.rng.random_range(0..100),
                self.rng.random_range(0..10_000)
            ),
        };
        let user = self.users.get_mut(i)?;
        let new = Value::Str(value.clone());
        if user.attrs.get(attribute) == Some(&new) {
            return None;
        }
        user.attrs.insert(attribute.to_owned(), new);
        if attribute == "surname"
            && let Some(Value::Str(given)) = user.attrs.get("givenName")
        {
            let display = format!("{given} {value}");
            user.attrs
                .insert("displayName".to_owned(), Value::Str(display));
        }
        Some(Change::Edit {
            user: user.object_id.clone(),
            attribute,
        })
    }

    /// A new manager that is not a guest, not the user, and not one of the user's reports
    /// (directly or further down), so the tree stays acyclic.
    fn manager_change(&mut self) -> Option<Change> {
        let i = self.live_user()?;
        let m = self.live_user()?;
        let (user, candidate) = (self.users.get(i)?, self.users.get(m)?);
        if i == m
            || candidate.upn.contains("#EXT#")
            || user.manager.as_deref() == Some(candidate.object_id.as_str())
        {
            return None;
        }
        let mut current = Some(m);
        let mut steps = 0;
        while let Some(c) = current {
            if c == i || steps > self.users.len() {
                return None;
            }
            steps += 1;
            current = self
                .users
                .get(c)
                .and_then(|u| u.manager.as_deref())
                .and_then(|id| self.by_id.get(id))
                .copied();
        }
        let manager = candidate.object_id.clone();
        let user = self.users.get_mut(i)?;
        user.attrs
            .insert("manager".to_owned(), Value::Str(manager.clone()));
        user.manager = Some(manager);
        Some(Change::ManagerChange {
            user: user.object_id.clone(),
        })
    }

    fn member_set(&mut self, g: usize) -> Option<&mut HashSet<String>> {
        let group = self.groups.get(g)?;
        Some(
            self.member_sets
                .entry(g)
                .or_insert_with(|| group.members.iter().map(|m| m.object_id.clone()).collect()),
        )
    }

    fn member_add(&mut self) -> Option<Change> {
        if self.groups.is_empty() {
            return None;
        }
        let g = self.rng.random_range(0..self.groups.len());
        let i = self.live_user()?;
        let id = self.users.get(i)?.object_id.clone();
        if !self.member_set(g)?.insert(id.clone()) {
            return None;
        }
        let group = self.groups.get_mut(g)?;
        group.members.push(MemberRef {
            object_id: id.clone(),
            kind: MemberKind::User,
        });
        Some(Change::MemberAdd {
            group: group.object_id.clone(),
            member: id,
        })
    }

    fn member_remove(&mut self) -> Option<Change> {
        if self.groups.is_empty() {
            return None;
        }
        let g = self.rng.random_range(0..self.groups.len());
        let size = self.groups.get(g)?.members.len();
        if size == 0 {
            return None;
        }
        let j = self.rng.random_range(0..size);
        let group = self.groups.get_mut(g)?;
        let member = group.members.remove(j);
        let group_id = group.object_id.clone();
        self.member_set(g)?.remove(&member.object_id);
        Some(Change::MemberRemove {
            group: group_id,
            member: member.object_id,
        })
    }

    /// Drops hard-deleted users: their reports move up to the nearest remaining manager, their
    /// memberships go.
    fn finish(self) -> (Vec<User>, Vec<Group>) {
        let State {
            mut users,
            mut groups,
            deleted,
            by_id,
            ..
        } = self;
        let is_deleted = |id: &str| {
            by_id
                .get(id)
                .is_some_and(|&i| deleted.get(i) == Some(&true))
        };
        let gone: HashSet<String> = users
            .iter()
            .zip(&deleted)
            .filter(|(_, d)| **d)
            .map(|(u, _)| u.object_id.clone())
            .collect();
        if gone.is_empty() {
            return (users, groups);
        }
        let managers: Vec<Option<String>> = users.iter().map(|u| u.manager.clone()).collect();
        for user in &mut users {
            let mut manager = user.manager.clone();
            let mut steps = 0;
            while let Some(id) = manager.as_deref().filter(|id| is_deleted(id)) {
                steps += 1;
                manager = by_id
                    .get(id)
                    .and_then(|&i| managers.get(i))
                    .cloned()
                    .flatten()
                    .filter(|_| steps <= managers.len());
            }
            match &manager {
                Some(id) => {
                    user.attrs
                        .insert("manager".to_owned(), Value::Str(id.clone()));
                }
                None => {
                    user.attrs.remove("manager");
                }
            }
            user.manager = manager;
        }
        let users = users
            .into_iter()
            .zip(deleted)
            .filter(|(_, d)| !d)
            .map(|(u, _)| u)
            .collect();
        for group in &mut groups {
            group.members.retain(|m| !gone.contains(&m.object_id));
        }
        (users, groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::DirectoryFormat;
    use crate::directory::generate::{self, TenantSpec};

    fn tenant() -> Directory {
        let spec = TenantSpec {
            users: 2_000,
            groups: 30,
            seed: 7,
        };
        let mut out = Vec::new();
        generate::generate(&spec, DirectoryFormat::Yaml, &mut out).expect("vec");
        let text = String::from_utf8(out).expect("utf-8");
        Directory::parse("t.yaml", &text).unwrap_or_else(|p| panic!("{p}"))
    }

    fn written(users: &[User], groups: &[Group]) -> String {
        let mut writer =
            crate::directory::DirectoryWriter::new(Vec::new(), DirectoryFormat::Yaml, &[])
                .expect("vec");
        for u in users {
            writer.user(u).expect("vec");
        }
        for g in groups {
            writer.group(g).expect("vec");
        }
        String::from_utf8(writer.finish().expect("vec")).expect("utf-8")
    }

    #[test]
    fn applies_exactly_k_changes_and_the_result_loads() {
        let before = tenant();
        let users_before = before.users().len();
        let disabled_before = before.users().iter().filter(|u| !u.account_enabled).count();
        let mutation = mutate(before.clone(), 500, 3).expect("enough to change");
        assert_eq!(mutation.changes.len(), 500);
        let count = |kind: &str| mutation.changes.iter().filter(|c| c.kind() == kind).count();
        for kind in [
            "attribute edit",
            "disable",
            "soft delete",
            "hard delete",
            "manager change",
            "member add",
            "member remove",
        ] {
            assert!(count(kind) > 0, "no {kind}");
        }
        let text = written(&mutation.users, &mutation.groups);
        let after = Directory::parse("after.yaml", &text).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(after.users().len(), users_before - count("hard delete"));
        let disabled: HashSet<&str> = mutation
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Disable { user } => Some(user.as_str()),
                _ => None,
            })
            .collect();
        for id in &disabled {
            if let Some(user) = after.user(id) {
                assert!(!user.account_enabled);
            }
        }
        assert!(after.users().iter().filter(|u| !u.account_enabled).count() > disabled_before);
        for user in after.users() {
            let mut current = user;
            let mut steps = 0;
            while let Some(m) = current.manager.as_deref().and_then(|m| after.user(m)) {
                current = m;
                steps += 1;
                assert!(steps <= after.users().len(), "manager cycle");
            }
        }
        // Changes differ from the original in at most K users and K groups.
        let changed_users = after
            .users()
            .iter()
            .filter(|u| before.user(&u.object_id) != Some(u))
            .count();
        assert!(changed_users > 0 && changed_users <= 500 + count("hard delete") * 10);
    }

    #[test]
    fn same_seed_same_result() {
        let a = mutate(tenant(), 100, 9).expect("a");
        let b = mutate(tenant(), 100, 9).expect("b");
        assert_eq!(a.changes, b.changes);
        assert_eq!(written(&a.users, &a.groups), written(&b.users, &b.groups));
    }

    #[test]
    fn an_empty_directory_cannot_change() {
        let empty = Directory::parse("e.yaml", "users: []\n").expect("valid");
        assert_eq!(mutate(empty, 1, 1).err(), Some(MutateError { applied: 0 }));
    }
}
