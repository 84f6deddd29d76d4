//! The SCIM endpoints: list/filter with pagination and projection, create, read, PATCH, PUT and
//! DELETE for Users and Groups, and the discovery documents. Store locks are taken one at a time
//! and never held across an await.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::target::PatchResponse;
use crate::target::discovery;
use crate::target::error::{ScimError, ScimType, scim_json};
use crate::target::eval::get_ci;
use crate::target::filter;
use crate::target::patch;
use crate::target::quirk::Quirk;
use crate::target::resource::{self, Projection, render};
use crate::target::schema::{Kind, LIST_URN};
use crate::target::server::{Shared, read, write};

type St = State<Arc<Shared>>;
type Answer = Result<Response, ScimError>;

/// Decodes an `application/x-www-form-urlencoded` query (`+` is a space, RFC 3986 escapes);
/// parameter names are matched case-insensitively.
fn query_params(raw: Option<&str>) -> Result<HashMap<String, String>, ScimError> {
    let decode = |s: &str| -> Result<String, ScimError> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    let Some(v) = hex else {
                        return Err(ScimError::bad(
                            ScimType::InvalidValue,
                            "bad percent-encoding in query",
                        ));
                    };
                    out.push(v);
                    i += 2;
                }
                other => out.push(other),
            }
            i += 1;
        }
        String::from_utf8(out)
            .map_err(|_| ScimError::bad(ScimType::InvalidValue, "query is not UTF-8"))
    };
    let mut params = HashMap::new();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(decode(k)?.to_ascii_lowercase(), decode(v)?);
    }
    Ok(params)
}

fn projection(s: &Shared, params: &HashMap<String, String>) -> Result<Projection, ScimError> {
    let excluded = params
        .get("excludedattributes")
        .filter(|_| !s.quirks.has(Quirk::IgnoreExcludedAttributes));
    Projection::parse(
        params.get("attributes").map(String::as_str),
        excluded.map(String::as_str),
    )
}

fn int_param(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ScimError> {
    params
        .get(&name.to_ascii_lowercase())
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                ScimError::bad(
                    ScimType::InvalidValue,
                    format!("'{name}' must be an integer"),
                )
            })
        })
        .transpose()
}

/// Reads a JSON request body. Entra sends `application/scim+json`; `application/json` (any
/// parameters) is accepted too; anything else, or no type at all, is 415 as on a strict server.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ScimError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match media.as_deref() {
        Some("application/scim+json" | "application/json") => {}
        Some(other) => {
            return Err(ScimError::new(
                415,
                None,
                format!("unsupported Content-Type '{other}'; use application/scim+json"),
            ));
        }
        None => {
            return Err(ScimError::new(
                415,
                None,
                "missing Content-Type; use application/scim+json",
            ));
        }
    }
    serde_json::from_slice(body)
        .map_err(|e| ScimError::bad(ScimType::InvalidSyntax, format!("invalid JSON: {e}")))
}

async fn list(s: Arc<Shared>, kind: Kind, q: Option<String>) -> Answer {
    let params = query_params(q.as_deref())?;
    let f = params
        .get("filter")
        .map(|f| filter::parse_filter(f))
        .transpose()
        .map_err(|e| ScimError::bad(ScimType::InvalidFilter, format!("filter: {e}")))?;
    let proj = projection(&s, &params)?;
    let (start, count) = page_bounds(&s, &params)?;
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let (total, page) = {
        let store = read(s.store(kind));
        let mut found = store.query(f.as_ref());
        if let Some(f) = &f {
            found.retain(|r| s.quirks.exact_match(kind, f, r));
        }
        let page: Vec<Value> = found
            .iter()
            .skip(skip)
            .take(count)
            .map(|r| render(kind, (*r).clone(), &proj, &s.base_url))
            .collect();
        (found.len(), page)
    };
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_URN],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": page.len(),
            "Resources": page,
        }),
    ))
}

/// `startIndex` (1-based) and `count` of a list request, capped at the page size; everything
/// from 1 with the `ignore-pagination` quirk.
fn page_bounds(s: &Shared, params: &HashMap<String, String>) -> Result<(i64, usize), ScimError> {
    let start = int_param(params, "startIndex")?.unwrap_or(1).max(1);
    let count = int_param(params, "count")?
        .map_or(s.max_page, |c| usize::try_from(c.max(0)).unwrap_or(0))
        .min(s.max_page);
    if s.quirks.has(Quirk::IgnorePagination) {
        return Ok((1, usize::MAX));
    }
    Ok((start, count))
}

fn not_found(kind: Kind, id: &str) -> ScimError {
    ScimError::not_found(format!("{} {id} not found", kind.resource_type()))
}

fn resource_response(
    status: StatusCode,
    kind: Kind,
    s: &Shared,
    res: Map<String, Value>,
) -> Response {
    let location = res
        .get("meta")
        .and_then(|m| m.get("location"))
        .and_then(Value::as_str)
        .and_then(|l| HeaderValue::from_str(l).ok());
    let mut resp = scim_json(
        status,
        &render(kind, res, &Projection::default(), &s.base_url),
    );
    if let (StatusCode::CREATED, Some(l)) = (status, location) {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    resp
}

async fn get_one(s: Arc<Shared>, kind: Kind, id: String, q: Option<String>) -> Answer {
    let proj = projection(&s, &query_params(q.as_deref())?)?;
    let store = read(s.store(kind));
    let res = store.get(&id).ok_or_else(|| not_found(kind, &id))?;
    Ok(scim_json(
        StatusCode::OK,
        &render(kind, res.clone(), &proj, &s.base_url),
    ))
}

/// Members must name existing users or groups: Entra sends target ids it got from this server,
/// so an unknown id is a bug in the sender (e.g. an Entra objectId instead of the SCIM id).
fn check_members(s: &Shared, ids: &[String]) -> Result<(), ScimError> {
    let missing: Vec<&String> = {
        let users = read(&s.users);
        ids.iter().filter(|id| !users.contains(id)).collect()
    };
    if missing.is_empty() {
        return Ok(());
    }
    let groups = read(&s.groups);
    match missing.into_iter().find(|id| !groups.contains(id)) {
        Some(id) => Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("member '{id}' is not a known user or group"),
        )),
        None => Ok(()),
    }
}

fn member_ids(content: &Map<String, Value>) -> Vec<String> {
    match get_ci(content, "members") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// A POST/PUT body, refused as the quirks say, then validated and normalised.
fn prepared(
    s: &Shared,
    kind: Kind,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, ScimError> {
    let body = json_body(headers, body)?;
    s.quirks.check_body(kind, &body)?;
    resource::prepare(kind, body)
}

async fn create(s: Arc<Shared>, kind: Kind, headers: HeaderMap, body: Bytes) -> Answer {
    let content = prepared(&s, kind, &headers, &body)?;
    check_members(&s, &member_ids(&content))?;
    let now = s.now();
    let id = s.next_id();
    let stored = write(s.store(kind)).create(id, content, &now, &s.base_url)?;
    Ok(resource_response(StatusCode::CREATED, kind, &s, stored))
}

async fn replace(
    s: Arc<Shared>,
    kind: Kind,
    id: String,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let content = prepared(&s, kind, &headers, &body)?;
    check_members(&s, &member_ids(&content))?;
    let now = s.now();
    let stored = write(s.store(kind)).update(&id, content, &now)?;
    Ok(resource_response(StatusCode::OK, kind, &s, stored))
}

async fn patch_one(
    s: Arc<Shared>,
    kind: Kind,
    id: String,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let ops = patch::parse(&json_body(&headers, &body)?)?;
    s.quirks.check_patch(&ops)?;
    check_members(&s, &patch::added_members(&ops))?;
    let now = s.now();
    let mode = match kind {
        Kind::User => s.user_patch,
        Kind::Group => s.group_patch,
    };
    let stored = {
        let mut store = write(s.store(kind));
        if let Some(member_ops) = patch::member_ops(kind, &ops) {
            // Membership changes cannot fail: applied in place, not to a copy of the group.
            let res = store.patch_members(&id, &member_ops, &now)?;
            (mode == PatchResponse::Resource).then(|| res.clone())
        } else {
            let mut res = store
                .get(&id)
                .cloned()
                .ok_or_else(|| not_found(kind, &id))?;
            patch::apply(kind, &mut res, &ops)?;
            Some(store.update(&id, res, &now)?)
        }
    };
    Ok(match (mode, stored) {
        (PatchResponse::Resource, Some(stored)) => {
            resource_response(StatusCode::OK, kind, &s, stored)
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn delete_one(s: Arc<Shared>, kind: Kind, id: String) -> Answer {
    if !write(s.store(kind)).delete(&id) {
        return Err(not_found(kind, &id));
    }
    let now = s.now();
    write(&s.groups).remove_member_everywhere(&id, &now);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn resource_routes(kind: Kind) -> Router<Arc<Shared>> {
    Router::new()
        .route(
            &format!("/{}", kind.endpoint()),
            get(move |State(s): St, RawQuery(q): RawQuery| list(s, kind, q))
                .post(move |State(s): St, h: HeaderMap, b: Bytes| create(s, kind, h, b)),
        )
        .route(
            &format!("/{}/{{id}}", kind.endpoint()),
            get(
                move |State(s): St, UrlPath(id): UrlPath<String>, RawQuery(q): RawQuery| {
                    get_one(s, kind, id, q)
                },
            )
            .put(
                move |State(s): St, UrlPath(id): UrlPath<String>, h: HeaderMap, b: Bytes| {
                    replace(s, kind, id, h, b)
                },
            )
            .patch(
                move |State(s): St, UrlPath(id): UrlPath<String>, h: HeaderMap, b: Bytes| {
                    patch_one(s, kind, id, h, b)
                },
            )
            .delete(move |State(s): St, UrlPath(id): UrlPath<String>| delete_one(s, kind, id)),
        )
}

/// The routes under `/scim/v2`.
pub fn routes() -> Router<Arc<Shared>> {
    resource_routes(Kind::User)
        .merge(resource_routes(Kind::Group))
        .route(
            "/ServiceProviderConfig",
            get(|State(s): St| async move {
                scim_json(
                    StatusCode::OK,
                    &discovery::service_provider_config(&s.base_url, s.max_page),
                )
            }),
        )
        .route(
            "/ResourceTypes",
            get(|State(s): St| async move {
                scim_json(StatusCode::OK, &discovery::resource_types(&s.base_url))
            }),
        )
        .route(
            "/Schemas",
            get(|State(s): St| async move {
                scim_json(StatusCode::OK, &discovery::schemas(&s.base_url))
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let p = query_params(Some(
            "filter=userName+eq+%22a%2Bb%40x%22&Count=5&excludedAttributes=members",
        ))
        .unwrap();
        assert_eq!(p["filter"], "userName eq \"a+b@x\"");
        assert_eq!(p["count"], "5");
        assert_eq!(p["excludedattributes"], "members");
        assert!(query_params(Some("filter=%zz")).is_err());
        assert!(query_params(None).unwrap().is_empty());
    }
}
