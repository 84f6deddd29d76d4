//! Evaluating parsed filters against stored JSON, and the case-insensitive attribute access
//! (RFC 7643 §2.1) every part of the target uses to find an attribute in a resource.

use serde_json::{Map, Value};

use crate::target::filter::{CompValue, CompareOp, Filter, Path};
use crate::target::schema;

/// Looks up a key case-insensitively (RFC 7643 §2.1: attribute names are case-insensitive).
pub fn key_of<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name))
}

pub fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    key_of(map, name).and_then(|k| map.get(k))
}

/// The object holding `path.attr`: the resource itself, or the extension object for a URN path.
pub fn container<'m>(
    resource: &'m Map<String, Value>,
    path: &Path,
    core_urn: &str,
) -> Option<&'m Map<String, Value>> {
    match &path.urn {
        Some(urn) if !urn.eq_ignore_ascii_case(core_urn) => {
            get_ci(resource, urn).and_then(Value::as_object)
        }
        _ => Some(resource),
    }
}

/// Evaluates a filter against a resource (or, inside a value filter, against one element).
pub fn matches(
    filter: &Filter,
    obj: &Map<String, Value>,
    core_urn: &str,
    parent: Option<&str>,
) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, obj, core_urn, parent) && matches(b, obj, core_urn, parent),
        Filter::Or(a, b) => matches(a, obj, core_urn, parent) || matches(b, obj, core_urn, parent),
        Filter::Not(a) => !matches(a, obj, core_urn, parent),
        Filter::Present(path) => values_at(obj, path, core_urn).iter().any(|v| is_present(v)),
        Filter::Compare(path, op, value) => {
            let attr = path.sub.as_deref().unwrap_or(&path.attr);
            let owner = if path.sub.is_some() {
                Some(path.attr.as_str())
            } else {
                parent
            };
            let exact = schema::case_exact(owner, attr);
            let found = values_at(obj, path, core_urn);
            match op {
                CompareOp::Ne => !found
                    .iter()
                    .any(|v| compare(v, CompareOp::Eq, value, exact)),
                CompareOp::Eq if *value == CompValue::Null => !found.iter().any(|v| is_present(v)),
                _ => found.iter().any(|v| compare(v, *op, value, exact)),
            }
        }
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// Every value the path reaches, multi-valued attributes flattened.
fn values_at<'m>(obj: &'m Map<String, Value>, path: &Path, core_urn: &str) -> Vec<&'m Value> {
    let Some(holder) = container(obj, path, core_urn) else {
        return Vec::new();
    };
    let Some(top) = get_ci(holder, &path.attr) else {
        return Vec::new();
    };
    let elements: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let elements: Vec<&Value> = match &path.filter {
        Some(f) => elements
            .into_iter()
            .filter(|e| {
                e.as_object()
                    .is_some_and(|m| matches(f, m, core_urn, Some(&path.attr)))
            })
            .collect(),
        None => elements,
    };
    match &path.sub {
        None => elements,
        Some(sub) => elements
            .into_iter()
            .filter_map(|e| e.as_object().and_then(|m| get_ci(m, sub)))
            .flat_map(|v| match v {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect(),
    }
}

fn compare(found: &Value, op: CompareOp, want: &CompValue, exact: bool) -> bool {
    match (found, want) {
        (Value::String(have), CompValue::Str(want)) => {
            let (have, want) = if exact {
                (have.clone(), want.clone())
            } else {
                (have.to_lowercase(), want.to_lowercase())
            };
            match op {
                CompareOp::Eq => have == want,
                CompareOp::Ne => have != want,
                CompareOp::Co => have.contains(&want),
                CompareOp::Sw => have.starts_with(&want),
                CompareOp::Ew => have.ends_with(&want),
                CompareOp::Gt => have > want,
                CompareOp::Ge => have >= want,
                CompareOp::Lt => have < want,
                CompareOp::Le => have <= want,
            }
        }
        (Value::Number(n), CompValue::Num(want)) => {
            let Some(have) = n.as_f64() else {
                return false;
            };
            match op {
                CompareOp::Eq => have == *want,
                CompareOp::Ne => have != *want,
                CompareOp::Gt => have > *want,
                CompareOp::Ge => have >= *want,
                CompareOp::Lt => have < *want,
                CompareOp::Le => have <= *want,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            }
        }
        (Value::Bool(have), CompValue::Bool(want)) => match op {
            CompareOp::Eq => have == want,
            CompareOp::Ne => have != want,
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::filter::parse_filter;
    use serde_json::json;

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn user() -> Map<String, Value> {
        json!({
            "userName": "Alice@Contoso.com",
            "externalId": "AbC",
            "active": false,
            "emails": [{"type": "work", "value": "alice@contoso.com", "primary": true},
                       {"type": "home", "value": "al@home.example"}],
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "42"},
            "meta": {"lastModified": "2024-05-01T00:00:00.000Z"}
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn filter_vectors() {
        let cases = [
            (r#"userName eq "alice@contoso.com""#, true),
            (r#"USERNAME EQ "ALICE@CONTOSO.COM""#, true),
            (r#"externalId eq "abc""#, false),
            (r#"externalId eq "AbC""#, true),
            (
                r#"emails[type eq "work"].value eq "alice@contoso.com""#,
                true,
            ),
            (
                r#"emails[type eq "home"].value eq "alice@contoso.com""#,
                false,
            ),
            (r#"emails[type eq "work" and primary eq true]"#, true),
            (r#"emails.value co "home""#, true),
            (r#"userName sw "alice" and name.familyName ew "dell""#, true),
            (r#"userName eq "x" or active eq false"#, true),
            (r#"not (active eq false)"#, false),
            (r#"title pr"#, false),
            (r#"name.givenName pr"#, true),
            (r#"userName ne "bob""#, true),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42""#,
                true,
            ),
            (r#"meta.lastModified gt "2024-01-01T00:00:00Z""#, true),
            (
                r#"(userName eq "x" or userName eq "y") and active eq false"#,
                false,
            ),
            (r#"title eq null"#, true),
        ];
        let u = user();
        for (text, want) in cases {
            let f = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(matches(&f, &u, CORE, None), want, "{text}");
        }
    }
}
