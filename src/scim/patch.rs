//! PATCH bodies in both dialects (spec §2.3–§2.5, §6.6): attribute updates, disable/enable, the
//! manager link, group membership batches and role updates.
//!
//! Default: capitalised ops, one op per attribute with a `path`, booleans as `"True"`/`"False"`.
//! `aadOptscim062020`: lower-case ops, JSON booleans; when two or more plain attributes are replaced,
//! they are merged into one path-less `replace` keyed by path (a single one keeps its `path`, as
//! the flag-mode disable example shows). Value-filtered paths, `add`/`remove` ops, references and
//! roles always keep their own op.

use serde_json::{Map, Value as Json, json};

use crate::expr::{AppRole, Value};
use crate::scim::diff::{AttrChange, PatchOp};
use crate::scim::path::{TargetPath, filter_literal};
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, PATCH_OP_SCHEMA};
use crate::scim::url::ScimMode;
use crate::scim::wire_value::{
    assertive_role_element, complex_role_element, encoded_role_element, json_bool_or_string,
    single_role_element, single_text, string_bool, value_elements,
};

/// The `PATCH /Users/{id}` (or `/Groups/{id}`) body for a set of attribute changes.
pub fn patch_body(changes: &[AttrChange], mode: ScimMode) -> Json {
    let mergeable = |change: &AttrChange| {
        mode == ScimMode::Aad062020
            && change.op == PatchOp::Replace
            && !change.path.is_value_filtered()
            && !change.path.is_reference()
            && !matches!(change.new, Value::Roles(_))
    };
    let merge = changes.iter().filter(|change| mergeable(change)).count() >= 2;
    let mut operations = Vec::new();
    let mut merged = Map::new();
    let mut merged_at = None;
    for change in changes {
        if merge && mergeable(change) {
            merged.insert(
                change.path.to_string(),
                op_value(change, mode).unwrap_or(Json::Null),
            );
            if merged_at.is_none() {
                merged_at = Some(operations.len());
                operations.push(Json::Null);
            }
        } else {
            operations.push(single_op(change, mode));
        }
    }
    if let Some(slot) = merged_at.and_then(|index| operations.get_mut(index)) {
        *slot = json!({ "op": op_name(PatchOp::Replace, mode), "value": merged });
    }
    patch_request(operations)
}

/// Disables a user: `active` False (spec §2.3 default, §2.5 flag).
pub fn disable_body(mode: ScimMode) -> Json {
    active_body(false, mode)
}

/// Re-enables a user: `active` True.
pub fn enable_body(mode: ScimMode) -> Json {
    active_body(true, mode)
}

fn active_body(active: bool, mode: ScimMode) -> Json {
    let value = match mode {
        ScimMode::Default => Json::String(if active { "True" } else { "False" }.to_owned()),
        ScimMode::Aad062020 => Json::Bool(active),
    };
    patch_request(vec![
        json!({ "op": op_name(PatchOp::Replace, mode), "path": "active", "value": value }),
    ])
}

/// Links a manager after both users exist: the manager's target id as a plain string value.
pub fn manager_body(manager_target_id: &str, mode: ScimMode) -> Json {
    patch_request(vec![json!({
        "op": op_name(PatchOp::Add, mode),
        "path": format!("{ENTERPRISE_USER_SCHEMA}:manager"),
        "value": manager_target_id,
    })])
}

/// Clears the manager of a user whose manager was removed in the source; `old_manager_id` is the
/// target id last linked. Real traffic decides the flag dialect and inference the default one
/// (the README's UNCONFIRMED table):
/// - `aadOptscim062020`: `remove` with the path `manager[value eq "<old id>"]` and no value, as a
///   server author captured it from Entra (thomaspoignant/scim-patch#453) — a value filter on a
///   single-valued attribute, which RFC-strict PATCH libraries refuse;
/// - default: `Remove` with the enterprise path and the old id in `value` as `[{"value": id}]`,
///   the default dialect's documented form for removing a reference (members, §2.5): no capture
///   of it was found.
///
/// Microsoft's own validation only asserts the outcome (an `Update` logged with `manager` newly
/// empty, and no manager in the read-back), not the request.
pub fn manager_removal_body(old_manager_id: &str, mode: ScimMode) -> Json {
    let op = op_name(PatchOp::Remove, mode);
    patch_request(vec![match mode {
        ScimMode::Default => json!({
            "op": op,
            "path": format!("{ENTERPRISE_USER_SCHEMA}:manager"),
            "value": [{ "value": old_manager_id }],
        }),
        ScimMode::Aad062020 => json!({
            "op": op,
            "path": format!("manager[value eq {}]", filter_literal(old_manager_id)),
        }),
    }])
}

/// Group membership PATCH bodies: adds first, then removes, at most `batch_size` members per
/// request (the batch size is UNCONFIRMED in the spec; 0 is treated as 1). Member ids are the
/// members' target ids.
pub fn member_bodies(
    add: &[String],
    remove: &[String],
    mode: ScimMode,
    batch_size: usize,
) -> Vec<Json> {
    let size = batch_size.max(1);
    let adds = add.chunks(size).map(|chunk| {
        let elements: Vec<Json> = chunk
            .iter()
            .map(|id| match mode {
                ScimMode::Default => json!({ "$ref": null, "value": id }),
                ScimMode::Aad062020 => json!({ "value": id }),
            })
            .collect();
        patch_request(vec![
            json!({ "op": op_name(PatchOp::Add, mode), "path": "members", "value": elements }),
        ])
    });
    let removes = remove.chunks(size).map(|chunk| match mode {
        ScimMode::Default => patch_request(vec![json!({
            "op": op_name(PatchOp::Remove, mode),
            "path": "members",
            "value": value_elements(chunk),
        })]),
        ScimMode::Aad062020 => patch_request(
            chunk
                .iter()
                .map(|id| {
                    json!({ "op": op_name(PatchOp::Remove, mode), "path": format!("members[value eq {}]", filter_literal(id)) })
                })
                .collect(),
        ),
    });
    adds.chain(removes).collect()
}

fn patch_request(operations: Vec<Json>) -> Json {
    json!({ "schemas": [PATCH_OP_SCHEMA], "Operations": operations })
}

fn op_name(op: PatchOp, mode: ScimMode) -> &'static str {
    match (op, mode) {
        (PatchOp::Add, ScimMode::Default) => "Add",
        (PatchOp::Replace, ScimMode::Default) => "Replace",
        (PatchOp::Remove, ScimMode::Default) => "Remove",
        (PatchOp::Add, ScimMode::Aad062020) => "add",
        (PatchOp::Replace, ScimMode::Aad062020) => "replace",
        (PatchOp::Remove, ScimMode::Aad062020) => "remove",
    }
}

fn single_op(change: &AttrChange, mode: ScimMode) -> Json {
    if let Value::Roles(roles) = &change.new {
        return roles_op(change, roles, mode);
    }
    let mut op = Map::new();
    op.insert("op".to_owned(), Json::from(op_name(change.op, mode)));
    op.insert("path".to_owned(), Json::String(change.path.to_string()));
    if let Some(value) = op_value(change, mode) {
        op.insert("value".to_owned(), value);
    }
    Json::Object(op)
}

/// Role updates (spec §6.6). Default: `Add` with JSON-string-encoded roles; flag: the POST element
/// shapes. Assertive (`Replace` on the unfiltered list) is sent as the spec's example shows it in
/// either mode: lower-case `replace` with `display` elements.
fn roles_op(change: &AttrChange, roles: &[AppRole], mode: ScimMode) -> Json {
    let single = change.path.is_value_filtered();
    if change.op == PatchOp::Replace && !single {
        let elements: Vec<Json> = roles.iter().map(assertive_role_element).collect();
        return json!({ "op": "replace", "path": "roles", "value": elements });
    }
    let elements: Vec<Json> = match (mode, single) {
        (ScimMode::Default, _) => roles.iter().map(encoded_role_element).collect(),
        (ScimMode::Aad062020, true) => roles
            .iter()
            .map(|role| single_role_element(&role.value))
            .collect(),
        (ScimMode::Aad062020, false) => roles.iter().map(complex_role_element).collect(),
    };
    json!({ "op": op_name(change.op, mode), "path": "roles", "value": elements })
}

/// The `value` of one op; `None` for a `Remove` with nothing to name.
fn op_value(change: &AttrChange, mode: ScimMode) -> Option<Json> {
    let scalar = |path: &TargetPath, text: &str| match mode {
        ScimMode::Default => string_bool(path, text),
        ScimMode::Aad062020 => json_bool_or_string(path, text),
    };
    match &change.new {
        Value::Multi(values) if change.path.shape().multi_valued => Some(value_elements(values)),
        Value::Null => change.old.as_deref().map(|old| scalar(&change.path, old)),
        other => single_text(other).map(|text| scalar(&change.path, text)),
    }
}
