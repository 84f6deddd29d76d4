//! How a scenario judges a cycle, as the Logic-App validation does: the object's log entry (its
//! action, status and modified properties), what Entra does with a failed one (from the entry,
//! the job's escrows and the cycle's quarantine), and a read-back of the object on the server
//! compared with what the entry says was exported. Pure functions of what the engine and the
//! server gave; the fix hints of the failure kinds every scenario shares are here too.

use serde_json::Value as Json;

use super::super::INTERRUPTED;
use super::super::suite::RequestRecord;
use crate::engine::CycleReport;
use crate::plan::wire::{MANAGER_PATH, display_value};
use crate::provlog::{LogEntry, ModifiedProperty, ProvisioningAction};
use crate::scim::TargetPath;
use crate::store::Store;

/// The hint when the engine logged nothing (or something else) for the object.
pub const MISSING: &str = "the engine did not do what Entra does here; the entries of the cycle (--verbose shows its requests) say why, e.g. an object the server already held under the same name was matched instead of created";

/// The hint when a cycle stopped as a whole.
pub const CYCLE: &str =
    "make Test Connection pass (entra-sim test-connection) and answer every request of the cycle";

/// The hint when the read-back failed.
pub const READ_BACK: &str = "answer GET /Users/{id} and /Groups/{id} with the object for as long as it exists, a disabled user included";

/// The hint when a write was accepted but the read-back does not show it.
pub const NOT_APPLIED: &str = "apply every operation of Entra's PATCH before answering 2xx: a GET right after it must show the new values (Entra does not read back, so it would believe the change made)";

/// The longest part of a log entry's reason a failure quotes.
const REASON_CUT: usize = 300;

/// The action as Graph writes it.
pub fn action_name(action: ProvisioningAction) -> &'static str {
    match action {
        ProvisioningAction::Create => "create",
        ProvisioningAction::Update => "update",
        ProvisioningAction::Delete => "delete",
        ProvisioningAction::StagedDelete => "stagedDelete",
        ProvisioningAction::Disable => "disable",
        ProvisioningAction::Other => "other",
    }
}

fn cut(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(REASON_CUT) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// `Entra logged disable failure (<code>); the server answered 400: <detail>`, from the entry
/// and the last refused request of the stage (when there was one).
pub fn refused(entry: &LogEntry, last: Option<&RequestRecord>) -> String {
    let action = action_name(entry.provisioning_action);
    let status = entry.provisioning_status_info.status.as_str();
    let info = entry.provisioning_status_info.error_information.as_ref();
    let logged = match info {
        Some(info) => format!("Entra logged {action} {status} ({})", info.error_code),
        None => format!("Entra logged {action} {status}"),
    };
    match (last, info) {
        (Some(request), _) => format!("{logged}; {}", answered(request)),
        (None, Some(info)) => format!("{logged}: {}", cut(&info.reason)),
        (None, None) => logged,
    }
}

/// `the server answered 400 to PATCH /Users/…: <detail>` (or why no answer came).
fn answered(request: &RequestRecord) -> String {
    let method = request.method.as_str();
    let path = &request.path;
    let Some(status) = request.status else {
        return format!("{method} {path} got no answer: {}", cut(&request.response));
    };
    let body: Json = serde_json::from_str(&request.response).unwrap_or(Json::Null);
    match body.get("detail").and_then(Json::as_str) {
        Some(detail) => format!(
            "the server answered {status} to {method} {path}: {}",
            cut(detail)
        ),
        None => format!("the server answered {status} to {method} {path}"),
    }
}

/// Whether `entry` is about the object with `object_id` (or, once the directory no longer has
/// it, the server's `target_id`).
pub fn is_of(entry: &LogEntry, object_id: &str, target_id: Option<&str>) -> bool {
    (!object_id.is_empty() && entry.source_identity.id == object_id)
        || target_id.is_some_and(|id| entry.target_identity.id == id)
}

/// Why no entry of `action` was found for the object: what the cycle `logged` for it instead.
pub fn missing(logged: &[&LogEntry], name: &str, action: ProvisioningAction) -> String {
    let want = action_name(action);
    let logged: Vec<String> = logged
        .iter()
        .map(|e| {
            let status = e.provisioning_status_info.status.as_str();
            format!("{} {status}", action_name(e.provisioning_action))
        })
        .collect();
    if logged.is_empty() {
        format!("expected a {want} entry for {name}; the cycle logged none for it")
    } else {
        format!(
            "expected a {want} entry for {name}; the cycle logged {}",
            logged.join(", ")
        )
    }
}

/// What Entra does with a failed entry: its error code and reason, the escrow the engine
/// recorded (retry time, attempts) and whether the job went into quarantine.
pub fn entra_reading(entry: &LogEntry, store: Option<&Store>, report: &CycleReport) -> String {
    let mut parts = Vec::new();
    if let Some(info) = &entry.provisioning_status_info.error_information {
        parts.push(format!(
            "Entra logs {}: {}",
            info.error_code,
            cut(&info.reason)
        ));
    }
    let kind = entry.source_identity.identity_type.to_ascii_lowercase();
    let key = format!("{kind}:{}", entry.source_identity.id);
    let escrow = store
        .and_then(|s| s.escrows().ok())
        .and_then(|escrows| escrows.get(&key).cloned());
    parts.push(match escrow {
        Some(e) => format!(
            "the object is escrowed: attempt {} failed, retried at {} (first failure {})",
            e.attempts,
            e.next_retry
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.first_failure
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        None => "not escrowed: the object is tried again in the next cycle".into(),
    });
    parts.push(match &report.quarantine {
        Some(reason) => format!("the job goes into quarantine ({reason})"),
        None => "no quarantine from this failure alone".into(),
    });
    parts.join("; ")
}

/// The hint for a refusal answered with `status` (the last failed request of the stage):
/// credentials and reachability first, else the stage's own `hint`.
pub fn hint(last: Option<&RequestRecord>, hint: &str) -> String {
    match last.map(|r| (r.status, r.response.as_str())) {
        Some((Some(401 | 403), _)) => {
            "the server refused the credentials: check the token the variable holds".into()
        }
        Some((None, INTERRUPTED)) => {
            "the run was interrupted; run it again to the end for a verdict".into()
        }
        Some((None, _)) => "no answer came: check that the server runs at the URL".into(),
        _ => hint.into(),
    }
}

/// Whether a modified property is read back: not references (compared by their own tests),
/// not redacted, not emptied (absent, null or "" all read as cleared).
fn comparable(property: &ModifiedProperty) -> bool {
    let name = property.display_name.as_str();
    let reference = name.eq_ignore_ascii_case("members") || is_manager(name);
    let value = property.new_value.as_deref().unwrap_or_default();
    !reference && value != "[Redact]" && !value.is_empty()
}

fn is_manager(name: &str) -> bool {
    name.eq_ignore_ascii_case(MANAGER_PATH) || name.eq_ignore_ascii_case("manager")
}

/// Every value `entry` says it exported reads back from `resource` (the object on the server).
pub fn reads_back(entry: &LogEntry, resource: &Json) -> Result<(), String> {
    let wrong: Vec<String> = entry
        .modified_properties
        .iter()
        .filter(|p| comparable(p))
        .filter_map(|p| {
            let want = p.new_value.as_deref().unwrap_or_default();
            has(resource, &p.display_name, want).err()
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("the read-back differs: {}", wrong.join("; ")))
    }
}

/// The attribute at `path` (a target path as mappings write it) reads `want` (booleans as
/// `True`/`False`, multi-values joined by `;`).
pub fn has(resource: &Json, path: &str, want: &str) -> Result<(), String> {
    let target = TargetPath::parse(path).map_err(|e| format!("{path}: {e}"))?;
    let seen = display_value(&target.read(resource));
    if seen == want {
        Ok(())
    } else if seen.is_empty() {
        Err(format!("{path} is missing, expected {want:?}"))
    } else {
        Err(format!("{path} reads {seen:?}, expected {want:?}"))
    }
}

/// The entry exported the manager: its modified properties have `manager` with `newValue`
/// `want` (the manager's id on the server; empty when removed). Gives the manager's target path.
pub fn manager_exported(entry: &LogEntry, want: &str) -> Result<String, String> {
    let property = entry
        .modified_properties
        .iter()
        .find(|p| is_manager(&p.display_name));
    match property {
        Some(p) if p.new_value.as_deref().unwrap_or_default() == want => Ok(p.display_name.clone()),
        Some(p) => Err(format!(
            "the entry's manager newValue is {:?}, expected {want:?}",
            p.new_value.as_deref().unwrap_or_default()
        )),
        None => Err("the entry has no manager among its modified properties".into()),
    }
}

/// A resource found by a filter: exactly one, with `id`.
pub fn found_once(list: &Json, id: &str) -> Result<(), String> {
    let resources = list
        .get("Resources")
        .and_then(Json::as_array)
        .map_or(&[][..], Vec::as_slice);
    match resources {
        [one] if one.get("id").and_then(Json::as_str) == Some(id) => Ok(()),
        _ => Err(format!(
            "the filter found {} resource(s), not the object Entra created",
            resources.len()
        )),
    }
}
