//! `entra-sim drift`: reads back every provisioned object — users, and groups *with* their members,
//! which Entra itself never reads — and reports where the target no longer matches what entra-sim
//! exported or what the mapping says: changed attributes, missing or extra members, objects deleted
//! behind Entra's back, duplicates by matching attribute. Exit code 1 on drift, so it can gate CI.

use std::collections::{BTreeSet, HashMap};

use rand::SeedableRng;
use serde::Serialize;

use crate::cli::JobArgs;
use crate::clock::{Clock, SystemClock};
use crate::error::AppError;
use crate::expr::EvalContext;
use crate::plan::desired::{self, Sources};
use crate::plan::wire::{self, Answer};
use crate::plan::{Method, ObjectKey, ObjectKind, Request, SourceObject};
use crate::scim::{self, OpKind, ResourceKind};

/// One difference between the target and what Entra last wrote.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `User` or `Group`.
    pub object_type: String,
    /// UPN or displayName.
    pub name: String,
    /// The target's id.
    pub target_id: String,
    /// `changed`, `deleted`, `missingMembers`, `extraMembers`, `duplicate`, `unreadable`.
    pub kind: String,
    /// What differs.
    pub detail: String,
}

fn kind(key: &ObjectKey) -> ResourceKind {
    match key.kind {
        ObjectKind::User => ResourceKind::User,
        ObjectKind::Group => ResourceKind::Group,
    }
}

pub async fn run(args: JobArgs) -> Result<i32, AppError> {
    let loaded = super::load(&args.job)?;
    let token = loaded.token()?;
    let client = loaded.client(&loaded.base_url, &token)?;
    let store = loaded.store()?;
    let assignments = loaded.job.assignment_index();
    let sources = Sources {
        directory: &loaded.job.directory,
        assignments,
        scope: loaded.job.scope,
    };
    let objects = {
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let mut ctx = EvalContext {
            now: SystemClock.now(),
            rng: &mut rng,
        };
        desired::detailed_objects(&loaded.compiled, &sources, &mut ctx)
    };
    let by_key: HashMap<&ObjectKey, &SourceObject> = objects.iter().map(|o| (&o.key, o)).collect();
    let anchors = store.anchors()?;
    let id_names: HashMap<String, String> = anchors
        .iter()
        .map(|(k, a)| {
            (
                a.target_id.clone(),
                by_key
                    .get(k)
                    .map_or_else(|| k.object_id.clone(), |o| o.name.clone()),
            )
        })
        .collect();
    let mut drifts = Vec::new();
    for (key, anchor) in &anchors {
        let object = by_key.get(key);
        let name = object.map_or_else(|| key.object_id.clone(), |o| o.name.clone());
        let mut report = |kind: &str, detail: String| {
            drifts.push(Drift {
                object_type: key.kind.as_str().into(),
                name: name.clone(),
                target_id: anchor.target_id.clone(),
                kind: kind.into(),
                detail,
            });
        };
        // Groups are read with their members: the one read Entra never makes.
        let path = scim::resource_path(kind(key), &anchor.target_id);
        let reply = client
            .send(&Request {
                method: Method::Get,
                path,
                body: None,
            })
            .await;
        let resource = match wire::interpret(OpKind::GetById, reply) {
            Answer::Resource(_, resource) => resource,
            Answer::Failed(f) if f.not_found => {
                report(
                    "deleted",
                    "the object no longer exists in the target".into(),
                );
                continue;
            }
            Answer::Failed(f) => {
                report("unreadable", format!("{}: {}", f.code, f.reason));
                continue;
            }
            Answer::Done(_) => {
                report(
                    "unreadable",
                    "the target answered with an empty body".into(),
                );
                continue;
            }
        };
        if let Some(object) = object.filter(|o| o.in_scope) {
            if let Ok(changes) = wire::diff(
                &object.spec.update,
                &resource,
                &object.spec.case_exact,
                object.spec.roles,
            ) {
                for change in changes {
                    report(
                        "changed",
                        format!(
                            "{}: target has {:?}, mapping says {:?}",
                            change.path,
                            change.old.unwrap_or_default(),
                            wire::display_value(&change.new)
                        ),
                    );
                }
            }
            for (path, value) in object
                .spec
                .matching
                .iter()
                .filter_map(|(p, v)| v.as_ref().map(|v| (p, v)))
            {
                let query = wire::match_request(key.kind, path, value);
                if let Err(f) = wire::interpret_query(client.send(&query).await)
                    && f.code == scim::ErrorCode::SystemForCrossDomainIdentityManagementMultipleEntriesInResponse
                {
                    report(
                        "duplicate",
                        format!("more than one {} has {path} {value:?}", key.kind.as_str()),
                    );
                }
            }
        }
        if key.kind == ObjectKind::Group {
            let actual: BTreeSet<String> = resource
                .get("members")
                .and_then(|m| m.as_array())
                .map(|m| {
                    m.iter()
                        .filter_map(|m| m.get("value").and_then(|v| v.as_str()).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let exported: BTreeSet<String> = anchor.members.iter().cloned().collect();
            let label = |ids: Vec<&String>| {
                ids.iter()
                    .map(|id| id_names.get(*id).cloned().unwrap_or_else(|| (*id).clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let missing: Vec<&String> = exported.difference(&actual).collect();
            if !missing.is_empty() {
                report("missingMembers", label(missing));
            }
            let extra: Vec<&String> = actual.difference(&exported).collect();
            if !extra.is_empty() {
                report("extraMembers", label(extra));
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&drifts).map_err(|e| AppError::Local(e.to_string()))?
        );
    } else {
        for d in &drifts {
            println!(
                "{:<14} {} '{}' ({}): {}",
                d.kind, d.object_type, d.name, d.target_id, d.detail
            );
        }
        println!(
            "{} object(s) checked, {} drift(s)",
            anchors.len(),
            drifts.len()
        );
    }
    Ok(if drifts.is_empty() { 0 } else { 1 })
}
