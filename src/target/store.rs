//! The in-memory store for one resource type: resources in creation order, server-owned `id` and
//! `meta`, the uniqueness rule (userName / group displayName, case-insensitive) and indexes on the
//! attributes Entra filters by (userName, externalId, `emails[type eq "work"].value`,
//! displayName) so a matching query is a lookup, not a scan.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::target::error::{ScimError, ScimType};
use crate::target::eval;
use crate::target::filter::{CompValue, CompareOp, Filter, Path};
use crate::target::patch::MemberOp;
use crate::target::schema::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IndexField {
    /// `userName` (users) or `displayName` (groups), lower-cased.
    Unique,
    /// `externalId`, exact (it is case-exact in RFC 7643).
    ExternalId,
    /// The `value` of every email whose `type` is "work", lower-cased.
    WorkEmail,
}

type Term = (IndexField, String);

struct Entry {
    seq: u64,
    version: u64,
    resource: Map<String, Value>,
    terms: Vec<Term>,
    /// A group's members by `value`, built on the first in-place member change (or member
    /// removal everywhere) and kept with it (any other change drops it), so adding or removing a
    /// batch costs the batch, not the group.
    members: Option<MemberIndex>,
}

/// A group's members by `value`, with each one's place in its `members` list.
struct MemberIndex {
    at: HashMap<String, usize>,
    /// Every member has a distinct string `value`, so a removal moves the last member into the
    /// gap instead of shifting the list: SCIM promises no order of a group's members, and a
    /// mass delete from a 400k-member group stays linear. Otherwise removals filter the list.
    exact: bool,
}

impl MemberIndex {
    fn of(items: &[Value]) -> Self {
        let mut at = HashMap::with_capacity(items.len());
        let mut exact = true;
        for (i, item) in items.iter().enumerate() {
            match member_value(item) {
                Some(v) => exact &= at.insert(v.to_string(), i).is_none(),
                None => exact = false,
            }
        }
        MemberIndex { at, exact }
    }

    fn of_resource(resource: &Map<String, Value>) -> Self {
        let items = eval::get_ci(resource, "members").and_then(Value::as_array);
        Self::of(items.map_or(&[][..], Vec::as_slice))
    }
}

fn member_value(member: &Value) -> Option<&str> {
    member.get("value").and_then(Value::as_str)
}

/// Resources of one [`Kind`], keyed by the server-assigned id.
pub struct Store {
    kind: Kind,
    next_seq: u64,
    entries: HashMap<String, Entry>,
    order: BTreeMap<u64, String>,
    index: HashMap<Term, BTreeMap<u64, String>>,
    /// Whether a second resource with a taken userName / displayName is refused (409).
    unique: bool,
}

fn is_plain(path: &Path, kind: Kind, attr: &str) -> bool {
    path.filter.is_none()
        && path.sub.is_none()
        && path.attr.eq_ignore_ascii_case(attr)
        && path
            .urn
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(kind.core_urn()))
}

fn index_terms(kind: Kind, res: &Map<String, Value>) -> Vec<Term> {
    let mut terms = Vec::new();
    if let Some(Value::String(u)) = eval::get_ci(res, kind.unique_attr()) {
        terms.push((IndexField::Unique, u.to_lowercase()));
    }
    if let Some(Value::String(x)) = eval::get_ci(res, "externalId") {
        terms.push((IndexField::ExternalId, x.clone()));
    }
    if kind == Kind::User
        && let Some(Value::Array(emails)) = eval::get_ci(res, "emails")
    {
        for email in emails.iter().filter_map(Value::as_object) {
            let work = matches!(eval::get_ci(email, "type"), Some(Value::String(t)) if t.eq_ignore_ascii_case("work"));
            if let (true, Some(Value::String(v))) = (work, eval::get_ci(email, "value")) {
                terms.push((IndexField::WorkEmail, v.to_lowercase()));
            }
        }
    }
    terms
}

impl Store {
    pub fn new(kind: Kind) -> Self {
        Store {
            kind,
            next_seq: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            index: HashMap::new(),
            unique: true,
        }
    }

    /// The store with the uniqueness rule on (the default) or off (the `no-uniqueness` quirk).
    pub fn with_uniqueness(self, unique: bool) -> Self {
        Store { unique, ..self }
    }

    pub fn get(&self, id: &str) -> Option<&Map<String, Value>> {
        self.entries.get(id).map(|e| &e.resource)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    fn check_unique(&self, terms: &[Term], except: Option<&str>) -> Result<(), ScimError> {
        if !self.unique {
            return Ok(());
        }
        for term in terms.iter().filter(|t| t.0 == IndexField::Unique) {
            let taken = self
                .index
                .get(term)
                .is_some_and(|ids| ids.values().any(|id| Some(id.as_str()) != except));
            if taken {
                return Err(ScimError::new(
                    409,
                    Some(ScimType::Uniqueness),
                    format!("{} '{}' is already in use", self.kind.unique_attr(), term.1),
                ));
            }
        }
        Ok(())
    }

    fn link(&mut self, seq: u64, id: &str, terms: &[Term]) {
        for t in terms {
            self.index
                .entry(t.clone())
                .or_default()
                .insert(seq, id.to_string());
        }
    }

    fn unlink(&mut self, seq: u64, terms: &[Term]) {
        for t in terms {
            if let Some(ids) = self.index.get_mut(t) {
                ids.remove(&seq);
                if ids.is_empty() {
                    self.index.remove(t);
                }
            }
        }
    }

    /// Stores a new resource under `id`, stamping `meta`; returns the stored resource.
    pub fn create(
        &mut self,
        id: String,
        mut content: Map<String, Value>,
        now: &str,
        base_url: &str,
    ) -> Result<Map<String, Value>, ScimError> {
        let terms = index_terms(self.kind, &content);
        self.check_unique(&terms, None)?;
        content.insert("id".into(), Value::String(id.clone()));
        content.insert(
            "meta".into(),
            json!({
                "resourceType": self.kind.resource_type(),
                "created": now,
                "lastModified": now,
                "location": format!("{base_url}/{}/{id}", self.kind.endpoint()),
                "version": "W/\"1\"",
            }),
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        self.link(seq, &id, &terms);
        self.order.insert(seq, id.clone());
        self.entries.insert(
            id,
            Entry {
                seq,
                version: 1,
                resource: content.clone(),
                terms,
                members: None,
            },
        );
        Ok(content)
    }

    /// Puts back a resource taken from a [`Snapshot`](super::Snapshot), keeping its `id` and `meta`
    /// (and counting versions on from `meta.version`), except that `meta.location` names this
    /// target's `base_url`: a snapshot outlives the port it was served on.
    pub fn restore(
        &mut self,
        mut content: Map<String, Value>,
        base_url: &str,
    ) -> Result<(), ScimError> {
        let id = content
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ScimError::new(400, None, "a snapshot resource has no id"))?;
        let mut version = 1;
        if let Some(Value::Object(meta)) = content.get_mut("meta") {
            if meta.contains_key("location") {
                let location = format!("{base_url}/{}/{id}", self.kind.endpoint());
                meta.insert("location".into(), Value::String(location));
            }
            version = meta
                .get("version")
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix("W/\"")?.strip_suffix('"')?.parse().ok())
                .unwrap_or(1);
        }
        let terms = index_terms(self.kind, &content);
        self.check_unique(&terms, None)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.link(seq, &id, &terms);
        self.order.insert(seq, id.clone());
        self.entries.insert(
            id,
            Entry {
                seq,
                version,
                resource: content,
                terms,
                members: None,
            },
        );
        Ok(())
    }

    /// Replaces the content of `id` (keeping `id`, `meta.created`, `meta.location`).
    pub fn update(
        &mut self,
        id: &str,
        mut content: Map<String, Value>,
        now: &str,
    ) -> Result<Map<String, Value>, ScimError> {
        let terms = index_terms(self.kind, &content);
        self.check_unique(&terms, Some(id))?;
        let Some(entry) = self.entries.get_mut(id) else {
            return Err(ScimError::not_found(format!("Resource {id} not found")));
        };
        content.insert("id".into(), Value::String(id.into()));
        if let Some(meta) = entry.resource.remove("meta") {
            content.insert("meta".into(), meta);
        }
        touch(entry, &mut content, now);
        let old_terms = std::mem::replace(&mut entry.terms, terms.clone());
        entry.members = None;
        entry.resource = content.clone();
        let seq = entry.seq;
        self.unlink(seq, &old_terms);
        self.link(seq, id, &terms);
        Ok(content)
    }

    pub fn delete(&mut self, id: &str) -> bool {
        let Some(entry) = self.entries.remove(id) else {
            return false;
        };
        self.order.remove(&entry.seq);
        self.unlink(entry.seq, &entry.terms);
        true
    }

    /// The index term that answers `filter` exactly, when there is one.
    fn lookup_term(&self, f: &Filter) -> Option<Term> {
        let Filter::Compare(path, CompareOp::Eq, CompValue::Str(v)) = f else {
            return None;
        };
        if is_plain(path, self.kind, self.kind.unique_attr()) {
            return Some((IndexField::Unique, v.to_lowercase()));
        }
        if is_plain(path, self.kind, "externalId") {
            return Some((IndexField::ExternalId, v.clone()));
        }
        let work_filter = matches!(
            path.filter.as_deref(),
            Some(Filter::Compare(p, CompareOp::Eq, CompValue::Str(t)))
                if is_plain(p, self.kind, "type") && t.eq_ignore_ascii_case("work")
        );
        let email_value = self.kind == Kind::User
            && path.urn.is_none()
            && path.attr.eq_ignore_ascii_case("emails")
            && path
                .sub
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("value"));
        (work_filter && email_value).then(|| (IndexField::WorkEmail, v.to_lowercase()))
    }

    /// Candidate ids for `filter` from an index, in creation order; `None` means "scan".
    fn candidates(&self, f: &Filter) -> Option<Vec<&String>> {
        if let Filter::Compare(path, CompareOp::Eq, CompValue::Str(v)) = f
            && is_plain(path, self.kind, "id")
        {
            return Some(
                self.entries
                    .get_key_value(v)
                    .map(|(k, _)| k)
                    .into_iter()
                    .collect(),
            );
        }
        if let Some(term) = self.lookup_term(f) {
            return Some(
                self.index
                    .get(&term)
                    .map(|ids| ids.values().collect())
                    .unwrap_or_default(),
            );
        }
        match f {
            Filter::And(a, b) => self.candidates(a).or_else(|| self.candidates(b)),
            _ => None,
        }
    }

    /// Every resource matching `filter` (all of them for `None`), in creation order.
    pub fn query(&self, f: Option<&Filter>) -> Vec<&Map<String, Value>> {
        let ids: Vec<&String> = match f.and_then(|f| self.candidates(f)) {
            Some(ids) => ids,
            None => self.order.values().collect(),
        };
        let core = self.kind.core_urn();
        ids.into_iter()
            .filter_map(|id| self.get(id))
            .filter(|r| f.is_none_or(|f| eval::matches(f, r, core, None)))
            .collect()
    }

    /// Drops `member_id` from every group's `members` (a deleted user leaves its groups). Each
    /// group's member set (built once, then kept in step by [`Store::patch_members`]) answers
    /// without a scan of its list: a million memberships are not walked for every deleted user.
    pub fn remove_member_everywhere(&mut self, member_id: &str, now: &str) {
        let holding: Vec<String> = self
            .entries
            .iter_mut()
            .filter_map(|(id, e)| {
                e.members
                    .get_or_insert_with(|| MemberIndex::of_resource(&e.resource))
                    .at
                    .contains_key(member_id)
                    .then(|| id.clone())
            })
            .collect();
        let gone = [member_id.to_string()];
        for id in holding {
            // Removing a member cannot fail.
            let _ = self.patch_members(&id, &[MemberOp::Remove(gone.to_vec())], now);
        }
    }

    /// Applies member adds and removes to group `id` in place (see [`MemberOp`]), bumping its
    /// version; the changed resource, for a reply that returns it.
    pub fn patch_members(
        &mut self,
        id: &str,
        ops: &[MemberOp],
        now: &str,
    ) -> Result<&Map<String, Value>, ScimError> {
        let Some(entry) = self.entries.get_mut(id) else {
            return Err(ScimError::not_found(format!("Resource {id} not found")));
        };
        let key = eval::key_of(&entry.resource, "members")
            .cloned()
            .unwrap_or_else(|| "members".to_string());
        let mut resource = std::mem::take(&mut entry.resource);
        let slot = resource
            .entry(key)
            .or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
            entry.members = None;
        }
        let Value::Array(items) = slot else {
            entry.resource = resource;
            return Err(ScimError::new(500, None, "members is not a list"));
        };
        let index = entry.members.get_or_insert_with(|| MemberIndex::of(items));
        for op in ops {
            match op {
                MemberOp::Add(new) => {
                    for member in new {
                        if let Some(v) = member_value(member)
                            && !index.at.contains_key(v)
                        {
                            index.at.insert(v.to_string(), items.len());
                            items.push(member.clone());
                        }
                    }
                }
                MemberOp::Remove(values) if index.exact => {
                    for v in values {
                        let Some(i) = index.at.remove(v.as_str()) else {
                            continue;
                        };
                        items.swap_remove(i);
                        if let Some(slot) = items
                            .get(i)
                            .and_then(member_value)
                            .and_then(|moved| index.at.get_mut(moved))
                        {
                            *slot = i;
                        }
                    }
                }
                MemberOp::Remove(values) => {
                    let gone: HashSet<&str> = values
                        .iter()
                        .map(String::as_str)
                        .filter(|v| index.at.contains_key(*v))
                        .collect();
                    if !gone.is_empty() {
                        items.retain(|m| !member_value(m).is_some_and(|v| gone.contains(v)));
                        *index = MemberIndex::of(items);
                    }
                }
            }
        }
        touch(entry, &mut resource, now);
        entry.resource = resource;
        Ok(&entry.resource)
    }
}

/// A new version of `entry`: `meta.version` and `meta.lastModified` in `content`.
fn touch(entry: &mut Entry, content: &mut Map<String, Value>, now: &str) {
    entry.version += 1;
    let meta = content
        .entry("meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        meta.insert("lastModified".into(), Value::String(now.into()));
        meta.insert(
            "version".into(),
            Value::String(format!("W/\"{}\"", entry.version)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn indexes_follow_updates_and_deletes() {
        let mut s = Store::new(Kind::User);
        let a = s
            .create(
                "a".into(),
                obj(json!({"userName": "Ann", "emails": [{"type": "work", "value": "A@x.com"}]})),
                "t0",
                "http://h/scim/v2",
            )
            .unwrap();
        assert_eq!(a["meta"]["location"], "http://h/scim/v2/Users/a");
        let f = crate::target::filter::parse_filter(r#"emails[type eq "Work"].value eq "a@X.com""#)
            .unwrap();
        assert_eq!(s.query(Some(&f)).len(), 1);
        let dup = s.create("b".into(), obj(json!({"userName": "ANN"})), "t0", "h");
        assert_eq!(dup.unwrap_err().status, 409);
        s.update("a", obj(json!({"userName": "Bob"})), "t1")
            .unwrap();
        assert_eq!(s.query(Some(&f)).len(), 0);
        let by_name = crate::target::filter::parse_filter(r#"userName eq "bob""#).unwrap();
        assert_eq!(s.query(Some(&by_name)).len(), 1);
        assert_eq!(s.get("a").unwrap()["meta"]["version"], "W/\"2\"");
        assert!(s.delete("a"));
        assert_eq!(s.query(Some(&by_name)).len(), 0);
        s.create("b".into(), obj(json!({"userName": "ann"})), "t2", "h")
            .unwrap();
    }

    /// A group's members as a set: the in-place path may reorder them (SCIM promises no
    /// order of members), the general one does not.
    fn member_set(members: &Value) -> Vec<String> {
        let mut out: Vec<String> = members
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.to_string())
            .collect();
        out.sort();
        out
    }

    /// Applies PATCH operations `ops` to group `g` in place and to `general` by the general
    /// path, checks that both hold the same members, and returns the in-place version.
    fn both_paths(
        fast: &mut Store,
        general: &mut Map<String, Value>,
        ops: Value,
        what: &str,
    ) -> Value {
        use crate::target::patch;
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        let ops = patch::parse(&body).unwrap();
        let member_ops = patch::member_ops(Kind::Group, &ops).expect("plain member ops");
        let got = fast.patch_members("g", &member_ops, "t1").unwrap();
        patch::apply(Kind::Group, general, &ops).unwrap();
        assert_eq!(
            member_set(&got["members"]),
            member_set(&general["members"]),
            "{what}"
        );
        got["meta"]["version"].clone()
    }

    /// The in-place member path gives what applying the same PATCH to a copy gives, and keeps
    /// giving it as the cached member index follows several changes.
    #[test]
    fn in_place_member_changes_match_the_general_patch() {
        use crate::target::patch;
        let start = json!({"displayName": "g", "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]});
        let rounds = [
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "d"}, {"value": "a"}]}]),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "b"}, {"value": "zz"}]}]),
            json!([{"op": "Add", "path": "members", "value": [{"value": "e"}, {"value": "e"}, {"value": "b"}]}]),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}]},
                   {"op": "Add", "path": "members", "value": [{"value": "a"}]}]),
        ];
        let mut fast = Store::new(Kind::Group);
        fast.create("g".into(), obj(start.clone()), "t0", "h")
            .unwrap();
        let mut general = obj(start);
        for (i, ops) in rounds.iter().enumerate() {
            let version = both_paths(&mut fast, &mut general, ops.clone(), &format!("round {i}"));
            assert_eq!(version, format!("W/\"{}\"", i + 2));
        }
        // A filter path, a replace or a member with `primary` take the general path.
        for ops in [
            json!([{"op": "remove", "path": "members[value eq \"a\"]"}]),
            json!([{"op": "replace", "path": "members", "value": [{"value": "a"}]}]),
            json!([{"op": "add", "path": "members", "value": [{"value": "a", "primary": "yes"}]}]),
            json!([{"op": "remove", "path": "members"}]),
        ] {
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
            assert!(patch::member_ops(Kind::Group, &patch::parse(&body).unwrap()).is_none());
        }
        // A general update drops the cached set; the next in-place change rebuilds it.
        fast.update(
            "g",
            obj(json!({"displayName": "g", "members": [{"value": "x"}]})),
            "t2",
        )
        .unwrap();
        let add = patch::member_ops(
            Kind::Group,
            &patch::parse(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": "x"}, {"value": "y"}]}]}))
            .unwrap(),
        )
        .unwrap();
        let got = fast.patch_members("g", &add, "t3").unwrap();
        assert_eq!(got["members"], json!([{"value": "x"}, {"value": "y"}]));
        // Deleting a user takes it out of every group.
        fast.remove_member_everywhere("x", "t4");
        assert_eq!(fast.get("g").unwrap()["members"], json!([{"value": "y"}]));
        // A group never changed in place is asked through a set built on the spot.
        fast.create(
            "h".into(),
            obj(json!({"displayName": "h", "members": [{"value": "y"}, {"value": "z"}]})),
            "t5",
            "http://h/scim/v2",
        )
        .unwrap();
        let g_version = fast.get("g").unwrap()["meta"]["version"].clone();
        fast.remove_member_everywhere("z", "t6");
        assert_eq!(fast.get("h").unwrap()["members"], json!([{"value": "y"}]));
        assert_eq!(
            fast.get("g").unwrap()["meta"]["version"],
            g_version,
            "g untouched"
        );
        fast.remove_member_everywhere("y", "t7");
        assert_eq!(fast.get("h").unwrap()["members"], json!([]));
        assert_eq!(fast.get("g").unwrap()["members"], json!([]));
    }

    /// Many random adds and removes, from a group whose values are distinct (removals move the
    /// last member into the gap) and from one with a repeated value (removals filter the list):
    /// each step equals the general patch, as a set.
    #[test]
    fn random_member_changes_match_the_general_patch_as_sets() {
        let starts = [
            json!({"displayName": "g", "members": [{"value": "m0"}, {"value": "m1"}, {"value": "m2"}]}),
            json!({"displayName": "g", "members": [{"value": "m0"}, {"value": "m0"}, {"value": "m3"}]}),
        ];
        for start in starts {
            let mut fast = Store::new(Kind::Group);
            fast.create("g".into(), obj(start.clone()), "t0", "h")
                .unwrap();
            let mut general = obj(start);
            let mut seed: u64 = 7;
            let mut next = |n: u64| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) % n
            };
            for step in 0..300 {
                let op = if next(2) == 0 { "Add" } else { "Remove" };
                let values: Vec<Value> = (0..=next(4))
                    .map(|_| json!({"value": format!("m{}", next(12))}))
                    .collect();
                let ops = json!([{"op": op, "path": "members", "value": values}]);
                both_paths(&mut fast, &mut general, ops, &format!("step {step}"));
            }
        }
    }

    /// A restored resource keeps its id, times and version, and is located at the target that
    /// restored it.
    #[test]
    fn a_restored_resource_names_its_new_port_and_counts_versions_on() {
        let mut old = Store::new(Kind::User);
        old.create(
            "a".into(),
            obj(json!({"userName": "ann"})),
            "t0",
            "http://127.0.0.1:1111/scim/v2",
        )
        .unwrap();
        old.update("a", obj(json!({"userName": "ann", "active": true})), "t1")
            .unwrap();
        let saved = old.get("a").unwrap().clone();
        assert_eq!(saved["meta"]["version"], "W/\"2\"");
        let mut new = Store::new(Kind::User);
        new.restore(saved, "http://127.0.0.1:2222/scim/v2").unwrap();
        let restored = new.get("a").unwrap();
        assert_eq!(
            restored["meta"]["location"],
            "http://127.0.0.1:2222/scim/v2/Users/a"
        );
        assert_eq!(restored["meta"]["created"], "t0");
        new.update("a", obj(json!({"userName": "ann", "active": false})), "t2")
            .unwrap();
        assert_eq!(new.get("a").unwrap()["meta"]["version"], "W/\"3\"");
    }
}
