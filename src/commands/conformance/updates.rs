//! The `conformance` tests that change objects and read them back: the Logic App's user, group,
//! null and manager updates, and the SCIM Validator's multi-operation PATCH.

use serde_json::{Value as Json, json};

use super::direct::{
    Ctx, attribute, by_id, cleared, created_group, created_user, get, has, patch, patch_judged,
    success_or, success_then,
};
use crate::plan::conformance::{Judge, Miss, Step};
use crate::scim::ResourceKind;

/// `SCIM_Group_Update_Test`: displayName and externalId replaced, one operation each.
pub fn group_update(ctx: &Ctx) -> Vec<Step> {
    let new_name = ctx.group_name("Updated");
    let new_external = format!("{}-upd", ctx.run);
    let ops = json!([
        {"op": ctx.op("replace"), "path": "displayName", "value": new_name},
        {"op": ctx.op("replace"), "path": "externalId", "value": new_external},
    ]);
    let (name, external) = (json!(new_name), json!(new_external));
    vec![
        created_group(ctx, "g", "Update"),
        patch(
            "replace displayName and externalId",
            ResourceKind::Group,
            "g",
            ops,
        ),
        get(
            "read the group back",
            format!(
                "{}?excludedAttributes=members",
                by_id(ResourceKind::Group, "g")
            ),
            success_then(move |body, _| {
                has(body, "displayName", &name)?;
                has(body, "externalId", &external)
            }),
        ),
    ]
}

/// Single-valued string attributes the user update replaces (userName and externalId included,
/// as the Logic App does).
const UPDATABLE: [&str; 5] = [
    "userName",
    "externalId",
    "displayName",
    "title",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
];

/// `SCIM_User_Update_Test`: single-valued attributes replaced (one operation each) read back as
/// sent.
pub fn user_update(ctx: &Ctx) -> Vec<Step> {
    let value = |path: &str| match path {
        "userName" => ctx.user_name("updated"),
        other => format!(
            "upd-{}-{}",
            ctx.run,
            other.rsplit(':').next().unwrap_or(other)
        ),
    };
    let wanted: Vec<(&'static str, Json)> =
        UPDATABLE.iter().map(|p| (*p, json!(value(p)))).collect();
    let ops: Vec<Json> = wanted
        .iter()
        .map(|(path, value)| json!({"op": ctx.op("replace"), "path": path, "value": value}))
        .collect();
    vec![
        created_user(ctx, "u", "update"),
        patch(
            "replace single-valued attributes",
            ResourceKind::User,
            "u",
            Json::Array(ops),
        ),
        get(
            "read the user back",
            by_id(ResourceKind::User, "u"),
            success_then(move |body, _| {
                wanted
                    .iter()
                    .try_for_each(|(path, want)| has(body, path, want))
            }),
        ),
    ]
}

/// Attributes a null update clears: not required, not matching, not references.
const NULLABLE: [&str; 3] = [
    "title",
    "preferredLanguage",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
];

/// `SCIM_Null_Update_Test`: replacing attributes with `""`, then with `null`, clears them.
pub fn null_update(ctx: &Ctx) -> Vec<Step> {
    let ops = |value: Json| {
        let ops: Vec<Json> = NULLABLE
            .iter()
            .map(|path| json!({"op": ctx.op("replace"), "path": path, "value": value}))
            .collect();
        Json::Array(ops)
    };
    let read = |empty_ok: bool| {
        get(
            "read the user back",
            by_id(ResourceKind::User, "u"),
            success_then(move |body, _| {
                NULLABLE
                    .iter()
                    .try_for_each(|path| nulled(body, path, empty_ok))
            }),
        )
    };
    vec![
        created_user(ctx, "u", "null"),
        patch(
            "replace with empty strings",
            ResourceKind::User,
            "u",
            ops(json!("")),
        ),
        read(true),
        patch(
            "replace with null",
            ResourceKind::User,
            "u",
            ops(Json::Null),
        ),
        read(false),
    ]
}

/// `path` cleared by a replace with `""` (`empty_ok`) or with `null`, with the fix for each way
/// it was not.
fn nulled(body: &Json, path: &str, empty_ok: bool) -> Result<(), Miss> {
    let kept_empty = attribute(body, path).is_some_and(|v| v == &json!(""));
    cleared(body, path, empty_ok).map_err(|reason| {
        let hint = if kept_empty {
            "treat a replace with null as removing the attribute: answer it absent or null, not \"\""
        } else if empty_ok {
            "treat a replace with \"\" as clearing the attribute (absent, null or \"\" on GET); Entra sends \"\" when a source attribute becomes empty"
        } else {
            "treat a replace with null as removing the attribute (absent or null on GET)"
        };
        Miss::hinted(reason, hint)
    })
}

/// `MultiOp_Patch_Test`: several operations in one PATCH apply in order (the Validator's lower
/// case ops in either mode), on a user and on a group's members.
pub fn multi_op_patch(ctx: &Ctx) -> Vec<Step> {
    let mut steps = multi_op_user(ctx);
    steps.extend(multi_op_members(ctx));
    steps
}

fn multi_op_user(ctx: &Ctx) -> Vec<Step> {
    let external = format!("{}-multi", ctx.run);
    let ops = json!([
        {"op": "remove", "path": "preferredLanguage"},
        {"op": "add", "path": "externalId", "value": external},
        {"op": "replace", "path": "displayName", "value": "Multi Op"},
    ]);
    let same = json!([
        {"op": "remove", "path": "externalId"},
        {"op": "add", "path": "externalId", "value": "v1"},
        {"op": "replace", "path": "externalId", "value": "v2"},
    ]);
    let external = json!(external);
    vec![
        created_user(ctx, "u", "multiop"),
        patch("remove, add and replace", ResourceKind::User, "u", ops),
        get(
            "read the user back",
            by_id(ResourceKind::User, "u"),
            success_then(move |body, _| {
                let all = || -> Result<(), String> {
                    cleared(body, "preferredLanguage", false)?;
                    has(body, "externalId", &external)?;
                    has(body, "displayName", &json!("Multi Op"))
                };
                all().map_err(|reason| {
                    Miss::hinted(
                        reason,
                        "apply every operation of a PATCH, not only the first or the last",
                    )
                })
            }),
        ),
        patch(
            "three operations on one attribute",
            ResourceKind::User,
            "u",
            same,
        ),
        get(
            "read the user back",
            by_id(ResourceKind::User, "u"),
            success_then(|body, _| {
                has(body, "externalId", &json!("v2")).map_err(|reason| {
                    Miss::hinted(reason, "apply a PATCH's operations in the order sent: remove, add, then replace of one attribute leaves the replace's value")
                })
            }),
        ),
    ]
}

/// Adds the user `u` to a new group and removes it again in one PATCH.
fn multi_op_members(ctx: &Ctx) -> Vec<Step> {
    let members = json!([
        {"op": "add", "path": "members", "value": [{"value": "${u}"}]},
        {"op": "remove", "path": "members[value eq \"${u}\"]"},
    ]);
    vec![
        created_group(ctx, "g", "MultiOp"),
        patch(
            "add then remove a member",
            ResourceKind::Group,
            "g",
            members,
        ),
        get(
            "read the group back",
            by_id(ResourceKind::Group, "g"),
            success_then(|body, ids| {
                let members = body.get("members").and_then(Json::as_array);
                let is_u = |m: &Json| m.get("value").and_then(Json::as_str) == ids.get("u");
                if members.is_none_or(|m| !m.iter().any(is_u)) {
                    Ok(())
                } else {
                    Err(Miss::hinted(
                        "the member added and removed is still a member",
                        "apply a PATCH's operations in the order sent: a member added, then removed with members[value eq \"id\"] in the same PATCH, is not a member",
                    ))
                }
            }),
        ),
    ]
}

const MANAGER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

/// The user's manager is the one captured as `name` (or, with `None`, none).
fn manager_is(name: Option<&'static str>) -> Judge {
    success_then(move |body, ids| {
        let seen = attribute(body, MANAGER)
            .and_then(|m| m.get("value"))
            .and_then(Json::as_str)
            .filter(|v| !v.is_empty());
        let want = name.and_then(|n| ids.get(n));
        if seen == want {
            return Ok(());
        }
        let reason = format!(
            "manager reads {}, expected {}",
            seen.unwrap_or("nothing"),
            want.unwrap_or("nothing")
        );
        let hint = match name {
            Some(_) => {
                "store the manager id sent as a plain string and answer it as manager.value on GET"
            }
            None => {
                "treat a replace of manager with \"\" as removing the manager (absent, null or \"\" on GET)"
            }
        };
        Err(Miss::hinted(reason, hint))
    })
}

/// The fix for a refused manager PATCH.
const PLAIN_MANAGER: &str = "accept the manager as a plain string value (\"value\": \"<manager id>\"), as Entra sends it in both dialects; accepting only {\"value\": id} is not enough, and no Tenant URL flag changes it";

/// `SCIM_Update_Manager_Test`: a manager set (plain string value, as Entra sends it), changed
/// and removed.
pub fn update_manager(ctx: &Ctx) -> Vec<Step> {
    let set = |op: &str, value: &str| json!([{"op": ctx.op(op), "path": MANAGER, "value": value}]);
    let read = |name| {
        get(
            "read the user back",
            by_id(ResourceKind::User, "u"),
            manager_is(name),
        )
    };
    vec![
        created_user(ctx, "u", "managed"),
        created_user(ctx, "m1", "manager1"),
        created_user(ctx, "m2", "manager2"),
        patch_judged(
            "set the manager",
            ResourceKind::User,
            "u",
            set("add", "${m1}"),
            success_or(PLAIN_MANAGER),
        ),
        read(Some("m1")),
        patch_judged(
            "change the manager",
            ResourceKind::User,
            "u",
            set("replace", "${m2}"),
            success_or(PLAIN_MANAGER),
        ),
        read(Some("m2")),
        patch_judged(
            "remove the manager",
            ResourceKind::User,
            "u",
            set("replace", ""),
            success_or(
                "accept a replace of manager with \"\" as removing it; Entra's job sends that shape in neither dialect, Microsoft's validation does",
            ),
        ),
        read(None),
    ]
}
