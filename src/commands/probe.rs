//! `compare-modes --probe`: sends both dialects of every difference to scratch objects on the
//! target — Replace/replace, "False"/false, a merged path-less replace, member removal by value
//! list and by filter — reads the result back, and reports which form the server really applies.
//! The bodies come from `scim`, the same functions a cycle uses; the scratch objects are deleted.

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::error::AppError;
use crate::expr::Value;
use crate::http::ScimClient;
use crate::plan::wire::{self, Answer};
use crate::plan::{Method, Request};
use crate::runner::{FlowId, Transport};
use crate::scim::{self, AttrChange, OpKind, PatchOp, ResourceKind, ScimMode, TargetPath};

/// One form sent and what the server made of it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    /// What is being tried, e.g. `disable: "False" (default)`.
    pub check: String,
    /// The dialect whose form this is.
    pub mode: String,
    /// The server answered 2xx.
    pub accepted: bool,
    /// Reading back shows the intended effect.
    pub applied: bool,
    /// The error, or what was read back when it was not applied.
    pub detail: String,
}

/// Which dialects the server applied in full: every probe of the dialect (and any probe both
/// share, like creating the scratch group) was accepted and read back as intended.
#[derive(Debug, Serialize)]
pub struct Verdict {
    /// The default dialect (no feature flag).
    pub default: bool,
    /// The dialect `?aadOptscim062020` selects.
    #[serde(rename = "aadOptscim062020")]
    pub aad_opt_scim062020: bool,
}

impl Verdict {
    /// The verdict of `results`.
    pub fn of(results: &[ProbeResult]) -> Verdict {
        let works = |mode: ScimMode| {
            let name = mode_name(mode);
            results.iter().any(|r| r.mode == name)
                && results
                    .iter()
                    .filter(|r| r.mode == name || r.mode == "both")
                    .all(|r| r.applied)
        };
        Verdict {
            default: works(ScimMode::Default),
            aad_opt_scim062020: works(ScimMode::Aad062020),
        }
    }

    /// `your server accepts: default dialect yes, aadOptscim062020 no`.
    pub fn line(&self) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" };
        format!(
            "your server accepts: default dialect {}, aadOptscim062020 {}",
            yes(self.default),
            yes(self.aad_opt_scim062020)
        )
    }
}

fn mode_name(mode: ScimMode) -> &'static str {
    match mode {
        ScimMode::Default => "default",
        ScimMode::Aad062020 => "aadOptscim062020",
    }
}

async fn send(
    client: &ScimClient,
    method: Method,
    path: String,
    body: Option<Json>,
    op: OpKind,
) -> Result<Option<Json>, String> {
    match wire::interpret(
        op,
        client
            .send(FlowId::default(), &Request { method, path, body })
            .await,
    ) {
        Answer::Resource(_, r) => Ok(Some(r)),
        Answer::Done(_) => Ok(None),
        Answer::Failed(f) => Err(format!("{}: {}", f.code, f.reason)),
    }
}

/// PATCHes `body` to the object, then reads it back: (what the PATCH got, the object as read).
async fn patch_and_read(
    client: &ScimClient,
    kind: ResourceKind,
    id: &str,
    body: Option<Json>,
) -> (Result<Option<Json>, String>, Option<Json>) {
    let sent = send(
        client,
        Method::Patch,
        scim::resource_path(kind, id),
        body,
        OpKind::Update,
    )
    .await;
    (sent, read(client, kind, id).await.ok())
}

async fn read(client: &ScimClient, kind: ResourceKind, id: &str) -> Result<Json, String> {
    send(
        client,
        Method::Get,
        scim::resource_path(kind, id),
        None,
        OpKind::GetById,
    )
    .await?
    .ok_or_else(|| "empty read".to_string())
}

fn change(path: &str, value: &str, op: PatchOp) -> Result<AttrChange, AppError> {
    let path = TargetPath::parse(path).map_err(|e| AppError::Local(format!("{e:?}")))?;
    Ok(AttrChange {
        path,
        old: Some("probe".into()),
        new: Value::Str(value.into()),
        op,
    })
}

async fn create(client: &ScimClient, kind: ResourceKind, body: Json) -> Result<String, AppError> {
    let path = kind.collection_path().to_string();
    match send(client, Method::Post, path, Some(body), OpKind::Create).await {
        Ok(Some(r)) => r
            .get("id")
            .and_then(|i| {
                i.as_str()
                    .map(str::to_string)
                    .or_else(|| Some(i.to_string()))
            })
            .ok_or_else(|| AppError::Job("the scratch object came back without an id".into())),
        Ok(None) => Err(AppError::Job(
            "the scratch object came back without a body".into(),
        )),
        Err(e) => Err(AppError::Job(format!(
            "cannot create a scratch object on the target: {e}"
        ))),
    }
}

fn scratch_user(tag: &str, n: u32) -> Json {
    json!({
        "schemas": [scim::schema::USER_SCHEMA],
        "userName": format!("entra-sim-probe-{tag}-{n}@example.invalid"),
        "active": true,
        "displayName": "entra-sim probe",
        "name": {"givenName": "Probe", "familyName": "User"},
    })
}

/// Runs every probe against `client`, cleaning up the scratch objects afterwards.
pub async fn probe(client: &ScimClient, tag: &str) -> Result<Vec<ProbeResult>, AppError> {
    let mut results = Vec::new();
    let mut users = Vec::new();
    for n in 0..3 {
        users.push(create(client, ResourceKind::User, scratch_user(tag, n)).await?);
    }
    let group = create(
        client,
        ResourceKind::Group,
        json!({"schemas": [scim::schema::GROUP_SCHEMA], "displayName": format!("entra-sim-probe-{tag}"), "members": [{"value": users[1]}, {"value": users[2]}]}),
    )
    .await;
    let user = users[0].clone();
    let outcome = run_probes(client, &user, &users, group.as_ref().ok(), &mut results).await;
    // Clean up whatever happened.
    if let Ok(group) = &group {
        let _ = send(
            client,
            Method::Delete,
            scim::resource_path(ResourceKind::Group, group),
            None,
            OpKind::Delete,
        )
        .await;
    }
    for id in &users {
        let _ = send(
            client,
            Method::Delete,
            scim::resource_path(ResourceKind::User, id),
            None,
            OpKind::Delete,
        )
        .await;
    }
    if let Err(e) = group {
        results.push(ProbeResult {
            check: "group with members".into(),
            mode: "both".into(),
            accepted: false,
            applied: false,
            detail: e.to_string(),
        });
    }
    outcome.map(|()| results)
}

async fn run_probes(
    client: &ScimClient,
    user: &str,
    users: &[String],
    group: Option<&String>,
    results: &mut Vec<ProbeResult>,
) -> Result<(), AppError> {
    for mode in [ScimMode::Default, ScimMode::Aad062020] {
        // Replace op casing.
        let name = format!("{} probe", mode_name(mode));
        let body = scim::patch_body(&[change("displayName", &name, PatchOp::Replace)?], mode);
        let (sent, seen) = patch_and_read(client, ResourceKind::User, user, Some(body)).await;
        let applied = seen
            .as_ref()
            .is_some_and(|r| r["displayName"] == json!(name));
        results.push(result(
            "replace one attribute (op casing)",
            mode,
            &sent,
            applied,
            seen.map(|r| r["displayName"].to_string()),
        ));
        // Boolean form: disable then enable.
        for (label, body, want) in [
            ("disable", scim::disable_body(mode), false),
            ("enable", scim::enable_body(mode), true),
        ] {
            let (sent, seen) = patch_and_read(client, ResourceKind::User, user, Some(body)).await;
            let active = seen.as_ref().map(|r| r["active"].clone());
            let applied = active.as_ref().is_some_and(|a| {
                a == &json!(want)
                    || a.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(&want.to_string()))
            });
            results.push(result(
                &format!("{label} (boolean form)"),
                mode,
                &sent,
                applied,
                active.map(|a| format!("active = {a}")),
            ));
        }
        // Several plain attributes: one op each (default) or one merged path-less replace (flag).
        let given = format!("{}Given", mode_name(mode));
        let changes = [
            change("displayName", &format!("{given} User"), PatchOp::Replace)?,
            change("name.givenName", &given, PatchOp::Replace)?,
        ];
        let body = scim::patch_body(&changes, mode);
        let (sent, seen) = patch_and_read(client, ResourceKind::User, user, Some(body)).await;
        let applied = seen.as_ref().is_some_and(|r| {
            r["name"]["givenName"] == json!(given) && r.get("name.givenName").is_none()
        });
        results.push(result(
            "replace several attributes (merged path-less form in the flag mode)",
            mode,
            &sent,
            applied,
            seen.map(|r| format!("name = {}", r["name"])),
        ));
    }
    let Some(group) = group else { return Ok(()) };
    for (mode, member) in [
        (ScimMode::Default, &users[1]),
        (ScimMode::Aad062020, &users[2]),
    ] {
        let body = scim::member_bodies(&[], std::slice::from_ref(member), mode, 1)
            .into_iter()
            .next();
        let (sent, seen) = patch_and_read(client, ResourceKind::Group, group, body).await;
        let members: Vec<String> = seen
            .as_ref()
            .and_then(|g| g["members"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["value"].as_str().map(str::to_string))
            .collect();
        let others_kept = match mode {
            ScimMode::Default => members.contains(&users[2]),
            ScimMode::Aad062020 => true,
        };
        let applied = !members.contains(member) && others_kept;
        results.push(result(
            "remove one group member",
            mode,
            &sent,
            applied,
            Some(format!("members left: {}", members.len())),
        ));
    }
    Ok(())
}

fn result(
    check: &str,
    mode: ScimMode,
    sent: &Result<Option<Json>, String>,
    applied: bool,
    seen: Option<String>,
) -> ProbeResult {
    ProbeResult {
        check: check.to_string(),
        mode: mode_name(mode).to_string(),
        accepted: sent.is_ok(),
        applied: sent.is_ok() && applied,
        detail: match sent {
            Err(e) => e.clone(),
            Ok(_) if !applied => format!(
                "accepted but not applied; read back {}",
                seen.unwrap_or_default()
            ),
            Ok(_) => String::new(),
        },
    }
}
