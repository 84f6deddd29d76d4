//! How a scenario judges a cycle, as the Logic-App validation does: the object's log entry (its
//! action, status and modified properties), what Entra does with a failed one (from the entry,
//! the job's escrows and the cycle's quarantine), and a read-back of the object on the server
//! compared with what the entry says was exported. Pure functions of what the engine and the
//! server gave; the fix hints of the failure kinds every scenario shares are here too.

use serde_json::Value as Json;

use super::super::INTERRUPTED;
use super::super::suite::RequestRecord;
use crate::plan::wire::{MANAGER_PATH, display_value};
use crate::policy::EscrowEntry;
use crate::provlog::{LogEntry, ModifiedProperty, ProvisioningAction};
use crate::scim::TargetPath;

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

/// What Entra does with a failed entry: its error code and the head of its reason, the escrow
/// the engine recorded for the object (when it retries, how many attempts) and whether the job
/// went into `quarantine` (the cycle report's reason).
pub fn entra_reading(
    entry: &LogEntry,
    escrow: Option<&EscrowEntry>,
    quarantine: Option<&str>,
) -> String {
    let mut parts = Vec::new();
    if let Some(info) = &entry.provisioning_status_info.error_information {
        parts.push(format!(
            "Entra logs {} ({})",
            info.error_code,
            reason_head(&info.reason)
        ));
    }
    parts.push(match escrow {
        Some(e) => {
            let hours = (e.next_retry - e.last_failure).num_hours();
            format!(
                "escrows the object: retried {hours} h after the failure (attempt {} of the escrow ladder)",
                e.attempts
            )
        }
        None => "tries the object again in the next cycle".into(),
    });
    parts.push(match quarantine {
        Some(reason) => format!("the job goes into quarantine ({reason})"),
        None => "no quarantine from this failure alone".into(),
    });
    parts.join("; ")
}

/// The part of a log reason before the server's own words: Entra's reasons read
/// `StatusCode: … Message: … Web Response: …`, of which the status is what matters here (the
/// details quote the server).
fn reason_head(reason: &str) -> String {
    match reason.split_once(" Message: ") {
        Some((head, _)) if head.starts_with("StatusCode: ") => head.to_string(),
        _ => cut(reason),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An update entry of user `s1` (target `t1`) with `properties` as (name, newValue).
    fn entry(status: &str, properties: &[(&str, &str)]) -> LogEntry {
        let system = json!({"id": "", "displayName": "", "details": {}});
        let identity =
            |id: &str| json!({"identityType": "User", "id": id, "displayName": "", "details": {}});
        let properties: Vec<Json> = properties
            .iter()
            .map(|(n, v)| json!({"displayName": n, "oldValue": null, "newValue": v}))
            .collect();
        let error = (status == "failure").then(|| {
            json!({
                "errorCode": "SystemForCrossDomainIdentityManagementServiceIncompatible",
                "reason": "StatusCode: BadRequest Message: Processing of the HTTP request resulted in an exception. Web Response: {}",
                "additionalDetails": null,
                "errorCategory": "NonServiceFailure",
                "recommendedAction": null,
            })
        });
        serde_json::from_value(json!({
            "id": "e", "activityDateTime": "2026-03-01T08:00:00Z", "jobId": "j", "cycleId": "c",
            "changeId": "x", "provisioningAction": "update", "durationInMilliseconds": 1,
            "initiatedBy": {"initiatingType": "system", "id": "", "displayName": ""},
            "sourceSystem": system, "targetSystem": system,
            "sourceIdentity": identity("s1"), "targetIdentity": identity("t1"),
            "provisioningStatusInfo": {"status": status, "errorInformation": error},
            "modifiedProperties": properties, "provisioningSteps": [],
        }))
        .unwrap()
    }

    #[test]
    fn every_exported_value_must_read_back() {
        let exported = entry(
            "success",
            &[
                ("title", "Senior"),
                ("active", "False"),
                ("emails[type eq \"work\"].value", "a@x"),
                (
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                    "QA",
                ),
                (
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                    "m",
                ),
                ("nickName", ""),
            ],
        );
        let user = json!({
            "title": "Senior", "active": false,
            "emails": [{"type": "work", "value": "a@x"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "QA"},
        });
        assert_eq!(
            reads_back(&exported, &user),
            Ok(()),
            "references and cleared values are not compared"
        );
        let stale = json!({"title": "Tester", "active": "True", "emails": []});
        let wrong = reads_back(&exported, &stale).unwrap_err();
        assert!(wrong.starts_with("the read-back differs: title reads \"Tester\", expected \"Senior\"; active reads \"True\", expected \"False\"; emails[type eq \"work\"].value is missing"), "{wrong}");
    }

    #[test]
    fn the_manager_property_carries_the_managers_id() {
        let path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        let set = entry("success", &[(path, "m1")]);
        assert_eq!(manager_exported(&set, "m1"), Ok(path.to_string()));
        assert!(
            manager_exported(&set, "")
                .unwrap_err()
                .contains("expected \"\"")
        );
        let none = entry("success", &[("title", "x")]);
        assert!(manager_exported(&none, "m1").is_err());
        let user = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}}});
        assert_eq!(has(&user, path, "m1"), Ok(()));
        assert_eq!(has(&json!({}), path, ""), Ok(()), "removed reads as empty");
    }

    #[test]
    fn entras_reading_names_the_code_the_escrow_and_the_quarantine() {
        let failed = entry("failure", &[]);
        let at = |h: i64| {
            chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::hours(h)
        };
        let escrow = EscrowEntry {
            object: "user:s1".into(),
            operation: crate::policy::EscrowOperation::Update,
            error_code: String::new(),
            reason: String::new(),
            attempts: 2,
            first_failure: at(0),
            last_failure: at(6),
            next_retry: at(18),
            reference: false,
        };
        assert_eq!(
            entra_reading(
                &failed,
                Some(&escrow),
                Some("EncounteredQuarantineException")
            ),
            "Entra logs SystemForCrossDomainIdentityManagementServiceIncompatible (StatusCode: BadRequest); escrows the object: retried 12 h after the failure (attempt 2 of the escrow ladder); the job goes into quarantine (EncounteredQuarantineException)"
        );
        assert!(entra_reading(&failed, None, None).ends_with(
            "tries the object again in the next cycle; no quarantine from this failure alone"
        ));
    }

    #[test]
    fn what_the_cycle_logged_instead_is_named() {
        let update = entry("failure", &[]);
        assert!(is_of(&update, "s1", None));
        assert!(
            is_of(&update, "", Some("t1")),
            "a deleted object is known by its target id"
        );
        assert!(!is_of(&update, "", None));
        assert_eq!(
            missing(&[&update], "u@x", ProvisioningAction::Disable),
            "expected a disable entry for u@x; the cycle logged update failure"
        );
        assert_eq!(
            missing(&[], "u@x", ProvisioningAction::Create),
            "expected a create entry for u@x; the cycle logged none for it"
        );
    }

    #[test]
    fn a_filter_must_find_exactly_the_object() {
        let one = json!({"Resources": [{"id": "t1"}]});
        assert_eq!(found_once(&one, "t1"), Ok(()));
        assert!(found_once(&one, "t2").is_err());
        assert!(
            found_once(&json!({"Resources": []}), "t1")
                .unwrap_err()
                .contains("found 0")
        );
    }
}
