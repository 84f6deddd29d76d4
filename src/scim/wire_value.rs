//! How one mapped [`Value`] becomes JSON for one target path: the shape check shared by create and
//! diff (a multi-valued source cannot feed a single-valued target), boolean conversion, and the
//! app-role element shapes of spec §6.6, which differ between POST, default PATCH and Assertive.

use serde_json::{Value as Json, json};

use crate::expr::{AppRole, Value};
use crate::scim::codes::ErrorCode;
use crate::scim::path::{TargetPath, normalise_bool};
use crate::scim::schema::{APP_ROLE_TYPE, AttrType};

/// A source value whose shape the target attribute cannot take; Entra logs it as
/// `SchemaPropertyCanOnlyAcceptValue` and escrows the object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target attribute `{path}`: {problem}")]
pub struct ShapeError {
    /// The target attribute, rendered.
    pub path: String,
    /// What did not fit.
    pub problem: ShapeProblem,
}

/// The kinds of [`ShapeError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeProblem {
    /// Several values (a multi-valued source or `Split`) for a single-valued attribute.
    #[error("can only accept a single value, but the source has {count} values")]
    MultipleValues {
        /// How many values the source had.
        count: usize,
    },
    /// App-role assignments mapped to an attribute other than `roles`.
    #[error("app-role assignments can only flow to `roles`")]
    RolesOutsideRoles,
}

impl ShapeError {
    /// The Entra error code for this failure.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::SchemaPropertyCanOnlyAcceptValue
    }
}

/// True when Entra would not send this value at all: nulls and empty strings never flow (spec §2.3,
/// `clear-attribute-values.md`: outbound provisioning does not flow null/empty values).
pub(crate) fn is_unsent(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Str(text) => text.is_empty(),
        Value::Multi(values) => values.is_empty(),
        Value::Roles(_) => false,
    }
}

/// Checks that `value` fits `path`.
pub(crate) fn check_shape(path: &TargetPath, value: &Value) -> Result<(), ShapeError> {
    let problem = match value {
        Value::Multi(values) if !path.shape().multi_valued && values.len() != 1 => {
            Some(ShapeProblem::MultipleValues {
                count: values.len(),
            })
        }
        Value::Roles(_) if !path.is_roles() => Some(ShapeProblem::RolesOutsideRoles),
        Value::Roles(roles) if path.is_value_filtered() && roles.len() > 1 => {
            Some(ShapeProblem::MultipleValues { count: roles.len() })
        }
        _ => None,
    };
    match problem {
        Some(problem) => Err(ShapeError {
            path: path.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

/// A string for `path` as a JSON boolean when the target is boolean-typed and the string is one,
/// otherwise as a JSON string.
pub(crate) fn json_bool_or_string(path: &TargetPath, text: &str) -> Json {
    if path.shape().ty == AttrType::Boolean
        && let Some(flag) = normalise_bool(text)
    {
        return Json::Bool(flag == "True");
    }
    Json::String(text.to_owned())
}

/// A string for `path` with booleans as the strings `"True"`/`"False"` (default-mode PATCH).
pub(crate) fn string_bool(path: &TargetPath, text: &str) -> Json {
    let normalised = (path.shape().ty == AttrType::Boolean)
        .then(|| normalise_bool(text))
        .flatten();
    Json::String(normalised.unwrap_or_else(|| text.to_owned()))
}

/// The single value a single-valued target receives (a one-element list counts as one value).
pub(crate) fn single_text(value: &Value) -> Option<&str> {
    match value {
        Value::Str(text) => Some(text),
        Value::Multi(values) => values.first().map(String::as_str),
        Value::Roles(roles) => roles.first().map(|role| role.value.as_str()),
        Value::Null => None,
    }
}

/// A multi-valued plain attribute's elements: `[{"value": …}, …]`.
pub(crate) fn value_elements(values: &[String]) -> Json {
    Json::Array(
        values
            .iter()
            .map(|value| json!({ "value": value }))
            .collect(),
    )
}

/// `SingleAppRoleAssignment` element, POST form (also PATCH form with the flag).
pub(crate) fn single_role_element(value: &str) -> Json {
    json!({ "primary": true, "type": APP_ROLE_TYPE, "value": value })
}

/// `AppRoleAssignmentsComplex` element, POST form (also PATCH form with the flag).
pub(crate) fn complex_role_element(role: &AppRole) -> Json {
    json!({ "primary": false, "type": APP_ROLE_TYPE, "displayName": role.display_name, "value": role.value })
}

/// `AssertiveAppRoleAssignmentsComplex` element of the whole-list replace (uses `display`).
pub(crate) fn assertive_role_element(role: &AppRole) -> Json {
    json!({ "primary": false, "type": APP_ROLE_TYPE, "display": role.display_name, "value": role.value })
}

/// Default-mode PATCH role element: the role as a JSON-encoded string in `value`, keys in Entra's
/// order `id`, `value`, `displayName`.
pub(crate) fn encoded_role_element(role: &AppRole) -> Json {
    let encoded = format!(
        "{{\"id\":{},\"value\":{},\"displayName\":{}}}",
        Json::String(role.id.clone()),
        Json::String(role.value.clone()),
        Json::String(role.display_name.clone())
    );
    json!({ "value": encoded })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> TargetPath {
        TargetPath::parse(text).unwrap_or_else(|err| unreachable!("{err}"))
    }

    #[test]
    fn shape_check_table() {
        let role = AppRole {
            id: "i".into(),
            value: "v".into(),
            display_name: "d".into(),
        };
        let two = Value::Multi(vec!["a".into(), "b".into()]);
        let cases: Vec<(&str, Value, Option<ShapeProblem>)> = vec![
            (
                "emails[type eq \"other\"].value",
                two.clone(),
                Some(ShapeProblem::MultipleValues { count: 2 }),
            ),
            (
                "displayName",
                two.clone(),
                Some(ShapeProblem::MultipleValues { count: 2 }),
            ),
            ("displayName", Value::Multi(vec!["a".into()]), None),
            ("emails", two.clone(), None),
            ("members", two, None),
            (
                "title",
                Value::Roles(vec![role.clone()]),
                Some(ShapeProblem::RolesOutsideRoles),
            ),
            (
                "roles",
                Value::Roles(vec![role.clone(), role.clone()]),
                None,
            ),
            (
                "roles[primary eq \"True\"].value",
                Value::Roles(vec![role.clone(), role]),
                Some(ShapeProblem::MultipleValues { count: 2 }),
            ),
        ];
        for (text, value, want) in cases {
            assert_eq!(
                check_shape(&path(text), &value).err().map(|e| e.problem),
                want,
                "{text}"
            );
        }
        let err = check_shape(
            &path("title"),
            &Value::Multi(vec!["a".into(), "b".into(), "c".into()]),
        )
        .err();
        assert_eq!(
            err.as_ref().map(ShapeError::code),
            Some(ErrorCode::SchemaPropertyCanOnlyAcceptValue)
        );
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some(
                "target attribute `title`: can only accept a single value, but the source has 3 values"
            )
        );
    }

    #[test]
    fn encoded_role_is_entras_string() {
        let role = AppRole {
            id: "06b07648-ecfe-589f-9d2f-6325724a46ee".into(),
            value: "25".into(),
            display_name: "Role1234".into(),
        };
        assert_eq!(
            encoded_role_element(&role),
            json!({"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"})
        );
    }
}
