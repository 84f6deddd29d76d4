//! `provision-on-demand --json`: each entry as Graph's `provisionOnDemand` answers, a
//! `stringKeyStringValuePair` whose `key` and `value` are JSON documents in strings (Graph docs,
//! microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/
//! synchronization-synchronizationjob-provisionondemand.md`, example 1). The record a cycle logs
//! is re-dressed here: steps in Entra's on-demand order (Import → Matching → Scoping → Export)
//! with a `timestamp` each, the matching step holding the target's attribute values, the scoping
//! step with Entra's detail names, statuses capitalised, and identities with a `type`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::plan::ObjectKind;
use crate::provlog::{LogEntry, ProvisioningAction, Status, Step, StepName, StepType, graph_time};

/// The target system's name in on-demand answers: the non-gallery SCIM connector.
const TARGET_SYSTEM: &str = "customappsso";

/// The scoping facts of the object an entry is about (from its source object).
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// Not soft-deleted (`IsActive`).
    pub active: bool,
    /// Assigned to the app, or the job syncs all (`Assigned`).
    pub assigned: bool,
    /// Assigned and passing every scoping filter.
    pub in_scope: bool,
}

/// One entry as provisioned on demand.
#[derive(Debug, Clone)]
pub struct Shown {
    /// Its provisioning-log record.
    pub log: LogEntry,
    /// The object's kind.
    pub kind: ObjectKind,
    /// The target's copy of the object, when it was read (matched or read by id).
    pub target: Option<Value>,
    /// The object's scoping facts.
    pub scope: Scope,
    /// When its flow started.
    pub started: DateTime<Utc>,
    /// When its flow ended.
    pub ended: DateTime<Utc>,
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Success => "Success",
        Status::Warning => "Warning",
        Status::Failure => "Failure",
        Status::Skipped => "Skipped",
    }
}

fn true_false(b: bool) -> Value {
    Value::String(if b { "True" } else { "False" }.into())
}

/// A detail value as Entra shows it: a string (booleans `True`/`False`).
fn text(v: &Value) -> Value {
    match v {
        Value::String(_) | Value::Null => v.clone(),
        Value::Bool(b) => true_false(*b),
        other => Value::String(other.to_string()),
    }
}

/// The docs' example answers a skip with action `Other`; the others carry their name.
fn action(log: &LogEntry) -> &'static str {
    if log.provisioning_status_info.status == Status::Skipped {
        return "Other";
    }
    match log.provisioning_action {
        ProvisioningAction::Create => "Create",
        ProvisioningAction::Update => "Update",
        ProvisioningAction::Delete => "Delete",
        ProvisioningAction::Disable => "Disable",
        ProvisioningAction::StagedDelete | ProvisioningAction::Other => "Other",
    }
}

/// The target's attributes, flat and sorted as the docs' matching step shows them (`active`,
/// `displayName`, `externalId`, `id`, `userName`), named by the attribute paths mappings use
/// (`name.givenName`, `emails[type eq "work"].value`, `urn:…:User:department`); scalars as
/// strings, lists without a `type` as JSON.
fn target_details(resource: &Value) -> Map<String, Value> {
    let mut pairs = Vec::new();
    for (k, v) in resource.as_object().into_iter().flatten() {
        if !matches!(k.as_str(), "schemas" | "meta") {
            flatten(k, v, &mut pairs);
        }
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs.into_iter().collect()
}

fn flatten(path: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(fields) => {
            // A schema extension's attributes are `urn:…:User:attr`; a complex one's `a.b`.
            let sep = if path.starts_with("urn:") { ':' } else { '.' };
            for (k, child) in fields {
                flatten(&format!("{path}{sep}{k}"), child, out);
            }
        }
        Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.get("type").is_some_and(Value::is_string)) =>
        {
            for item in items {
                let kind = item.get("type").and_then(Value::as_str).unwrap_or_default();
                for (k, child) in item.as_object().into_iter().flatten() {
                    if k != "type" {
                        flatten(&format!("{path}[type eq \"{kind}\"].{k}"), child, out);
                    }
                }
            }
        }
        other => out.push((path.to_string(), text(other))),
    }
}

fn rank(kind: StepType) -> u8 {
    match kind {
        StepType::Import => 0,
        StepType::Matching => 1,
        StepType::Scoping => 2,
        StepType::Processing | StepType::ReferenceResolution => 3,
        StepType::Export => 4,
    }
}

fn step_type(kind: StepType) -> &'static str {
    match kind {
        StepType::Import => "Import",
        StepType::Matching => "Matching",
        StepType::Scoping => "Scoping",
        StepType::Processing => "Processing",
        StepType::ReferenceResolution => "ReferenceResolution",
        StepType::Export => "Export",
    }
}

/// A step's fields as the on-demand answer shows them.
struct Redressed {
    name: StepName,
    description: String,
    at: DateTime<Utc>,
    details: Map<String, Value>,
}

fn step(shown: &Shown, s: &Step) -> Value {
    let kind = shown.log.source_identity.identity_type.as_str();
    let name = &shown.log.source_identity.display_name;
    let as_logged = Redressed {
        name: s.name,
        description: s.description.clone(),
        at: shown.ended,
        details: s
            .details
            .iter()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect(),
    };
    let shown_step = match s.provisioning_step_type {
        StepType::Import => import_step(shown, as_logged),
        StepType::Matching => matching_step(shown, as_logged),
        StepType::Scoping => Redressed {
            description: format!(
                "Determine if {kind} in scope by evaluating against each scoping filter"
            ),
            details: scoping_details(s, shown.scope),
            ..as_logged
        },
        // The docs' skip adds what this means for the object.
        StepType::Export
            if s.details.get("SkipReason").and_then(Value::as_str) == Some("RedundantExport") =>
        {
            Redressed {
                description: format!(
                    "{} No change to the {kind} '{name}' currently needs to be made.",
                    s.description
                ),
                ..as_logged
            }
        }
        _ => as_logged,
    };
    json!({
        "name": shown_step.name,
        "type": step_type(s.provisioning_step_type),
        "status": status(s.status),
        "description": shown_step.description,
        "timestamp": graph_time(shown_step.at),
        "details": shown_step.details,
    })
}

/// The import step, at the flow's start, saying whether the object is soft-deleted.
fn import_step(shown: &Shown, mut step: Redressed) -> Redressed {
    step.details
        .entry("IsSoftDeleted")
        .or_insert_with(|| true_false(!shown.scope.active));
    Redressed {
        name: StepName::EntryImport,
        at: shown.started,
        ..step
    }
}

/// The matching step, holding the target's copy of the object when it was read.
fn matching_step(shown: &Shown, step: Redressed) -> Redressed {
    let Some(resource) = &shown.target else {
        return step;
    };
    // The docs write two spaces after "Retrieved" (no object type between them).
    let name = &shown.log.source_identity.display_name;
    Redressed {
        name: StepName::EntryImport,
        description: format!("Retrieved  '{name}' from {TARGET_SYSTEM}"),
        details: target_details(resource),
        ..step
    }
}

/// The scoping step's details with Entra's names, the clauses each filter evaluated in
/// `ScopeEvaluationResult` (as the portal names them; "{}" without filters).
fn scoping_details(s: &Step, scope: Scope) -> Map<String, Value> {
    let clauses: Map<String, Value> = s
        .details
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "Assigned to application" | "ScopeEvaluationResult"
            )
        })
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    let mut d = Map::new();
    d.insert("IsActive".into(), true_false(scope.active));
    d.insert("Assigned".into(), true_false(scope.assigned));
    d.insert(
        "IsEffectivelyEntitledForProvisioning".into(),
        true_false(scope.assigned),
    );
    d.insert(
        "IsInProvisioningScopeDisplayName".into(),
        true_false(scope.in_scope),
    );
    d.insert(
        "ScopeEvaluationResult".into(),
        Value::String(Value::Object(clauses).to_string()),
    );
    d
}

/// The entry as Graph's `provisionOnDemand` answers: `{key, value}`, both JSON in strings.
pub fn pair(shown: &Shown) -> Value {
    let log = &shown.log;
    let result = status(log.provisioning_status_info.status);
    let info = log.provisioning_status_info.error_information.as_ref();
    let key = match (log.provisioning_status_info.status, info) {
        (Status::Success, _) | (_, None) => json!({ "result": result, "details": {} }),
        (_, Some(i)) => json!({
            "result": result,
            "details": { "errorCode": i.error_code, "errorMessage": i.reason },
        }),
    };
    // The docs' skip example leaves statusInfo's error fields null (the key carries them).
    let failure = info.filter(|_| log.provisioning_status_info.status == Status::Failure);
    let mut steps: Vec<&Step> = log.provisioning_steps.iter().collect();
    steps.sort_by_key(|s| rank(s.provisioning_step_type));
    let target_type = match shown.kind {
        ObjectKind::User => "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        // Inferred: the docs show only a user; a group's SCIM schema is core Group.
        ObjectKind::Group => "urn:ietf:params:scim:schemas:core:2.0:Group",
    };
    let value = json!({
        "action": action(log),
        "changeId": log.change_id,
        "endTime": graph_time(shown.ended),
        "modifiedProperties": log.modified_properties,
        "provisioningSteps": steps.into_iter().map(|s| step(shown, s)).collect::<Vec<_>>(),
        "reportableIdentifier": log.source_identity.display_name,
        "startTime": graph_time(shown.started),
        "statusInfo": {
            "status": result,
            "errorCode": failure.map(|i| i.error_code.clone()),
            "reason": failure.map(|i| i.reason.clone()),
            "additionalDetails": failure.and_then(|i| i.additional_details.clone()),
            "errorCategory": failure.map(|i| i.error_category.clone()),
            "recommendedAction": failure.and_then(|i| i.recommended_action.clone()),
        },
        "sourceIdentity": {
            "id": log.source_identity.id,
            "type": log.source_identity.identity_type,
            "displayName": null,
            "details": null,
        },
        "sourceSystem": { "id": null, "name": "Azure Active Directory", "details": null },
        "targetIdentity": {
            "id": log.target_identity.id,
            "type": target_type,
            "displayName": null,
            "details": null,
        },
        "targetSystem": { "id": null, "name": TARGET_SYSTEM, "details": null },
    });
    json!({ "key": key.to_string(), "value": value.to_string() })
}
