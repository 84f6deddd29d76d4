//! Create bodies (`POST /Users`, `POST /Groups`) exactly as spec §2.3/§2.4 show them: both schema
//! URNs, `meta.resourceType`, booleans as JSON booleans, type-filtered paths as array elements,
//! extension attributes nested under their URN, no nulls, no references (linked later).
//!
//! Both modes send the same POST (spec §2.5 lists no POST difference), so no mode is taken.

use serde_json::{Map, Value as Json, json};

use crate::expr::Value;
use crate::scim::path::{TargetPath, ValueFilter, normalise_bool};
use crate::scim::schema::{
    self, APP_ROLE_TYPE, AttrType, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, MS_GROUP_SCHEMA,
    USER_SCHEMA,
};
use crate::scim::wire_value::{
    ShapeError, check_shape, complex_role_element, is_unsent, json_bool_or_string, single_text,
    value_elements,
};

/// A `type` value of a multi-valued attribute whose new element gets `"primary": true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryType {
    /// The multi-valued attribute (`emails`).
    pub attr: String,
    /// The `type` value (`work`).
    pub type_value: String,
}

/// Create-body knobs for behaviour the spec marks UNCONFIRMED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSettings {
    /// Which typed elements are marked primary; the DOC sample shows only the work email.
    pub primary_types: Vec<PrimaryType>,
    /// Send `"roles": []` when no role reaches the body (the DOC sample does).
    pub empty_roles: bool,
}

impl Default for CreateSettings {
    fn default() -> Self {
        Self {
            primary_types: vec![PrimaryType {
                attr: "emails".to_owned(),
                type_value: "work".to_owned(),
            }],
            empty_roles: true,
        }
    }
}

/// The `POST /Users` body for the mapped attributes of one user.
pub fn create_user_body(
    attrs: &[(TargetPath, Value)],
    settings: &CreateSettings,
) -> Result<Json, ShapeError> {
    let mut body = Map::new();
    body.insert(
        "schemas".to_owned(),
        json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]),
    );
    body.insert("meta".to_owned(), json!({ "resourceType": "User" }));
    place_all(&mut body, attrs, settings)?;
    if settings.empty_roles && existing_key(&body, "roles").is_none() {
        body.insert("roles".to_owned(), json!([]));
    }
    Ok(Json::Object(body))
}

/// The `POST /Groups` body: no members (they are added by PATCH after the users exist).
pub fn create_group_body(attrs: &[(TargetPath, Value)]) -> Result<Json, ShapeError> {
    let mut body = Map::new();
    body.insert("schemas".to_owned(), json!([GROUP_SCHEMA, MS_GROUP_SCHEMA]));
    body.insert("meta".to_owned(), json!({ "resourceType": "Group" }));
    let settings = CreateSettings {
        primary_types: Vec::new(),
        empty_roles: false,
    };
    place_all(&mut body, attrs, &settings)?;
    Ok(Json::Object(body))
}

fn place_all(
    body: &mut Map<String, Json>,
    attrs: &[(TargetPath, Value)],
    settings: &CreateSettings,
) -> Result<(), ShapeError> {
    for (path, value) in attrs {
        if is_unsent(value) || path.is_reference() {
            continue;
        }
        check_shape(path, value)?;
        place(body, path, post_json(path, value), settings);
    }
    Ok(())
}

fn post_json(path: &TargetPath, value: &Value) -> Json {
    match value {
        Value::Roles(roles) if !path.is_value_filtered() => {
            Json::Array(roles.iter().map(complex_role_element).collect())
        }
        Value::Roles(roles) => {
            let wants_display = path
                .sub_attr()
                .is_some_and(|sub| sub.eq_ignore_ascii_case("display"));
            let text = roles.first().map_or_else(String::new, |role| {
                if wants_display {
                    role.display_name.clone()
                } else {
                    role.value.clone()
                }
            });
            Json::String(text)
        }
        Value::Multi(values) if path.shape().multi_valued => value_elements(values),
        other => json_bool_or_string(path, single_text(other).unwrap_or_default()),
    }
}

fn place(body: &mut Map<String, Json>, path: &TargetPath, json: Json, settings: &CreateSettings) {
    if let Some(urn) = path.extension_urn() {
        if let Some(extension) = object_entry(body, urn) {
            insert_ci(extension, path.attr(), json);
        }
        return;
    }
    match (path.filter(), path.sub_attr()) {
        (Some(filter), sub) => {
            let Some(elements) = array_entry(body, path.attr()) else {
                return;
            };
            let index = match elements.iter().position(|element| filter.matches(element)) {
                Some(index) => index,
                None => {
                    elements.push(new_element(path, filter, settings));
                    elements.len() - 1
                }
            };
            if let Some(Json::Object(element)) = elements.get_mut(index) {
                insert_ci(element, sub.unwrap_or("value"), json);
            }
        }
        (None, Some(sub)) => {
            if let Some(object) = object_entry(body, path.attr()) {
                insert_ci(object, sub, json);
            }
        }
        (None, None) => insert_ci(body, path.attr(), json),
    }
}

/// A fresh element for `attr[filter]`: the filter's own attribute set (as a JSON boolean when the
/// schema says so), `primary` for configured types, and the app-role `type` for role elements.
fn new_element(path: &TargetPath, filter: &ValueFilter, settings: &CreateSettings) -> Json {
    let mut element = Map::new();
    let filter_ty = schema::shape(None, path.attr(), Some(&filter.attr), true).ty;
    let filter_value = match (filter_ty, normalise_bool(&filter.value)) {
        (AttrType::Boolean, Some(flag)) => Json::Bool(flag == "True"),
        _ => Json::String(filter.value.clone()),
    };
    element.insert(filter.attr.clone(), filter_value);
    let is_type_filter = filter.attr.eq_ignore_ascii_case("type");
    let primary = settings.primary_types.iter().any(|primary| {
        primary.attr.eq_ignore_ascii_case(path.attr())
            && primary.type_value.eq_ignore_ascii_case(&filter.value)
    });
    if is_type_filter && primary {
        element.insert("primary".to_owned(), Json::Bool(true));
    }
    if path.is_roles() && !is_type_filter {
        element.insert("type".to_owned(), Json::String(APP_ROLE_TYPE.to_owned()));
    }
    Json::Object(element)
}

fn existing_key(map: &Map<String, Json>, key: &str) -> Option<String> {
    map.keys()
        .find(|name| name.eq_ignore_ascii_case(key))
        .cloned()
}

/// Inserts under an existing key that differs only in case, else under `key` as written.
fn insert_ci(map: &mut Map<String, Json>, key: &str, value: Json) {
    let key = existing_key(map, key).unwrap_or_else(|| key.to_owned());
    map.insert(key, value);
}

fn object_entry<'a>(
    map: &'a mut Map<String, Json>,
    key: &str,
) -> Option<&'a mut Map<String, Json>> {
    let key = existing_key(map, key).unwrap_or_else(|| key.to_owned());
    let slot = map.entry(key).or_insert_with(|| Json::Object(Map::new()));
    if !slot.is_object() {
        *slot = Json::Object(Map::new());
    }
    slot.as_object_mut()
}

fn array_entry<'a>(map: &'a mut Map<String, Json>, key: &str) -> Option<&'a mut Vec<Json>> {
    let key = existing_key(map, key).unwrap_or_else(|| key.to_owned());
    let slot = map.entry(key).or_insert_with(|| Json::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Json::Array(Vec::new());
    }
    slot.as_array_mut()
}
