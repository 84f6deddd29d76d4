//! Read-then-diff for connected objects (spec §2.3, §12 items 5–6): compare the desired target
//! values against the resource the server returned and list the attributes to export.
//!
//! Rules: absent/empty desired values are never changes (Entra does not flow nulls); case-only
//! differences are ignored unless the attribute is `caseExact`; booleans compare as `True`/`False`
//! whatever JSON shape the server used. The op is `Add` when the target has no value and `Replace`
//! when it has one — the spec marks this rule UNCONFIRMED (OBS only), so it is the default here.
//! Reference lists (`members`) are not diffed: group reads exclude members, so the planner tracks
//! memberships from its own anchors and sends them with [`crate::scim::patch::member_bodies`].

use serde_json::Value as Json;

use crate::expr::{AppRole, Value};
use crate::scim::path::{TargetPath, normalise_bool};
use crate::scim::schema::AttrType;
use crate::scim::wire_value::{ShapeError, check_shape, is_unsent, single_text};

/// A PATCH operation kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    /// `Add` / `add`.
    Add,
    /// `Replace` / `replace`.
    Replace,
    /// `Remove` / `remove`.
    Remove,
}

/// One attribute to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrChange {
    /// The target attribute.
    pub path: TargetPath,
    /// The target's current value as Entra's log string (`modifiedProperties.oldValue`), if any.
    pub old: Option<String>,
    /// The value to send.
    pub new: Value,
    /// The operation to send it with.
    pub op: PatchOp,
}

/// Which role function feeds the unfiltered `roles` target (spec §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoleFunction {
    /// `AppRoleAssignmentsComplex`: PATCH adds missing roles, never removes.
    #[default]
    AppRoleAssignmentsComplex,
    /// `AssertiveAppRoleAssignmentsComplex`: PATCH replaces the whole list when it differs.
    AssertiveAppRoleAssignmentsComplex,
}

/// The attributes of `desired` that differ from `current` (a resource read from the server).
pub fn diff(
    desired: &[(TargetPath, Value)],
    current: &Json,
    case_exact: impl Fn(&TargetPath) -> bool,
    roles: RoleFunction,
) -> Result<Vec<AttrChange>, ShapeError> {
    let mut changes = Vec::new();
    for (path, value) in desired {
        let shape = path.shape();
        if is_unsent(value) || (shape.ty == AttrType::Reference && shape.multi_valued) {
            continue;
        }
        check_shape(path, value)?;
        let have = path.read(current);
        let exact = case_exact(path);
        let old = log_text(&have);
        let change = |op, new| AttrChange {
            path: path.clone(),
            old: old.clone(),
            new,
            op,
        };
        let found = match value {
            Value::Roles(wanted) if path.is_value_filtered() => wanted
                .first()
                .filter(|role| !same_text(single_text(&have), &role.value, exact))
                .map(|role| change(PatchOp::Add, Value::Roles(vec![role.clone()]))),
            Value::Roles(wanted) => {
                roles_change(wanted, &texts(&have), exact, roles).map(|(op, new)| change(op, new))
            }
            Value::Multi(values) if shape.multi_valued => (!same_set(&texts(&have), values, exact))
                .then(|| change(add_or_replace(&have), value.clone())),
            other => {
                let text = single_text(other).unwrap_or_default();
                let text = match shape.ty {
                    AttrType::Boolean => normalise_bool(text).unwrap_or_else(|| text.to_owned()),
                    _ => text.to_owned(),
                };
                let unchanged =
                    matches!(have, Value::Str(_)) && same_text(single_text(&have), &text, exact);
                (!unchanged).then(|| change(add_or_replace(&have), Value::Str(text)))
            }
        };
        changes.extend(found);
    }
    Ok(changes)
}

fn roles_change(
    wanted: &[AppRole],
    have: &[String],
    exact: bool,
    function: RoleFunction,
) -> Option<(PatchOp, Value)> {
    match function {
        RoleFunction::AppRoleAssignmentsComplex => {
            let missing: Vec<AppRole> = wanted
                .iter()
                .filter(|role| !have.iter().any(|text| eq(text, &role.value, exact)))
                .cloned()
                .collect();
            (!missing.is_empty()).then_some((PatchOp::Add, Value::Roles(missing)))
        }
        RoleFunction::AssertiveAppRoleAssignmentsComplex => {
            let values: Vec<String> = wanted.iter().map(|role| role.value.clone()).collect();
            (!same_set(have, &values, exact))
                .then(|| (PatchOp::Replace, Value::Roles(wanted.to_vec())))
        }
    }
}

fn add_or_replace(have: &Value) -> PatchOp {
    if matches!(have, Value::Null) {
        PatchOp::Add
    } else {
        PatchOp::Replace
    }
}

fn eq(a: &str, b: &str, exact: bool) -> bool {
    if exact {
        a == b
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

fn same_text(have: Option<&str>, want: &str, exact: bool) -> bool {
    have.is_some_and(|have| eq(have, want, exact))
}

fn same_set(have: &[String], want: &[String], exact: bool) -> bool {
    let covers = |a: &[String], b: &[String]| a.iter().all(|x| b.iter().any(|y| eq(x, y, exact)));
    covers(have, want) && covers(want, have)
}

fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Str(text) => vec![text.clone()],
        Value::Multi(values) => values.clone(),
        Value::Roles(roles) => roles.iter().map(|role| role.value.clone()).collect(),
    }
}

/// A value as Entra's provisioning-log string: strings as is, lists as a JSON array.
fn log_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Str(text) => Some(text.clone()),
        other => Some(Json::from(texts(other)).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> TargetPath {
        TargetPath::parse(text).unwrap_or_else(|err| unreachable!("{err}"))
    }

    fn desired(pairs: &[(&str, Value)]) -> Vec<(TargetPath, Value)> {
        pairs.iter().map(|(p, v)| (path(p), v.clone())).collect()
    }

    fn s(text: &str) -> Value {
        Value::Str(text.to_owned())
    }

    fn role(value: &str) -> AppRole {
        AppRole {
            id: format!("id-{value}"),
            value: value.to_owned(),
            display_name: format!("{value} role"),
        }
    }

    fn run(
        pairs: &[(&str, Value)],
        current: &Json,
    ) -> Vec<(String, Option<String>, Value, PatchOp)> {
        diff(&desired(pairs), current, |_| false, RoleFunction::default())
            .unwrap_or_else(|err| unreachable!("{err}"))
            .into_iter()
            .map(|c| (c.path.to_string(), c.old, c.new, c.op))
            .collect()
    }

    #[test]
    fn add_when_absent_replace_when_present_nothing_when_equal() {
        let current = json!({
            "id": "1", "userName": "Bjensen@Contoso.com", "active": true, "displayName": "Old",
            "emails": [{"type": "work", "value": "old@contoso.com", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}}
        });
        let got = run(
            &[
                ("userName", s("bjensen@contoso.com")),
                ("active", s("True")),
                ("displayName", s("New")),
                ("emails[type eq \"work\"].value", s("new@contoso.com")),
                ("name.givenName", s("Barbara")),
                (
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                    s("Retail"),
                ),
                (
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                    s("m1"),
                ),
                ("title", Value::Null),
                ("nickName", s("")),
                ("members", Value::Multi(vec!["u1".into()])),
            ],
            &current,
        );
        assert_eq!(
            got,
            vec![
                (
                    "displayName".into(),
                    Some("Old".into()),
                    s("New"),
                    PatchOp::Replace
                ),
                (
                    "emails[type eq \"work\"].value".into(),
                    Some("old@contoso.com".into()),
                    s("new@contoso.com"),
                    PatchOp::Replace
                ),
                ("name.givenName".into(), None, s("Barbara"), PatchOp::Add),
                (
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".into(),
                    None,
                    s("Retail"),
                    PatchOp::Add
                ),
            ]
        );
    }

    #[test]
    fn booleans_compare_by_meaning() {
        for current in [
            json!({"active": false}),
            json!({"active": "False"}),
            json!({"active": "false"}),
        ] {
            assert_eq!(run(&[("active", s("False"))], &current), vec![]);
            assert_eq!(
                run(&[("active", s("true"))], &current),
                vec![(
                    "active".into(),
                    Some("False".into()),
                    s("True"),
                    PatchOp::Replace
                )]
            );
        }
    }

    #[test]
    fn case_exact_attributes_export_case_changes() {
        let current = json!({"userName": "bjensen", "externalId": "bjensen"});
        let pairs = desired(&[("userName", s("BJensen")), ("externalId", s("BJensen"))]);
        let got = diff(
            &pairs,
            &current,
            |p| p.is_plain("externalId"),
            RoleFunction::default(),
        )
        .unwrap_or_else(|err| unreachable!("{err}"));
        assert_eq!(got.len(), 1);
        assert_eq!(
            got.first().map(|c| c.path.to_string()),
            Some("externalId".into())
        );
    }

    #[test]
    fn multi_valued_source_into_single_target_fails() {
        let pairs = desired(&[(
            "emails[type eq \"other\"].value",
            Value::Multi(vec!["a".into(), "b".into()]),
        )]);
        let err = diff(&pairs, &json!({}), |_| false, RoleFunction::default()).err();
        assert_eq!(
            err.map(|e| e.code().as_str()),
            Some("SchemaPropertyCanOnlyAcceptValue")
        );
    }

    #[test]
    fn roles_add_missing_or_replace_assertively() {
        let current = json!({"roles": [{"value": "User", "primary": false}]});
        let wanted = Value::Roles(vec![role("User"), role("Admin")]);
        assert_eq!(
            run(&[("roles", wanted.clone())], &current),
            vec![(
                "roles".into(),
                Some("[\"User\"]".into()),
                Value::Roles(vec![role("Admin")]),
                PatchOp::Add
            )]
        );
        assert_eq!(
            run(&[("roles", Value::Roles(vec![role("user")]))], &current),
            vec![]
        );
        let assertive = |want: Value| {
            diff(
                &desired(&[("roles", want)]),
                &current,
                |_| false,
                RoleFunction::AssertiveAppRoleAssignmentsComplex,
            )
            .unwrap_or_else(|err| unreachable!("{err}"))
        };
        let got = assertive(Value::Roles(vec![role("Admin")]));
        assert_eq!(
            got.first().map(|c| (c.op, c.new.clone())),
            Some((PatchOp::Replace, Value::Roles(vec![role("Admin")])))
        );
        assert_eq!(assertive(Value::Roles(vec![role("User")])), vec![]);
        let single = path("roles[primary eq \"True\"].value");
        let got = diff(
            &[(single, Value::Roles(vec![role("Admin")]))],
            &current,
            |_| false,
            RoleFunction::default(),
        )
        .unwrap_or_else(|err| unreachable!("{err}"));
        assert_eq!(
            got.first().map(|c| (c.op, c.old.clone())),
            Some((PatchOp::Add, None))
        );
    }
}
