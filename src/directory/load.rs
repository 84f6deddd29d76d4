//! Turns a directory file's text into a validated [`Directory`]: typed attributes, defaults,
//! unique objectIds and UPNs, and manager/member references resolved to objectIds. Every problem
//! is collected and located; the walk is linear in the file size.

use std::collections::{BTreeMap, HashSet};

use super::attributes::{self, AttributeKind, COMPUTED_USER_ATTRIBUTES, USER_SOURCE_ATTRIBUTES};
use super::index::{Ghosts, LineAt, UserLine};
use super::jsonl;
use super::par;
use super::raw::{DirectoryFile, RawEntry};
use super::write::DirectoryFormat;
use super::{Directory, Group, MemberKind, MemberRef, ResolveError, User};
use crate::expr::Value;
use crate::yaml::{self, Checked, Pending, RawValue};

/// Keys a directory file accepts on a group.
const GROUP_FIELDS: &[&str] = &[
    "objectId",
    "displayName",
    "mailNickname",
    "description",
    "securityEnabled",
    "members",
];

/// The one key a directory file accepts on a user that is not a source attribute.
const SOFT_DELETED: &str = "softDeleted";

/// Reads a directory file (YAML, or JSON lines for `.jsonl`); the directory holds every entry
/// that could be read.
pub(super) fn check(file: &str, text: &str) -> Checked<Directory> {
    if DirectoryFormat::for_path(file) == DirectoryFormat::JsonLines {
        return Checked::from_result(jsonl::parse(file, text));
    }
    let raw: DirectoryFile = match yaml::parse(file, text) {
        Ok(raw) => raw,
        Err(problem) => return Checked::unusable(problem),
    };
    let (mut dir, pending, dropped) = build(raw.users, raw.groups, &[], None);
    dir.warnings = yaml::place(file, text, dropped).0;
    Checked {
        value: Some(dir),
        problems: yaml::place(file, text, pending),
    }
}

/// Validates raw entries, whichever format they came from, into a directory and the problems
/// found (by key path, for the format to place), and the warnings of the references it dropped
/// (managers and members naming no object: deleted, see [`Directory::dropped_reference`]). `user_lines`
/// (JSON lines only) are the users' lines, parallel to `users`; `ghosts` are users known
/// unchanged and not read, which references may name.
pub(super) fn build(
    users: Vec<RawEntry>,
    groups: Vec<RawEntry>,
    user_lines: &[LineAt],
    ghosts: Option<Box<Ghosts>>,
) -> (Directory, Vec<Pending>, Vec<Pending>) {
    let mut pending = Vec::new();
    let mut dir = Directory {
        ghosts,
        ..Directory::default()
    };
    // Parallel to `dir.users` / `dir.groups`: the entry's index in the file (for error paths) and
    // its unresolved references.
    let user_refs = add_users(&mut dir, users, &mut pending);
    let group_refs = add_groups(&mut dir, groups, &mut pending);

    // (field, reference) of each reference naming no object, in file order.
    let mut dropped = Vec::new();
    let managers = resolve_managers(&dir, &user_refs, &mut pending, &mut dropped);
    for (user, manager) in dir.users.iter_mut().zip(managers) {
        if let Some(id) = manager {
            set_manager(user, id);
        }
    }
    if !user_lines.is_empty() {
        dir.lines = lines_of_users(&dir, &user_refs, user_lines);
    }
    let members = resolve_members(&dir, &group_refs, &mut pending, &mut dropped);
    for (group, members) in dir.groups.iter_mut().zip(members) {
        group.members = members;
    }
    let dropped = dropped
        .into_iter()
        .enumerate()
        .map(|(n, (field, reference))| Pending::value(field, dir.dropped_reference(&reference, n)))
        .collect();
    (dir, pending, dropped)
}

/// Converts the user entries and indexes the ones that are not duplicates; returns, parallel to
/// `dir.users`, each one's index in the file and its manager as written.
fn add_users(
    dir: &mut Directory,
    users: Vec<RawEntry>,
    pending: &mut Vec<Pending>,
) -> Vec<(usize, Option<String>)> {
    let mut user_refs = Vec::with_capacity(users.len());
    // Each entry converts on its own: on every core, problems kept in file order.
    let converted = par::map(users.into_iter().enumerate().collect(), |(i, entry)| {
        let mut problems = Vec::new();
        (i, user_from(i, entry, &mut problems), problems)
    });
    // A duplicate is checked before anything is indexed: the first entry keeps its names, and
    // the names of the one rejected are remembered, so that what refers to it is not reported
    // a second time (issue 18 item 10).
    for (i, user, problems) in converted {
        pending.extend(problems);
        let Some((user, manager)) = user else {
            continue;
        };
        let lower_upn = user.upn.to_lowercase();
        let duplicate = if dir.users_by_id.contains_key(&user.object_id) {
            Some(("objectId", &user.object_id))
        } else if dir.users_by_upn.contains_key(&lower_upn) {
            Some(("userPrincipalName", &user.upn))
        } else {
            None
        };
        if let Some((key, value)) = duplicate {
            pending.push(Pending::value(
                format!("users[{i}].{key}"),
                format!("duplicate {key} \"{value}\""),
            ));
            dir.rejected.ids.insert(user.object_id);
            dir.rejected.upns.insert(lower_upn);
            continue;
        }
        let index = dir.users.len();
        dir.users_by_id.insert(user.object_id.clone(), index);
        dir.users_by_upn.insert(lower_upn, index);
        dir.users.push(user);
        user_refs.push((i, manager));
    }
    user_refs
}

/// Converts the group entries and indexes the ones that are not duplicates; returns, parallel
/// to `dir.groups`, each one's index in the file and its members as written.
fn add_groups(
    dir: &mut Directory,
    groups: Vec<RawEntry>,
    pending: &mut Vec<Pending>,
) -> Vec<(usize, Vec<String>)> {
    let mut group_refs = Vec::with_capacity(groups.len());
    for (i, entry) in groups.into_iter().enumerate() {
        let Some((group, members)) = group_from(i, entry, pending) else {
            continue;
        };
        if dir.users_by_id.contains_key(&group.object_id)
            || dir.groups_by_id.contains_key(&group.object_id)
        {
            pending.push(Pending::value(
                format!("groups[{i}].objectId"),
                format!("duplicate objectId \"{}\"", group.object_id),
            ));
            dir.rejected.ids.insert(group.object_id);
            dir.rejected.ids.insert(group.display_name);
            continue;
        }
        let index = dir.groups.len();
        dir.groups_by_id.insert(group.object_id.clone(), index);
        if dir
            .groups_by_name
            .insert(group.display_name.clone(), index)
            .is_some()
        {
            dir.ambiguous_group_names.insert(group.display_name.clone());
        }
        dir.groups.push(group);
        group_refs.push((i, members));
    }
    group_refs
}

/// Where each user's line is (`user_lines`, by index in the file), and whether it must be read
/// again next time: its manager as written is not the one resolved.
fn lines_of_users(
    dir: &Directory,
    user_refs: &[(usize, Option<String>)],
    user_lines: &[LineAt],
) -> Vec<UserLine> {
    user_refs
        .iter()
        .zip(&dir.users)
        .filter_map(|((i, written), user)| {
            Some(UserLine {
                at: *user_lines.get(*i)?,
                reread: written.is_some() && *written != user.manager,
            })
        })
        .collect()
}

/// Links `user` to its resolved manager.
fn set_manager(user: &mut User, id: String) {
    user.attrs
        .insert("manager".to_owned(), Value::Str(id.clone()));
    user.manager = Some(id);
}

/// One user entry read on its own into `dir` (a ghost's line): converted and its manager
/// resolved as [`build`] does; `None` with the problems otherwise. Its manager was checked
/// present before it was read (see `jsonl::answers_for_the_rest`), so one naming no object
/// means the file changed meanwhile: a problem here.
pub(super) fn user_alone(dir: &Directory, entry: RawEntry) -> Result<User, Vec<Pending>> {
    let mut pending = Vec::new();
    let Some((mut user, written)) = user_from(0, entry, &mut pending) else {
        return Err(pending);
    };
    let mut dropped = Vec::new();
    let manager = resolve_manager(
        dir,
        &user.object_id,
        0,
        written.as_deref(),
        &mut pending,
        &mut dropped,
    );
    pending.extend(
        dropped
            .into_iter()
            .map(|(field, reference)| Pending::value(field, dir.dropped_reference(&reference, 0))),
    );
    if !pending.is_empty() {
        return Err(pending);
    }
    if let Some(id) = manager {
        set_manager(&mut user, id);
    }
    Ok(user)
}

/// (field, reference) of a reference naming no object.
type Dropped = (String, String);

fn resolve_managers(
    dir: &Directory,
    refs: &[(usize, Option<String>)],
    pending: &mut Vec<Pending>,
    dropped: &mut Vec<Dropped>,
) -> Vec<Option<String>> {
    dir.users
        .iter()
        .zip(refs)
        .map(|(user, (i, reference))| {
            resolve_manager(
                dir,
                &user.object_id,
                *i,
                reference.as_deref(),
                pending,
                dropped,
            )
        })
        .collect()
}

fn resolve_manager(
    dir: &Directory,
    user: &str,
    i: usize,
    reference: Option<&str>,
    pending: &mut Vec<Pending>,
    dropped: &mut Vec<Dropped>,
) -> Option<String> {
    let reference = reference?;
    let field = || format!("users[{i}].manager");
    match dir.resolve(reference) {
        Ok(MemberRef {
            kind: MemberKind::Group,
            ..
        }) => {
            pending.push(Pending::value(
                field(),
                format!("manager \"{reference}\" is a group, not a user"),
            ));
            None
        }
        Ok(MemberRef { object_id, .. }) if object_id == user => {
            pending.push(Pending::value(
                field(),
                "a user cannot be their own manager",
            ));
            None
        }
        Ok(MemberRef { object_id, .. }) => Some(object_id),
        Err(ResolveError::NotFound(_)) => {
            dropped.push((field(), reference.to_owned()));
            None
        }
        // Reported at the duplicate.
        Err(ResolveError::Duplicate(_)) => None,
        Err(err @ ResolveError::Ambiguous(_)) => {
            pending.push(Pending::value(
                field(),
                format!("ambiguous manager reference: {err}"),
            ));
            None
        }
    }
}

fn resolve_members(
    dir: &Directory,
    refs: &[(usize, Vec<String>)],
    pending: &mut Vec<Pending>,
    dropped: &mut Vec<Dropped>,
) -> Vec<Vec<MemberRef>> {
    // Groups resolve independently: on every core, shared by member count.
    let groups: Vec<_> = dir.groups.iter().zip(refs).collect();
    let resolved = par::map_weighted(
        groups,
        |(_, (_, references))| references.len(),
        1 << 16,
        |(group, (i, references))| {
            let mut problems = Vec::new();
            let mut gone = Vec::new();
            let mut members = Vec::with_capacity(references.len());
            for (j, reference) in references.iter().enumerate() {
                let field = || format!("groups[{i}].members[{j}]");
                match dir.resolve(reference) {
                    Ok(member) if member.object_id == group.object_id => {
                        problems.push(Pending::value(
                            field(),
                            "a group cannot be a member of itself",
                        ));
                    }
                    Ok(member) => members.push((j, member)),
                    Err(ResolveError::NotFound(_)) => gone.push((field(), reference.clone())),
                    Err(ResolveError::Duplicate(_)) => {}
                    Err(err @ ResolveError::Ambiguous(_)) => problems.push(Pending::value(
                        field(),
                        format!("ambiguous member reference: {err}"),
                    )),
                }
            }
            // Each member once (an objectId and a UPN can name the same user).
            let mut seen = HashSet::with_capacity(members.len());
            let twice: Vec<usize> = members
                .iter()
                .filter(|(_, m)| !seen.insert(m.object_id.as_str()))
                .map(|(j, _)| *j)
                .collect();
            for j in &twice {
                problems.push(Pending::value(
                    format!("groups[{i}].members[{j}]"),
                    format!("member \"{}\" is listed twice", references[*j]),
                ));
            }
            let members: Vec<MemberRef> = members
                .into_iter()
                .filter(|(j, _)| twice.binary_search(j).is_err())
                .map(|(_, m)| m)
                .collect();
            (members, problems, gone)
        },
    );
    resolved
        .into_iter()
        .map(|(members, problems, gone)| {
            pending.extend(problems);
            dropped.extend(gone);
            members
        })
        .collect()
}

/// Reads one user entry; `None` when it lacks what identifies it (the problems are recorded).
fn user_from(
    i: usize,
    entry: RawEntry,
    pending: &mut Vec<Pending>,
) -> Option<(User, Option<String>)> {
    let mut fields = Fields::new("users", i, &entry, pending);
    let mut object_id = None;
    let mut upn = None;
    let mut account_enabled = true;
    let mut soft_deleted = false;
    let mut manager = None;
    let mut attrs = BTreeMap::new();
    for (key, value) in entry.0 {
        if !fields.first_time(&key) {
            continue;
        }
        match key.as_str() {
            "objectId" => object_id = fields.text(&key, value),
            "userPrincipalName" => upn = fields.text(&key, value),
            "accountEnabled" => account_enabled = fields.boolean(&key, value).unwrap_or(true),
            SOFT_DELETED => soft_deleted = fields.boolean(&key, value).unwrap_or(false),
            "manager" => manager = fields.text(&key, value),
            _ => source_attribute(&mut fields, key, value, &mut attrs),
        }
    }
    let object_id = fields.required("objectId", object_id)?;
    let upn = fields.required("userPrincipalName", upn)?;
    if !upn.contains('@') {
        fields.problem(
            "userPrincipalName",
            false,
            format!("\"{upn}\" is not a user principal name (no @)"),
        );
    }
    attrs.insert("objectId".to_owned(), Value::Str(object_id.clone()));
    attrs.insert("userPrincipalName".to_owned(), Value::Str(upn.clone()));
    attrs
        .entry("originalUserPrincipalName".to_owned())
        .or_insert_with(|| Value::Str(upn.clone()));
    attrs.insert("accountEnabled".to_owned(), bool_value(account_enabled));
    Some((
        User {
            object_id,
            upn,
            attrs,
            manager: None,
            account_enabled,
            soft_deleted,
        },
        manager,
    ))
}

/// A user's source attribute (`key`, not one of the keys that identify or link the user) into
/// `attrs`; a computed attribute or an unknown key is a problem.
fn source_attribute(
    fields: &mut Fields<'_>,
    key: String,
    value: RawValue,
    attrs: &mut BTreeMap<String, Value>,
) {
    match key.as_str() {
        "proxyAddresses" => {
            if let Some(list) = fields.text_list(&key, value) {
                attrs.insert(key, Value::Multi(list));
            }
        }
        name if COMPUTED_USER_ATTRIBUTES.contains(&name) => fields.problem(
            &key,
            true,
            format!("`{name}` is computed by the simulator and cannot be set in a directory file"),
        ),
        name if attributes::find(USER_SOURCE_ATTRIBUTES, name)
            .is_some_and(|a| a.kind == AttributeKind::Text) =>
        {
            if let Some(text) = fields.text(&key, value) {
                attrs.insert(key, Value::Str(text));
            }
        }
        name => {
            let candidates = USER_SOURCE_ATTRIBUTES
                .iter()
                .map(|a| a.name)
                .filter(|n| !COMPUTED_USER_ATTRIBUTES.contains(n))
                .chain([SOFT_DELETED]);
            fields.unknown(name, candidates);
        }
    }
}

/// Reads one group entry; `None` when it lacks what identifies it.
fn group_from(
    i: usize,
    entry: RawEntry,
    pending: &mut Vec<Pending>,
) -> Option<(Group, Vec<String>)> {
    let mut fields = Fields::new("groups", i, &entry, pending);
    let mut object_id = None;
    let mut display_name = None;
    let mut security_enabled = true;
    let mut members = Vec::new();
    let mut attrs = BTreeMap::new();
    for (key, value) in entry.0 {
        if !fields.first_time(&key) {
            continue;
        }
        match key.as_str() {
            "objectId" => object_id = fields.text(&key, value),
            "displayName" => display_name = fields.text(&key, value),
            "securityEnabled" => security_enabled = fields.boolean(&key, value).unwrap_or(true),
            "members" => members = fields.text_list(&key, value).unwrap_or_default(),
            "mailNickname" | "description" => {
                if let Some(text) = fields.text(&key, value) {
                    attrs.insert(key, Value::Str(text));
                }
            }
            name if attributes::is_directory_extension(name) => {
                if let Some(text) = fields.text(&key, value) {
                    attrs.insert(key, Value::Str(text));
                }
            }
            name => fields.unknown(name, GROUP_FIELDS.iter().copied()),
        }
    }
    let object_id = fields.required("objectId", object_id)?;
    let display_name = fields.required("displayName", display_name)?;
    attrs.insert("objectId".to_owned(), Value::Str(object_id.clone()));
    attrs.insert("displayName".to_owned(), Value::Str(display_name.clone()));
    attrs.insert("securityEnabled".to_owned(), bool_value(security_enabled));
    Some((
        Group {
            object_id,
            display_name,
            attrs,
            members: Vec::new(),
        },
        members,
    ))
}

fn bool_value(b: bool) -> Value {
    Value::Str(if b { "True" } else { "False" }.to_owned())
}

/// Typed reads of one entry's fields, recording problems under the entry's path
/// (`users[3]`), which is only formatted when there is a problem.
struct Fields<'a> {
    list: &'static str,
    index: usize,
    /// Per position in the entry: the key already appeared earlier in it.
    repeated: Vec<bool>,
    position: usize,
    pending: &'a mut Vec<Pending>,
}

impl<'a> Fields<'a> {
    fn new(
        list: &'static str,
        index: usize,
        entry: &RawEntry,
        pending: &'a mut Vec<Pending>,
    ) -> Self {
        let keys: Vec<&str> = entry.0.iter().map(|(k, _)| k.as_str()).collect();
        let repeated = keys
            .iter()
            .enumerate()
            .map(|(i, k)| keys.get(..i).is_some_and(|before| before.contains(k)))
            .collect();
        Fields {
            list,
            index,
            repeated,
            position: 0,
            pending,
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}[{}].{key}", self.list, self.index)
    }

    fn problem(&mut self, key: &str, at_key: bool, message: String) {
        let field = self.path(key);
        self.pending.push(if at_key {
            Pending::key(field, message)
        } else {
            Pending::value(field, message)
        });
    }

    /// Called once per key, in entry order.
    fn first_time(&mut self, key: &str) -> bool {
        let repeated = self.repeated.get(self.position).copied().unwrap_or(false);
        self.position += 1;
        if attributes::is_directory_extension(key) || !key.starts_with("extension_") {
            if !repeated {
                return true;
            }
            self.problem(key, true, "duplicate key".to_owned());
            return false;
        }
        self.problem(
            key,
            true,
            "malformed directory extension name; expected extension_<32 hex digits of the app id>_<name>".to_owned(),
        );
        false
    }

    fn unknown<'c>(&mut self, name: &str, candidates: impl IntoIterator<Item = &'c str>) {
        let hint = yaml::did_you_mean(name, candidates)
            .map(|c| format!(" (did you mean \"{c}\"?)"))
            .unwrap_or_default();
        self.problem(name, true, format!("unknown field \"{name}\"{hint}"));
    }

    fn required(&mut self, key: &str, value: Option<String>) -> Option<String> {
        match value {
            Some(v) if !v.is_empty() => Some(v),
            Some(_) => {
                self.problem(key, false, "must not be empty".to_owned());
                None
            }
            None => {
                let field = self.path(key);
                self.pending.push(Pending {
                    field,
                    message: "missing required field".to_owned(),
                    at_key: false,
                });
                None
            }
        }
    }

    fn text(&mut self, key: &str, value: RawValue) -> Option<String> {
        match value {
            RawValue::Text(s) => Some(s),
            RawValue::Null => None,
            other => {
                self.problem(
                    key,
                    false,
                    format!("expected a string, found {}", other.kind()),
                );
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, value: RawValue) -> Option<bool> {
        match value {
            RawValue::Bool(b) => Some(b),
            other => {
                self.problem(
                    key,
                    false,
                    format!("expected true or false, found {}", other.kind()),
                );
                None
            }
        }
    }

    fn text_list(&mut self, key: &str, value: RawValue) -> Option<Vec<String>> {
        match value {
            RawValue::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (j, item) in items.into_iter().enumerate() {
                    match item {
                        RawValue::Text(s) => out.push(s),
                        other => self.problem(
                            &format!("{key}[{j}]"),
                            false,
                            format!("expected a string, found {}", other.kind()),
                        ),
                    }
                }
                Some(out)
            }
            RawValue::Null => None,
            other => {
                self.problem(
                    key,
                    false,
                    format!("expected a list of strings, found {}", other.kind()),
                );
                None
            }
        }
    }
}
