//! Turning request bodies into stored resources and stored resources into responses: POST/PUT
//! validation (the core schema URN, required attributes, booleans), the normalisation a real server
//! does (nulls are "unassigned", fully qualified attribute keys live under their schema), the
//! `attributes`/`excludedAttributes` projection, and the RFC shape of `manager` on the way out.

use serde_json::{Map, Value};

use crate::target::error::{ScimError, ScimType};
use crate::target::eval::{container, get_ci, key_of};
use crate::target::filter::{self, Path};
use crate::target::schema::{self, ENTERPRISE_URN, Kind};

/// Validates a POST/PUT body and normalises it into the content the store keeps.
pub fn prepare(kind: Kind, body: Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(mut map) = body else {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            "the request body must be a JSON object",
        ));
    };
    let has_core = match get_ci(&map, "schemas") {
        Some(Value::Array(list)) => list.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(kind.core_urn()))
        }),
        _ => false,
    };
    if !has_core {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            format!("'schemas' must contain {}", kind.core_urn()),
        ));
    }
    // The server owns `id` and `meta` (RFC 7643 §3.1); a client's copies are ignored.
    map.retain(|k, _| !k.eq_ignore_ascii_case("id") && !k.eq_ignore_ascii_case("meta"));
    let mut map = strip_nulls_map(map);
    nest_qualified_keys(&mut map)?;
    if kind == Kind::Group && key_of(&map, "members").is_none() {
        // As in the spec's sample answer: a group created without members has an empty list.
        map.insert("members".into(), Value::Array(Vec::new()));
    }
    normalize(kind, &mut map)?;
    Ok(map)
}

/// RFC 7643 §2.5: null and unassigned are the same state, so nulls are not stored.
pub fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(strip_nulls_map(m)),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .filter(|x| !x.is_null())
                .map(strip_nulls)
                .collect(),
        ),
        other => other,
    }
}

fn strip_nulls_map(m: Map<String, Value>) -> Map<String, Value> {
    m.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k, strip_nulls(v)))
        .collect()
}

/// Moves `"urn:…:User:attr": v` into `"urn:…:User": {"attr": v}`, so custom extension
/// attributes (pitfall 12) are stored where a GET or filter by that path finds them.
fn nest_qualified_keys(map: &mut Map<String, Value>) -> Result<(), ScimError> {
    let qualified: Vec<String> = map
        .keys()
        .filter(|k| schema::is_urn(k) && !schema::is_schema_key(k))
        .cloned()
        .collect();
    for key in qualified {
        let Some(value) = map.remove(&key) else {
            continue;
        };
        let path = filter::parse_path(&key)
            .map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("'{key}': {e}")))?;
        let Some(urn) = path.urn else {
            continue;
        };
        let holder_key = key_of(map, &urn).cloned().unwrap_or(urn);
        let holder = map
            .entry(holder_key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(holder) = holder else {
            return Err(ScimError::bad(
                ScimType::InvalidValue,
                format!("'{holder_key}' must be an object"),
            ));
        };
        holder.insert(path.attr, value);
    }
    Ok(())
}

/// Coerces boolean attributes and checks the rules a stored resource must satisfy.
pub fn normalize(kind: Kind, map: &mut Map<String, Value>) -> Result<(), ScimError> {
    let bad_bool = |name: &str| {
        ScimError::bad(
            ScimType::InvalidValue,
            format!("'{name}' must be a boolean"),
        )
    };
    if let Some(k) = key_of(map, "active").cloned()
        && let Some(v) = map.get_mut(&k)
    {
        *v = Value::Bool(schema::coerce_bool(v).ok_or_else(|| bad_bool("active"))?);
    }
    for (attr, v) in map.iter_mut() {
        let Value::Array(items) = v else { continue };
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(k) = key_of(item, "primary").cloned()
                && let Some(p) = item.get_mut(&k)
            {
                let b =
                    schema::coerce_bool(p).ok_or_else(|| bad_bool(&format!("{attr}.primary")))?;
                *p = Value::Bool(b);
            }
        }
    }
    let unique = kind.unique_attr();
    if !matches!(get_ci(map, unique), Some(Value::String(s)) if !s.trim().is_empty()) {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("'{unique}' is required and must be a non-empty string"),
        ));
    }
    if let Some(members) = get_ci(map, "members") {
        let ok = members.as_array().is_some_and(|list| {
            list.iter().all(|m| {
                m.get("value")
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            })
        });
        if !ok {
            return Err(ScimError::bad(
                ScimType::InvalidValue,
                "'members' must be a list of objects with a string 'value'",
            ));
        }
    }
    if let Some(manager) = get_ci(map, ENTERPRISE_URN)
        .and_then(Value::as_object)
        .and_then(|ext| get_ci(ext, "manager"))
        && !manager.get("value").is_some_and(Value::is_string)
    {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            "'manager' must be an object with a string 'value'",
        ));
    }
    Ok(())
}

/// Which attributes a response carries (RFC 7644 §3.4.2.5).
#[derive(Debug, Default, Clone)]
pub struct Projection {
    include: Vec<Path>,
    exclude: Vec<Path>,
}

fn parse_list(list: Option<&str>) -> Result<Vec<Path>, ScimError> {
    list.into_iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            filter::parse_path(s).map_err(|e| {
                ScimError::bad(ScimType::InvalidValue, format!("attribute '{s}': {e}"))
            })
        })
        .collect()
}

impl Projection {
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Self, ScimError> {
        Ok(Projection {
            include: parse_list(attributes)?,
            exclude: parse_list(excluded)?,
        })
    }
}

fn always_returned(attr: &str) -> bool {
    attr.eq_ignore_ascii_case("id") || attr.eq_ignore_ascii_case("schemas")
}

/// The response form of a stored resource.
pub fn render(kind: Kind, mut out: Map<String, Value>, proj: &Projection, base_url: &str) -> Value {
    add_manager_ref(&mut out, base_url);
    if !proj.include.is_empty() {
        let mut picked = Map::new();
        for (k, v) in &out {
            if always_returned(k) {
                picked.insert(k.clone(), v.clone());
            }
        }
        for path in &proj.include {
            copy_path(&out, &mut picked, path, kind);
        }
        out = picked;
    }
    for path in &proj.exclude {
        remove_path(&mut out, path, kind);
    }
    Value::Object(out)
}

/// Entra deserialises `manager` as the RFC complex type, so add its `$ref` on the way out.
fn add_manager_ref(res: &mut Map<String, Value>, base_url: &str) {
    let Some(ext_key) = key_of(res, ENTERPRISE_URN).cloned() else {
        return;
    };
    let Some(Value::Object(ext)) = res.get_mut(&ext_key) else {
        return;
    };
    let Some(mk) = key_of(ext, "manager").cloned() else {
        return;
    };
    if let Some(Value::Object(manager)) = ext.get_mut(&mk)
        && key_of(manager, "$ref").is_none()
        && let Some(Value::String(id)) = manager.get("value").cloned()
    {
        manager.insert(
            "$ref".into(),
            Value::String(format!("{base_url}/Users/{id}")),
        );
    }
}

fn holder_mut<'m>(
    out: &'m mut Map<String, Value>,
    path: &Path,
    kind: Kind,
) -> Option<&'m mut Map<String, Value>> {
    match &path.urn {
        Some(urn) if !urn.eq_ignore_ascii_case(kind.core_urn()) => {
            let k = key_of(out, urn).cloned().unwrap_or_else(|| urn.clone());
            out.entry(k)
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
        }
        _ => Some(out),
    }
}

fn copy_path(src: &Map<String, Value>, dest: &mut Map<String, Value>, path: &Path, kind: Kind) {
    let Some(holder) = container(src, path, kind.core_urn()) else {
        return;
    };
    let Some((key, value)) = key_of(holder, &path.attr).and_then(|k| holder.get_key_value(k))
    else {
        return;
    };
    let picked = match (&path.sub, value) {
        (None, v) => v.clone(),
        (Some(sub), Value::Object(m)) => match key_of(m, sub).and_then(|k| m.get_key_value(k)) {
            Some((sk, sv)) => {
                let mut existing = match dest_existing(dest, path, kind, key) {
                    Some(Value::Object(e)) => e,
                    _ => Map::new(),
                };
                existing.insert(sk.clone(), sv.clone());
                Value::Object(existing)
            }
            None => return,
        },
        (Some(sub), Value::Array(items)) => Value::Array(
            items
                .iter()
                .filter_map(Value::as_object)
                .filter_map(|m| key_of(m, sub).and_then(|k| m.get_key_value(k)))
                .map(|(k, v)| Value::Object(Map::from_iter([(k.clone(), v.clone())])))
                .collect(),
        ),
        (Some(_), _) => return,
    };
    if let Some(h) = holder_mut(dest, path, kind) {
        h.insert(key.clone(), picked);
    }
}

fn dest_existing(dest: &Map<String, Value>, path: &Path, kind: Kind, key: &str) -> Option<Value> {
    container(dest, path, kind.core_urn()).and_then(|h| h.get(key).cloned())
}

fn remove_path(out: &mut Map<String, Value>, path: &Path, kind: Kind) {
    if path.urn.is_none() && path.sub.is_none() && always_returned(&path.attr) {
        return;
    }
    let Some(holder) = holder_mut(out, path, kind) else {
        return;
    };
    let Some(key) = key_of(holder, &path.attr).cloned() else {
        return;
    };
    match &path.sub {
        None => {
            holder.remove(&key);
        }
        Some(sub) => match holder.get_mut(&key) {
            Some(Value::Object(m)) => {
                if let Some(sk) = key_of(m, sub).cloned() {
                    m.remove(&sk);
                }
            }
            Some(Value::Array(items)) => {
                for m in items.iter_mut().filter_map(Value::as_object_mut) {
                    if let Some(sk) = key_of(m, sub).cloned() {
                        m.remove(&sk);
                    }
                }
            }
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prepare_normalises() {
        let body = json!({
            "schemas": [schema::USER_URN],
            "id": "client-chosen",
            "userName": "a",
            "active": "True",
            "emails": [{"type": "work", "value": "a@x", "primary": "false"}],
            "addresses": null,
            "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:localUsername": "al",
        });
        let m = prepare(Kind::User, body).unwrap();
        assert_eq!(m.get("id"), None);
        assert_eq!(m["active"], json!(true));
        assert_eq!(m["emails"][0]["primary"], json!(false));
        assert_eq!(m.get("addresses"), None);
        assert_eq!(
            m["urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"]["localUsername"],
            "al"
        );
    }

    #[test]
    fn prepare_rejects() {
        let cases = [
            json!({"userName": "a"}),
            json!({"schemas": [schema::GROUP_URN], "userName": "a"}),
            json!({"schemas": [schema::USER_URN]}),
            json!({"schemas": [schema::USER_URN], "userName": "a", "active": "yes"}),
            json!([1]),
        ];
        for body in cases {
            assert_eq!(
                prepare(Kind::User, body.clone()).unwrap_err().status,
                400,
                "{body}"
            );
        }
    }

    #[test]
    fn projection() {
        let res = json!({"id": "1", "schemas": [], "userName": "a", "name": {"givenName": "g", "familyName": "f"},
                         "emails": [{"type": "work", "value": "v"}], "members": [{"value": "x"}]})
        .as_object()
        .cloned()
        .unwrap();
        let p = Projection::parse(Some("name.givenName,emails.value"), None).unwrap();
        let out = render(Kind::User, res.clone(), &p, "b");
        assert_eq!(
            out,
            json!({"id": "1", "schemas": [], "name": {"givenName": "g"}, "emails": [{"value": "v"}]})
        );
        let p = Projection::parse(None, Some("members,id")).unwrap();
        let out = render(Kind::Group, res.clone(), &p, "b");
        assert!(out.get("members").is_none() && out.get("id").is_some());
    }
}
