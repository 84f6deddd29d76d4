//! The direct SCIM tests of `conformance`: for each, the steps a [`StepsFlow`] sends (requests as
//! Microsoft's Logic-App template and SCIM Validator send them, described in our words in
//! issue 17) and the judges that decide PASSED — the reads, filters, duplicates and deletes here,
//! with the helpers the update tests (`updates`) share. Every object is named after the run's
//! prefix.
//!
//! [`StepsFlow`]: crate::plan::conformance::StepsFlow

use serde_json::{Value as Json, json};

use crate::plan::Method;
use crate::plan::conformance::{Answer, Capture, Ids, Judge, Miss, Step};
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA};
use crate::scim::{self, ResourceKind, ScimMode};

/// What a test's steps are built from.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The run's prefix (per mode), in every object's name.
    pub run: String,
    /// The dialect whose PATCH op casing the Logic-App tests use.
    pub mode: ScimMode,
    /// A GUID no object has (for the non-existent checks).
    pub missing_id: String,
    /// The target attributes of the mapping under test.
    pub targets: super::schema::Targets,
    /// The Tenant URL as the mode writes it (with `?aadOptscim062020` in that mode), for the
    /// engine scenarios' scratch jobs.
    pub tenant_url: String,
    /// The mapping the engine scenarios provision with.
    pub mapping: std::sync::Arc<super::MappingUnderTest>,
}

impl Ctx {
    pub(super) fn user_name(&self, tag: &str) -> String {
        format!("{}-{tag}@example.invalid", self.run)
    }

    pub(super) fn group_name(&self, tag: &str) -> String {
        format!("{} {tag}", self.run)
    }

    /// `Add`/`Replace`/`Remove` in the default dialect, lower case with `aadOptscim062020`.
    pub(super) fn op(&self, op: &str) -> String {
        match self.mode {
            ScimMode::Default => {
                let mut chars = op.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            }
            ScimMode::Aad062020 => op.to_string(),
        }
    }
}

type Check = Result<(), String>;

/// A judge from `f`, whose `Err` is a reason ([`String`]) or a reason with its fix ([`Miss`]).
pub(super) fn judge<E: Into<Miss>>(
    f: impl Fn(&Answer, Ids<'_>) -> Result<(), E> + Send + 'static,
) -> Judge {
    Box::new(move |answer, ids| f(answer, ids).map_err(Into::into))
}

/// A 2xx, then `f` on the body.
pub(super) fn success_then<E: Into<Miss>>(
    f: impl Fn(&Json, Ids<'_>) -> Result<(), E> + Send + 'static,
) -> Judge {
    judge(move |answer, ids| {
        if answer.is_success() {
            f(&answer.body, ids).map_err(Into::into)
        } else {
            Err(Miss::from(refusal(answer)))
        }
    })
}

fn success() -> Judge {
    success_then(|_, _| Check::Ok(()))
}

/// A 2xx; a 4xx refusal is explained by `hint` (the fix for this request's shape).
pub(super) fn success_or(hint: &'static str) -> Judge {
    judge(move |answer, _| match answer.status {
        _ if answer.is_success() => Ok(()),
        Some(400..=499) => Err(Miss::hinted(refusal(answer), hint)),
        _ => Err(Miss::from(refusal(answer))),
    })
}

fn status_is(want: u16) -> Judge {
    judge(move |answer, _| match answer.status {
        Some(status) if status == want => Ok(()),
        _ => Err(format!("expected {want}; {}", refusal(answer))),
    })
}

/// `answered 400: detail` (or why no answer came).
pub fn refusal(answer: &Answer) -> String {
    match (answer.status, &answer.error) {
        (Some(status), _) => {
            let detail = answer.body.get("detail").and_then(Json::as_str);
            match detail {
                Some(detail) => format!("answered {status}: {detail}"),
                None => format!("answered {status}"),
            }
        }
        (None, Some(error)) => format!("no answer: {error}"),
        (None, None) => "no answer".into(),
    }
}

fn step(label: &str, method: Method, path: String, body: Option<Json>, judge: Judge) -> Step {
    Step {
        label: label.to_string(),
        method,
        path,
        body,
        capture: None,
        judge,
    }
}

/// POST to the collection of `kind`; the id is kept as `name` and the object deleted at the end.
fn create(label: &str, kind: ResourceKind, name: &str, body: Json, judge: Judge) -> Step {
    Step {
        capture: Some(Capture {
            name: name.to_string(),
            kind,
        }),
        ..step(
            label,
            Method::Post,
            kind.collection_path().into(),
            Some(body),
            judge,
        )
    }
}

pub(super) fn get(label: &str, path: String, judge: Judge) -> Step {
    step(label, Method::Get, path, None, judge)
}

pub(super) fn patch(label: &str, kind: ResourceKind, name: &str, ops: Json) -> Step {
    patch_judged(label, kind, name, ops, success())
}

/// A PATCH of the object captured as `name`, its answer judged by `judge`.
pub(super) fn patch_judged(
    label: &str,
    kind: ResourceKind,
    name: &str,
    ops: Json,
    judge: Judge,
) -> Step {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops});
    step(label, Method::Patch, by_id(kind, name), Some(body), judge)
}

pub(super) fn by_id(kind: ResourceKind, name: &str) -> String {
    format!("{}/${{{name}}}", kind.collection_path())
}

fn user_body(user_name: &str) -> Json {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "userName": user_name,
        "externalId": user_name,
        "active": true,
        "displayName": "Conformance User",
        "title": "Tester",
        "preferredLanguage": "en-US",
        "name": {"givenName": "Conformance", "familyName": "User"},
        ENTERPRISE_USER_SCHEMA: {"department": "Quality"},
    })
}

fn group_body(display_name: &str) -> Json {
    json!({
        "schemas": [GROUP_SCHEMA],
        "displayName": display_name,
        "externalId": display_name,
    })
}

pub(super) fn created_user(ctx: &Ctx, name: &str, tag: &str) -> Step {
    let body = user_body(&ctx.user_name(tag));
    create("create a user", ResourceKind::User, name, body, success())
}

pub(super) fn created_group(ctx: &Ctx, name: &str, tag: &str) -> Step {
    let body = group_body(&ctx.group_name(tag));
    create("create a group", ResourceKind::Group, name, body, success())
}

/// A resource's attribute by path: `a`, `a.b`, or `urn:…:Schema:attr` in its extension object.
pub(super) fn attribute<'a>(resource: &'a Json, path: &str) -> Option<&'a Json> {
    if let Some((urn, name)) = path.rsplit_once(':') {
        return resource.get(urn)?.get(name);
    }
    path.split('.')
        .try_fold(resource, |value, part| value.get(part))
}

/// `path` is `want`.
pub(super) fn has(resource: &Json, path: &str, want: &Json) -> Check {
    match attribute(resource, path) {
        Some(seen) if seen == want => Ok(()),
        seen => Err(format!(
            "{path} reads {}, expected {want}",
            seen.map_or("nothing".into(), Json::to_string)
        )),
    }
}

/// `path` is gone: absent, null, or (when `empty_ok`) an empty string.
pub(super) fn cleared(resource: &Json, path: &str, empty_ok: bool) -> Check {
    match attribute(resource, path) {
        None | Some(Json::Null) => Ok(()),
        Some(Json::String(s)) if empty_ok && s.is_empty() => Ok(()),
        Some(seen) => Err(format!("{path} still reads {seen}")),
    }
}

pub(super) fn resources(body: &Json) -> &[Json] {
    body.get("Resources")
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// 200 and an empty ListResponse.
fn empty_list() -> Judge {
    judge(|answer, _| {
        if answer.status != Some(200) {
            return Err(format!(
                "expected 200 and an empty ListResponse; {}",
                refusal(answer)
            ));
        }
        let total = answer.body.get("totalResults").and_then(Json::as_u64);
        if total == Some(0) && resources(&answer.body).is_empty() {
            Ok(())
        } else {
            Err(format!(
                "expected totalResults 0 and no Resources, got totalResults {}",
                total.map_or("missing".into(), |t| t.to_string())
            ))
        }
    })
}

/// 200 with exactly one resource, the object captured as `name`, found by a filter on `attr`
/// in another case.
fn finds(name: &'static str, attr: &'static str) -> Judge {
    success_then(move |body, ids| {
        let found = resources(body);
        let want = ids.get(name);
        match found {
            [one] if one.get("id").and_then(Json::as_str) == want => Ok(()),
            [] => Err(Miss::hinted(
                "the filter found nothing",
                format!(
                    "compare {attr} case-insensitively in eq filters (RFC 7643: caseExact false); otherwise Entra does not find an object whose {attr} changed case and creates a duplicate"
                ),
            )),
            _ => Err(Miss::hinted(
                format!(
                    "the filter found {} resource(s), not the object created",
                    found.len()
                ),
                format!(
                    "apply the filter: answer only the resources whose {attr} equals the value"
                ),
            )),
        }
    })
}

/// `Filter_NonExistent_Test`: a filter matching nothing answers 200 and an empty ListResponse.
pub fn filter_non_existent(ctx: &Ctx) -> Vec<Step> {
    let nobody = ctx.user_name(&ctx.missing_id);
    vec![
        get(
            "filter users on a userName no user has",
            scim::eq_query(ResourceKind::User, "userName", &nobody),
            empty_list(),
        ),
        get(
            "filter groups on a displayName no group has",
            scim::eq_query(ResourceKind::Group, "displayName", &ctx.missing_id),
            empty_list(),
        ),
    ]
}

/// `Delete_NonExistent_Test`: deleting an id no user has answers 404.
pub fn delete_non_existent(ctx: &Ctx) -> Vec<Step> {
    let path = scim::resource_path(ResourceKind::User, &ctx.missing_id);
    vec![step(
        "delete a user no one has",
        Method::Delete,
        path,
        None,
        status_is(404),
    )]
}

/// `Delete_Twice_Test`: a user deleted once is gone; the second DELETE answers 404.
pub fn delete_twice(ctx: &Ctx) -> Vec<Step> {
    let path = by_id(ResourceKind::User, "u");
    vec![
        created_user(ctx, "u", "deltwice"),
        step("delete it", Method::Delete, path.clone(), None, success()),
        step(
            "delete it again",
            Method::Delete,
            path,
            None,
            status_is(404),
        ),
    ]
}

/// A duplicate refused as RFC 7644 §3.3 asks: 409 with `scimType` `uniqueness`. A duplicate
/// created and a 409 without that `scimType` are different fixes.
fn refused_as_duplicate(attr: &'static str) -> Judge {
    judge(move |answer, _| {
        let scim_type = answer.body.get("scimType").and_then(Json::as_str);
        match answer.status {
            Some(409) if scim_type == Some("uniqueness") => Ok(()),
            Some(409) => Err(Miss::hinted(
                format!(
                    "409 came with scimType {}",
                    scim_type.map_or("missing".into(), |t| format!("\"{t}\""))
                ),
                "add \"scimType\": \"uniqueness\" to the 409 error body (RFC 7644 §3.3); Microsoft's SCIM Validator checks it, Entra's job logs a 409 the same way with or without it",
            )),
            Some(status @ 200..=299) => Err(Miss::hinted(
                format!("the duplicate was created ({status}), expected 409"),
                format!(
                    "refuse a POST whose {attr} is already taken with 409 and scimType \"uniqueness\"; a second object with the same {attr} makes Entra's matching filter find two"
                ),
            )),
            _ => Err(Miss::from(format!("expected 409; {}", refusal(answer)))),
        }
    })
}

/// `Duplicate_User_Test`: a second user with the same userName is refused with 409.
pub fn duplicate_user(ctx: &Ctx) -> Vec<Step> {
    let body = user_body(&ctx.user_name("dup"));
    vec![
        create(
            "create a user",
            ResourceKind::User,
            "u",
            body.clone(),
            success(),
        ),
        create(
            "create it again",
            ResourceKind::User,
            "dup",
            body,
            refused_as_duplicate("userName"),
        ),
    ]
}

/// `Duplicate_Group_Test`: a second group with the same displayName is refused with 409.
pub fn duplicate_group(ctx: &Ctx) -> Vec<Step> {
    let body = group_body(&ctx.group_name("Dup"));
    vec![
        create(
            "create a group",
            ResourceKind::Group,
            "g",
            body.clone(),
            success(),
        ),
        create(
            "create it again",
            ResourceKind::Group,
            "dup",
            body,
            refused_as_duplicate("displayName"),
        ),
    ]
}

/// `Filter_User_Different_Case_Test`: userName in upper case finds the user.
pub fn filter_user_case(ctx: &Ctx) -> Vec<Step> {
    let name = ctx.user_name("Ford_Purdy");
    vec![
        create(
            "create a user",
            ResourceKind::User,
            "u",
            user_body(&name),
            success(),
        ),
        get(
            "filter on its userName in upper case",
            scim::eq_query(ResourceKind::User, "userName", &name.to_uppercase()),
            finds("u", "userName"),
        ),
    ]
}

/// `Filter_Group_Different_Case_Test`: displayName in lower case finds the group.
pub fn filter_group_case(ctx: &Ctx) -> Vec<Step> {
    let name = ctx.group_name("UHYYWKURUTZS");
    vec![
        create(
            "create a group",
            ResourceKind::Group,
            "g",
            group_body(&name),
            success(),
        ),
        get(
            "filter on its displayName in lower case",
            scim::eq_query(ResourceKind::Group, "displayName", &name.to_lowercase()),
            finds("g", "displayName"),
        ),
    ]
}

/// No `members` in `resource`; else the fix for the read `how` (by id, by filter).
fn without_members(resource: &Json, how: &str) -> Result<(), Miss> {
    match resource.get("members") {
        None => Ok(()),
        Some(_) => Err(Miss::hinted(
            "members came back although excludedAttributes=members",
            format!(
                "leave members out of {how} when excludedAttributes=members is asked; Entra reads groups that way so that large groups stay cheap"
            ),
        )),
    }
}

/// `Exclude_Members_Test`: `excludedAttributes=members` is honoured by id and by filter.
pub fn exclude_members(ctx: &Ctx) -> Vec<Step> {
    let name = ctx.group_name("Exclude");
    let mut body = group_body(&name);
    body["members"] = json!([{"value": "${u}"}]);
    vec![
        created_user(ctx, "u", "member"),
        create(
            "create a group with a member",
            ResourceKind::Group,
            "g",
            body,
            success(),
        ),
        get(
            "read the group by id without members",
            format!(
                "{}?excludedAttributes=members",
                by_id(ResourceKind::Group, "g")
            ),
            success_then(|body, _| without_members(body, "GET /Groups/{id}")),
        ),
        get(
            "filter the group without members",
            scim::eq_query(ResourceKind::Group, "displayName", &name),
            success_then(|body, _| match resources(body) {
                [one] => without_members(one, "a filtered GET /Groups?filter=…"),
                found => Err(Miss::from(format!(
                    "the filter found {} groups, not 1",
                    found.len()
                ))),
            }),
        ),
    ]
}

/// A created resource answers `attr` exactly as sent.
fn as_sent(body: &Json, attr: &str, want: &Json) -> Result<(), Miss> {
    has(body, attr, want).map_err(|reason| {
        let hint = format!("answer the created resource with {attr} exactly as sent (case included): Microsoft's check compares it exactly, and Entra matches on it later");
        Miss::hinted(reason, hint)
    })
}

/// `SCIM_User_Create_Test`: a user is created, with the userName exactly as sent.
pub fn user_create(ctx: &Ctx) -> Vec<Step> {
    let name = ctx.user_name("create");
    let want = json!(name);
    vec![create(
        "create a user",
        ResourceKind::User,
        "u",
        user_body(&name),
        success_then(move |body, _| as_sent(body, "userName", &want)),
    )]
}

/// `SCIM_Group_Create_Test`: a group is created, with the displayName exactly as sent.
pub fn group_create(ctx: &Ctx) -> Vec<Step> {
    let name = ctx.group_name("Create");
    let want = json!(name);
    vec![create(
        "create a group",
        ResourceKind::Group,
        "g",
        group_body(&name),
        success_then(move |body, _| as_sent(body, "displayName", &want)),
    )]
}
