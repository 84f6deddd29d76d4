//! PATCH (RFC 7644 §3.5.2) as a server that works with Entra must apply it: ops case-insensitive,
//! path-less ops whose value keys are attribute paths (`name.givenName`, full-URN keys), value
//! paths that create the element they filter for, `manager` given as a plain id or removed as
//! `manager[value eq "…"]`, and member removal by a value list that removes only the listed
//! members. Applied to a copy: all ops or none.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::target::error::{ScimError, ScimType};
use crate::target::eval::{self, get_ci, key_of};
use crate::target::filter::{self, CompValue, CompareOp, Filter, Path};
use crate::target::resource::{normalize, strip_nulls};
use crate::target::schema::{self, Kind, PATCH_URN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One parsed PATCH operation.
#[derive(Debug, Clone)]
pub struct PatchOp {
    pub kind: OpKind,
    pub path: Option<Path>,
    pub value: Option<Value>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

fn bad_path(text: &str, e: &filter::SyntaxError) -> ScimError {
    ScimError::bad(ScimType::InvalidPath, format!("path '{text}': {e}"))
}

/// Parses a PatchOp message body.
pub fn parse(body: &Value) -> Result<Vec<PatchOp>, ScimError> {
    let Some(map) = body.as_object() else {
        return Err(syntax("the request body must be a JSON object"));
    };
    let has_urn = matches!(get_ci(map, "schemas"), Some(Value::Array(s))
        if s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_URN))));
    if !has_urn {
        return Err(syntax(format!("'schemas' must contain {PATCH_URN}")));
    }
    let Some(Value::Array(list)) = get_ci(map, "Operations") else {
        return Err(syntax("'Operations' must be a list"));
    };
    if list.is_empty() {
        return Err(syntax("'Operations' is empty"));
    }
    list.iter().map(parse_op).collect()
}

fn parse_op(raw: &Value) -> Result<PatchOp, ScimError> {
    let Some(map) = raw.as_object() else {
        return Err(syntax("each operation must be an object"));
    };
    let op = get_ci(map, "op")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = match op.to_ascii_lowercase().as_str() {
        "add" => OpKind::Add,
        "replace" => OpKind::Replace,
        "remove" => OpKind::Remove,
        _ => return Err(syntax(format!("unknown op '{op}'"))),
    };
    let path = match get_ci(map, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            Some(filter::parse_path(text).map_err(|e| bad_path(text, &e))?)
        }
        Some(_) => {
            return Err(ScimError::bad(
                ScimType::InvalidPath,
                "'path' must be a string",
            ));
        }
    };
    let value = get_ci(map, "value").cloned();
    if kind == OpKind::Remove && path.is_none() {
        return Err(ScimError::bad(ScimType::NoTarget, "remove needs a 'path'"));
    }
    if kind != OpKind::Remove && value.is_none() {
        return Err(syntax(format!("'{op}' needs a 'value'")));
    }
    Ok(PatchOp { kind, path, value })
}

/// Member ids that `ops` would add, so the caller can check they exist before applying.
pub fn added_members(ops: &[PatchOp]) -> Vec<String> {
    let mut ids = Vec::new();
    for op in ops.iter().filter(|o| o.kind != OpKind::Remove) {
        let list = match (&op.path, &op.value) {
            (Some(p), Some(v)) if p.attr.eq_ignore_ascii_case("members") && p.filter.is_none() => {
                Some(v)
            }
            (None, Some(Value::Object(m))) => get_ci(m, "members"),
            _ => None,
        };
        if let Some(Value::Array(items)) = list {
            ids.extend(
                items
                    .iter()
                    .filter_map(|m| m.get("value").and_then(Value::as_str))
                    .map(str::to_string),
            );
        }
    }
    ids
}

/// A group PATCH that only adds or removes members by `value` — what Entra sends for membership.
#[derive(Debug)]
pub enum MemberOp {
    /// Add these members (objects, nulls stripped), skipping ones present.
    Add(Vec<Value>),
    /// Remove the members with these `value`s.
    Remove(Vec<String>),
}

/// `ops` as [`MemberOp`]s when every op is a plain `add`/`remove` on `members` whose elements
/// are objects with a string `value` and no `primary` (which would need validating) — such ops
/// cannot fail, so the target applies them in place instead of to a copy of a large group.
pub fn member_ops(kind: Kind, ops: &[PatchOp]) -> Option<Vec<MemberOp>> {
    if kind != Kind::Group {
        return None;
    }
    ops.iter()
        .map(|op| {
            let path = op.path.as_ref()?;
            let plain = path.attr.eq_ignore_ascii_case("members")
                && path.urn.is_none()
                && path.filter.is_none()
                && path.sub.is_none();
            let Some(Value::Array(items)) = &op.value else {
                return None;
            };
            let simple = |m: &&Value| {
                m.as_object().is_some_and(|o| {
                    o.get("value").is_some_and(Value::is_string) && get_ci(o, "primary").is_none()
                })
            };
            if !plain || !items.iter().all(|m| simple(&m)) {
                return None;
            }
            match op.kind {
                OpKind::Add => Some(MemberOp::Add(
                    items.iter().cloned().map(strip_nulls).collect(),
                )),
                OpKind::Remove => Some(MemberOp::Remove(
                    items
                        .iter()
                        .filter_map(|m| m.get("value").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect(),
                )),
                OpKind::Replace => None,
            }
        })
        .collect()
}

/// Applies `ops` to `res` in order and re-validates the result.
pub fn apply(kind: Kind, res: &mut Map<String, Value>, ops: &[PatchOp]) -> Result<(), ScimError> {
    for op in ops {
        let value = op.value.clone().map(strip_nulls);
        match &op.path {
            None => apply_pathless(kind, res, op.kind, value.as_ref())?,
            Some(p) => apply_path(kind, res, op.kind, p, value.as_ref())?,
        }
    }
    normalize(kind, res)
}

/// `{"op":"replace","value":{"name.givenName":"…","urn:…:User:employeeNumber":"…"}}` — each key
/// is a path (pitfall 5), so it is applied as if it had been the op's `path`.
fn apply_pathless(
    kind: Kind,
    res: &mut Map<String, Value>,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let Some(Value::Object(m)) = value else {
        return Err(invalid(
            "an operation without 'path' needs an object 'value'",
        ));
    };
    for (k, v) in m {
        if schema::is_schema_key(k) {
            let Value::Object(inner) = v else {
                return Err(invalid(format!("'{k}' must be an object")));
            };
            if k.eq_ignore_ascii_case(kind.core_urn()) {
                apply_pathless(kind, res, op, Some(v))?;
                continue;
            }
            for (k2, v2) in inner {
                let text = format!("{k}:{k2}");
                let p = filter::parse_path(&text).map_err(|e| bad_path(&text, &e))?;
                apply_path(kind, res, op, &p, Some(v2))?;
            }
        } else {
            let p = filter::parse_path(k).map_err(|e| bad_path(k, &e))?;
            apply_path(kind, res, op, &p, Some(v))?;
        }
    }
    Ok(())
}

fn apply_path(
    kind: Kind,
    res: &mut Map<String, Value>,
    op: OpKind,
    path: &Path,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    // Entra's flag dialect clears a manager as `remove` of `manager[value eq "<id>"]`, without
    // the enterprise URN (thomaspoignant/scim-patch#453); `manager` is no core User attribute.
    if kind == Kind::User && path.urn.is_none() && path.attr.eq_ignore_ascii_case("manager") {
        return match (&path.filter, op, &path.sub) {
            (Some(f), OpKind::Remove, None) => remove_manager_where(res, f),
            _ => {
                let qualified = Path {
                    urn: Some(schema::ENTERPRISE_URN.to_string()),
                    ..path.clone()
                };
                apply_path(kind, res, op, &qualified, value)
            }
        };
    }
    let core = path
        .urn
        .as_deref()
        .is_none_or(|u| u.eq_ignore_ascii_case(kind.core_urn()));
    if core && (path.attr.eq_ignore_ascii_case("id") || path.attr.eq_ignore_ascii_case("meta")) {
        return Err(ScimError::bad(
            ScimType::Mutability,
            format!("'{}' is read-only", path.attr),
        ));
    }
    // Replacing with null is how a client clears an attribute (RFC 7644 §3.5.2.3).
    let (op, value) = match (op, value) {
        (OpKind::Replace, Some(Value::Null)) => (OpKind::Remove, None),
        (OpKind::Add, Some(Value::Null)) => return Ok(()),
        other => other,
    };
    let holder = if core {
        res
    } else {
        let urn = path.urn.clone().unwrap_or_default();
        let key = key_of(res, &urn).cloned().unwrap_or(urn);
        if op == OpKind::Remove && !res.contains_key(&key) {
            return Ok(());
        }
        let Value::Object(ext) = res
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()))
        else {
            return Err(invalid(format!("'{key}' is not an object")));
        };
        ext
    };
    let key = key_of(holder, &path.attr)
        .cloned()
        .unwrap_or_else(|| path.attr.clone());
    let is_manager = path.urn.as_deref().is_some_and(schema::is_enterprise)
        && path.attr.eq_ignore_ascii_case("manager")
        && path.filter.is_none();
    if is_manager {
        return apply_manager(holder, &key, op, value);
    }
    match (&path.filter, &path.sub) {
        (Some(f), sub) => apply_value_path(holder, &key, f, sub.as_deref(), op, value),
        (None, Some(sub)) => apply_sub(holder, &key, sub, op, value),
        (None, None) => apply_attr(holder, &key, op, value),
    }
}

/// Entra sends the manager as a plain id string (pitfall 6); store the RFC complex form.
fn apply_manager(
    holder: &mut Map<String, Value>,
    key: &str,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let id = match (op, value) {
        (OpKind::Remove, _) => None,
        (_, Some(Value::String(s))) => Some(s.clone()),
        (_, Some(Value::Object(m))) => match m.get("value") {
            Some(Value::String(s)) => Some(s.clone()),
            None => None,
            Some(_) => return Err(invalid("'manager.value' must be a string")),
        },
        _ => return Err(invalid("'manager' must be an id string or {\"value\": id}")),
    };
    match id.filter(|s| !s.is_empty()) {
        Some(id) => {
            let mut m = match value {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            m.insert("value".into(), Value::String(id));
            holder.insert(key.to_string(), Value::Object(m));
        }
        None => {
            holder.remove(key);
        }
    }
    Ok(())
}

/// Removes the enterprise manager when `f` matches it (`value eq "<id>"`); no match is `noTarget`,
/// as for any value filter that selects nothing.
fn remove_manager_where(res: &mut Map<String, Value>, f: &Filter) -> Result<(), ScimError> {
    let extension = key_of(res, schema::ENTERPRISE_URN)
        .cloned()
        .and_then(|k| res.get_mut(&k))
        .and_then(Value::as_object_mut);
    let Some(extension) = extension else {
        return Err(ScimError::bad(
            ScimType::NoTarget,
            "the user has no manager",
        ));
    };
    let key = key_of(extension, "manager").cloned();
    let matched = key.as_ref().is_some_and(|k| {
        extension
            .get(k)
            .and_then(Value::as_object)
            .is_some_and(|m| eval::matches(f, m, "", Some("manager")))
    });
    match key {
        Some(k) if matched => {
            extension.remove(&k);
            Ok(())
        }
        _ => Err(ScimError::bad(
            ScimType::NoTarget,
            "no manager matches the filter",
        )),
    }
}

/// The element a value filter describes (`type eq "work"` → `{"type":"work"}`), when the filter
/// is a conjunction of plain `eq` comparisons.
fn seed_element(f: &Filter) -> Option<Map<String, Value>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, v)
            if p.urn.is_none() && p.filter.is_none() && p.sub.is_none() =>
        {
            let v = match v {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Num(n) => serde_json::Number::from_f64(*n).map(Value::Number)?,
                CompValue::Null => return None,
            };
            Some(Map::from_iter([(p.attr.clone(), v)]))
        }
        Filter::And(a, b) => {
            let mut m = seed_element(a)?;
            m.extend(seed_element(b)?);
            Some(m)
        }
        _ => None,
    }
}

fn apply_value_path(
    holder: &mut Map<String, Value>,
    key: &str,
    f: &Filter,
    sub: Option<&str>,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    if op == OpKind::Remove {
        remove_value_path(holder, key, f, sub);
        return Ok(());
    }
    let hit = |e: &Value| matches_element(e, f, key);
    let Some(value) = value else {
        return Err(syntax("missing 'value'"));
    };
    let Value::Array(items) = holder
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()))
    else {
        return Err(invalid(format!("'{key}' is not multi-valued")));
    };
    let mut targets: Vec<usize> = (0..items.len())
        .filter(|&i| items.get(i).is_some_and(hit))
        .collect();
    if targets.is_empty() {
        // Entra expects add semantics even for replace (pitfall 7), so create the element.
        let Some(seed) = seed_element(f) else {
            return Err(ScimError::bad(
                ScimType::NoTarget,
                format!("no '{key}' element matches the filter"),
            ));
        };
        items.push(Value::Object(seed));
        targets.push(items.len() - 1);
    }
    for i in targets {
        let Some(Value::Object(m)) = items.get_mut(i) else {
            return Err(invalid(format!("'{key}' elements must be objects")));
        };
        match (sub, value) {
            (Some(sub), v) => {
                let k = key_of(m, sub).cloned().unwrap_or_else(|| sub.to_string());
                m.insert(k, v.clone());
            }
            (None, Value::Object(fields)) => merge(m, fields),
            (None, _) => return Err(invalid(format!("'{key}[…]' needs an object value"))),
        }
    }
    Ok(())
}

/// Whether element `e` of multi-valued attribute `key` matches `f`.
fn matches_element(e: &Value, f: &Filter, key: &str) -> bool {
    e.as_object()
        .is_some_and(|m| eval::matches(f, m, "", Some(key)))
}

/// `remove` with `key[f]` (or `key[f].sub`): drops the matching elements (or their `sub`), and
/// the attribute once empty, except `members`.
fn remove_value_path(holder: &mut Map<String, Value>, key: &str, f: &Filter, sub: Option<&str>) {
    let Some(Value::Array(items)) = holder.get_mut(key) else {
        return;
    };
    match sub {
        None => items.retain(|e| !matches_element(e, f, key)),
        Some(sub) => {
            for m in items
                .iter_mut()
                .filter(|e| matches_element(e, f, key))
                .filter_map(Value::as_object_mut)
            {
                if let Some(k) = key_of(m, sub).cloned() {
                    m.remove(&k);
                }
            }
        }
    }
    if items.is_empty() && !key.eq_ignore_ascii_case("members") {
        holder.remove(key);
    }
}

fn merge(into: &mut Map<String, Value>, fields: &Map<String, Value>) {
    for (k, v) in fields {
        let key = key_of(into, k).cloned().unwrap_or_else(|| k.clone());
        into.insert(key, v.clone());
    }
}

fn apply_sub(
    holder: &mut Map<String, Value>,
    key: &str,
    sub: &str,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let set = |m: &mut Map<String, Value>| {
        let k = key_of(m, sub).cloned().unwrap_or_else(|| sub.to_string());
        match (op, value) {
            (OpKind::Remove, _) | (_, None) => {
                m.remove(&k);
            }
            (_, Some(v)) => {
                m.insert(k, v.clone());
            }
        }
    };
    match holder.get_mut(key) {
        Some(Value::Object(m)) => set(m),
        Some(Value::Array(items)) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(set),
        None if op != OpKind::Remove => {
            let mut m = Map::new();
            set(&mut m);
            holder.insert(key.to_string(), Value::Object(m));
        }
        None => {}
        Some(_) => return Err(invalid(format!("'{key}' has no sub-attributes"))),
    }
    Ok(())
}

/// Whether stored element `have` is the one `want` names: by `value` when given (how members and
/// roles are identified), else by every field of `want`.
fn names(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => match w.get("value") {
            Some(v) => h.get("value") == Some(v),
            None => w.iter().all(|(k, v)| get_ci(h, k) == Some(v)),
        },
        _ => have == want,
    }
}

fn apply_attr(
    holder: &mut Map<String, Value>,
    key: &str,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let is_members = key.eq_ignore_ascii_case("members");
    match (op, value, holder.get_mut(key)) {
        // Entra's member removal (pitfall 4): remove only the listed elements.
        (OpKind::Remove, Some(Value::Array(wanted)), Some(Value::Array(items))) => {
            items.retain(|e| !wanted.iter().any(|w| names(e, w)));
            if items.is_empty() && !is_members {
                holder.remove(key);
            }
        }
        (OpKind::Remove, _, _) => {
            if is_members {
                holder.insert(key.to_string(), Value::Array(Vec::new()));
            } else {
                holder.remove(key);
            }
        }
        (OpKind::Add, Some(Value::Array(new)), Some(Value::Array(items))) => {
            // The `value`s present, in a set: adding a batch of members to a large group costs
            // one pass over it, not one per added member (the scale benchmark's group phase).
            let mut present: HashSet<String> = items
                .iter()
                .filter_map(|e| e.get("value").and_then(Value::as_str).map(str::to_string))
                .collect();
            for n in new {
                let known = match n.get("value").and_then(Value::as_str) {
                    Some(v) => !present.insert(v.to_string()),
                    None => items.iter().any(|e| names(e, n)),
                };
                if !known {
                    items.push(n.clone());
                }
            }
        }
        (OpKind::Add | OpKind::Replace, Some(Value::Object(fields)), Some(Value::Object(m))) => {
            merge(m, fields)
        }
        (_, Some(v), _) => {
            holder.insert(key.to_string(), v.clone());
        }
        (_, None, _) => return Err(syntax("missing 'value'")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(kind: Kind, start: Value, ops: Value) -> Result<Value, ScimError> {
        let mut res = start.as_object().cloned().unwrap_or_default();
        let body = json!({"schemas": [PATCH_URN], "Operations": ops});
        apply(kind, &mut res, &parse(&body)?)?;
        Ok(Value::Object(res))
    }

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn user_vectors() {
        let base =
            json!({"userName": "a", "active": true, "emails": [{"type": "home", "value": "h"}]});
        let cases = [
            (
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
                "/active",
                json!(false),
            ),
            (
                json!([{"op": "replace", "path": "active", "value": true}]),
                "/active",
                json!(true),
            ),
            (
                json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w"}]),
                "/emails/1",
                json!({"type": "work", "value": "w"}),
            ),
            (
                json!([{"op": "Add", "path": "emails[type eq \"work\"].primary", "value": "True"}]),
                "/emails/1/primary",
                json!(true),
            ),
            (
                json!([{"op": "replace", "value": {"name.givenName": "G", format!("{ENT}:employeeNumber"): "7"}}]),
                "/name/givenName",
                json!("G"),
            ),
            (
                json!([{"op": "replace", "value": {"name.givenName": "G", format!("{ENT}:employeeNumber"): "7"}}]),
                &format!("/{}/employeeNumber", ENT.replace('/', "~1")),
                json!("7"),
            ),
            (
                json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "m1"}]),
                &format!("/{ENT}/manager"),
                json!({"value": "m1"}),
            ),
            (
                json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "m1"},
                    {"op": "Replace", "path": format!("{ENT}:manager"), "value": ""}]),
                &format!("/{ENT}"),
                json!({}),
            ),
            (
                json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "m1"},
                    {"op": "Remove", "path": format!("{ENT}:manager"), "value": [{"value": "m1"}]}]),
                &format!("/{ENT}"),
                json!({}),
            ),
            (
                json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "m1"},
                    {"op": "remove", "path": "manager[value eq \"m1\"]"}]),
                &format!("/{ENT}"),
                json!({}),
            ),
            (
                json!([{"op": "Add", "path": "roles", "value": [{"value": "{\"id\":\"r\"}"}]}]),
                "/roles/0/value",
                json!("{\"id\":\"r\"}"),
            ),
            (
                json!([{"op": "Replace", "path": "nickName", "value": null}, {"op": "Add", "path": "nickName", "value": "n"}]),
                "/nickName",
                json!("n"),
            ),
            (
                json!([{"op": "add", "value": {"urn:ietf:params:scim:schemas:extension:Contoso:2.0:User": {"localUsername": "l"}}}]),
                "/urn:ietf:params:scim:schemas:extension:Contoso:2.0:User/localUsername",
                json!("l"),
            ),
            (
                json!([{"op": "Remove", "path": "emails[type eq \"home\"]"}]),
                "/emails",
                Value::Null,
            ),
        ];
        for (ops, pointer, want) in cases {
            let out =
                run(Kind::User, base.clone(), ops.clone()).unwrap_or_else(|e| panic!("{ops}: {e}"));
            assert_eq!(
                out.pointer(pointer).cloned().unwrap_or(Value::Null),
                want,
                "{ops}\n{out}"
            );
        }
    }

    #[test]
    fn no_literal_dotted_keys() {
        let out = run(
            Kind::User,
            json!({"userName": "a"}),
            json!([{"op": "Add", "value": {"name.familyName": "F", "displayName": "D"}}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"userName": "a", "displayName": "D", "name": {"familyName": "F"}})
        );
    }

    #[test]
    fn group_members() {
        let g = json!({"displayName": "g", "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]});
        let cases = [
            (
                json!([{"op": "Remove", "path": "members", "value": [{"value": "b"}]}]),
                json!([{"value": "a"}, {"value": "c"}]),
            ),
            (
                json!([{"op": "remove", "path": "members[value eq \"a\"]"}]),
                json!([{"value": "b"}, {"value": "c"}]),
            ),
            (json!([{"op": "Remove", "path": "members"}]), json!([])),
            (
                json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "d"}, {"value": "a"}]}]),
                json!([{"value": "a"}, {"value": "b"}, {"value": "c"}, {"value": "d"}]),
            ),
            (
                json!([{"op": "Remove", "path": "members", "value": [{"value": "zz"}]}]),
                g["members"].clone(),
            ),
            (
                json!([{"op": "Add", "path": "members", "value": [{"value": "e"}, {"value": "e"}, {"value": "c"}]}]),
                json!([{"value": "a"}, {"value": "b"}, {"value": "c"}, {"value": "e"}]),
            ),
        ];
        for (ops, want) in cases {
            let out = run(Kind::Group, g.clone(), ops.clone()).unwrap();
            assert_eq!(out["members"], want, "{ops}");
        }
    }

    #[test]
    fn errors() {
        let base = json!({"userName": "a"});
        let cases = [
            (
                json!([{"op": "Merge", "path": "x", "value": 1}]),
                ScimType::InvalidSyntax,
            ),
            (
                json!([{"op": "Add", "path": "emails[type eq", "value": 1}]),
                ScimType::InvalidPath,
            ),
            (json!([{"op": "Remove"}]), ScimType::NoTarget),
            (
                json!([{"op": "Replace", "path": "active", "value": "maybe"}]),
                ScimType::InvalidValue,
            ),
            (
                json!([{"op": "Replace", "path": "id", "value": "x"}]),
                ScimType::Mutability,
            ),
            (
                json!([{"op": "Remove", "path": "userName"}]),
                ScimType::InvalidValue,
            ),
            (json!([]), ScimType::InvalidSyntax),
            (json!([{"op": "Add", "value": "x"}]), ScimType::InvalidValue),
            (
                json!([{"op": "remove", "path": "manager[value eq \"m1\"]"}]),
                ScimType::NoTarget,
            ),
            (
                json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "m1"},
                    {"op": "remove", "path": "manager[value eq \"m2\"]"}]),
                ScimType::NoTarget,
            ),
        ];
        for (ops, want) in cases {
            let e = run(Kind::User, base.clone(), ops.clone()).unwrap_err();
            assert_eq!(e.scim_type, Some(want), "{ops}: {e}");
        }
        let no_schema = parse(&json!({"Operations": [{"op": "add", "path": "x", "value": 1}]}));
        assert_eq!(
            no_schema.unwrap_err().scim_type,
            Some(ScimType::InvalidSyntax)
        );
    }
}
