//! The user scenarios of `conformance`, as the Logic-App validation runs them through a real
//! provisioning job (described in our words in issue 17): create, update, disable, delete, the
//! manager set, changed and removed, and unassign/reassign.

use super::judge::{self, NOT_APPLIED};
use super::{Cycle, Scenario, ScenarioFailure, ScenarioFuture};
use crate::expr::Value;
use crate::plan::{Method, Request};
use crate::provlog::{LogEntry, ProvisioningAction};
use crate::scim::{self, ResourceKind};

/// The hint when Entra's user POST was refused.
const CREATE: &str = "accept Entra's POST /Users (core and enterprise schemas, the mapped attributes) and answer 201 with the id; a filter on userName must find the user afterwards";

/// The hint when the created user is not found by its userName.
const FOUND: &str = "answer GET /Users?filter=userName eq \"…\" with the user Entra created: Entra matches users by that filter";

/// The hint when Entra's PATCH of changed attributes was refused.
const UPDATE: &str = "apply Entra's PATCH of the changed attributes (a Replace operation per attribute; with ?aadOptscim062020 lower-case ops) and answer 200 or 204";

/// The hint when Entra's disable PATCH was refused.
const DISABLE: &str = "accept Entra's disable PATCH {\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"} (a string in the default dialect; add ?aadOptscim062020 to the Tenant URL for a JSON boolean) and keep returning the user, inactive";

/// The hint when Entra's DELETE was refused.
const DELETE: &str = "answer DELETE /Users/{id} with 204, and GET /Users/{id} with 404 afterwards";

/// The hint when Entra's manager PATCH was refused.
const MANAGER: &str = "accept the enterprise manager as Entra sends it: the manager's id as a plain string value (\"value\": \"<id>\"), and its removal (in the default dialect a Remove with a value list; with ?aadOptscim062020 a Replace with \"\")";

/// The hint when the PATCH re-enabling an unassigned user was refused.
const RESTORE: &str = "accept a PATCH setting active back to \"True\" on a user Entra disabled (a string in the default dialect), and keep finding the disabled user by its userName filter";

/// `Create_User_Test`: an assigned user is created (a create entry, status success), the server
/// holds every value exported, and a filter on its userName finds it.
pub fn create_user<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        s.directory.add_user("u");
        s.directory.assign("u");
        let cycle = s.cycle("cycle 1 (create)").await?;
        let entry = s.logged(&cycle, "u", ProvisioningAction::Create, CREATE)?;
        read_back(s, &cycle, "u", entry).await?;
        s.found_by(&cycle, entry, (ResourceKind::User, "userName"), FOUND)
            .await
    })
}

/// `Update_User_Test`: after the user is created, a change of mapped attributes (title,
/// department, given name, phone, city) is an update entry and every new value reads back.
pub fn update_user<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        provisioned(s, &["u"]).await?;
        if let Some(user) = s.directory.user_mut("u") {
            for (name, value) in [
                ("jobTitle", "Senior Tester"),
                ("department", "Quality Assurance"),
                ("givenName", "Updated"),
                ("mobile", "+1 206 555 0199"),
                ("city", "Seattle"),
            ] {
                user.attrs.insert(name.into(), Value::Str(value.into()));
            }
        }
        let cycle = s.cycle("cycle 2 (update)").await?;
        let entry = s.logged(&cycle, "u", ProvisioningAction::Update, UPDATE)?;
        read_back(s, &cycle, "u", entry).await.map(|_| ())
    })
}

/// `Disable_User_Test`: a user blocked from sign-in (accountEnabled false) is a disable entry and
/// reads back inactive.
pub fn disable_user<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        provisioned(s, &["u"]).await?;
        if let Some(user) = s.directory.user_mut("u") {
            user.account_enabled = false;
        }
        let cycle = s.cycle("cycle 2 (disable)").await?;
        let entry = s.logged(&cycle, "u", ProvisioningAction::Disable, DISABLE)?;
        let user = read_back(s, &cycle, "u", entry).await?;
        s.check(&cycle, judge::has(&user, "active", "False"), NOT_APPLIED)
    })
}

/// `Delete_User_Test` (optional): a soft-deleted user is disabled, then, hard-deleted, deleted
/// on the server (a delete entry, and the user gone: 404).
pub fn delete_user<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        provisioned(s, &["u"]).await?;
        if let Some(user) = s.directory.user_mut("u") {
            user.soft_deleted = true;
        }
        let cycle = s.cycle("cycle 2 (soft delete)").await?;
        s.logged(&cycle, "u", ProvisioningAction::Disable, DISABLE)?;
        s.directory.remove("u");
        let cycle = s.cycle("cycle 3 (hard delete)").await?;
        s.logged(&cycle, "u", ProvisioningAction::Delete, DELETE)?;
        gone(s, &cycle, "u").await
    })
}

/// `User_Update_Manager_Test`: a user's manager set, changed and removed, each an entry whose
/// modified properties carry `manager` with the manager's id on the server (empty when
/// removed), and each read back.
pub fn update_manager<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        provisioned(s, &["u", "m1", "m2"]).await?;
        let steps = [
            ("cycle 2 (set manager)", Some("m1")),
            ("cycle 3 (change manager)", Some("m2")),
            ("cycle 4 (remove manager)", None),
        ];
        for (stage, manager) in steps {
            s.directory.set_manager("u", manager);
            let cycle = s.cycle(stage).await?;
            let want = manager.and_then(|m| s.target_id(m)).unwrap_or_default();
            let want = want.to_string();
            let entry = s.logged(&cycle, "u", ProvisioningAction::Update, MANAGER)?;
            let path = s.check(&cycle, judge::manager_exported(entry, &want), MANAGER)?;
            let user = s.read(&cycle, "u").await?;
            s.check(&cycle, judge::has(&user, &path, &want), NOT_APPLIED)?;
        }
        Ok(())
    })
}

/// `Restore_User_Test`: a user unassigned from the app is disabled (a disable entry, inactive on
/// the server); assigned again, it is enabled (an update entry, active on the server).
pub fn restore_user<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
    Box::pin(async move {
        provisioned(s, &["u"]).await?;
        s.directory.unassign("u");
        let cycle = s.cycle("cycle 2 (unassign)").await?;
        s.logged(&cycle, "u", ProvisioningAction::Disable, DISABLE)?;
        let user = s.read(&cycle, "u").await?;
        s.check(&cycle, judge::has(&user, "active", "False"), NOT_APPLIED)?;
        s.directory.assign("u");
        let cycle = s.cycle("cycle 3 (reassign)").await?;
        let entry = s.logged(&cycle, "u", ProvisioningAction::Update, RESTORE)?;
        let user = read_back(s, &cycle, "u", entry).await?;
        s.check(&cycle, judge::has(&user, "active", "True"), NOT_APPLIED)
    })
}

/// Adds the users tagged `tags`, assigns them and runs the first cycle, which must create each.
async fn provisioned(s: &mut Scenario<'_>, tags: &[&str]) -> Result<(), ScenarioFailure> {
    for tag in tags {
        s.directory.add_user(tag);
        s.directory.assign(tag);
    }
    let cycle = s.cycle("cycle 1 (create)").await?;
    for tag in tags {
        s.logged(&cycle, tag, ProvisioningAction::Create, CREATE)?;
    }
    Ok(())
}

/// Reads the user tagged `tag` back; every value `entry` exported must read as exported.
async fn read_back(
    s: &mut Scenario<'_>,
    cycle: &Cycle,
    tag: &str,
    entry: &LogEntry,
) -> Result<serde_json::Value, ScenarioFailure> {
    let user = s.read(cycle, tag).await?;
    s.check(cycle, judge::reads_back(entry, &user), NOT_APPLIED)?;
    Ok(user)
}

/// The user tagged `tag` is gone from the server: `GET /Users/{id}` answers 404.
async fn gone(s: &mut Scenario<'_>, cycle: &Cycle, tag: &str) -> Result<(), ScenarioFailure> {
    let id = s.target_id(tag).unwrap_or_default().to_string();
    let request = Request {
        method: Method::Get,
        path: scim::resource_path(ResourceKind::User, &id),
        body: None,
    };
    let answer = s.send(&format!("{} read back", cycle.stage), request).await;
    let result = match answer.status {
        Some(404) => Ok(()),
        _ => Err(format!(
            "the deleted user still reads: expected 404; {}",
            super::super::direct::refusal(&answer)
        )),
    };
    s.check(cycle, result, DELETE)
}
