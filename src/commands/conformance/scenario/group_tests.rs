//! The group and provision-on-demand scenarios against the built-in target: what they send and
//! read, and each way a server fails them (fault rules and quirks) failing the right test at the
//! right stage, with Entra's reading and a fix; the target is empty afterwards.

use super::tests::{assert_empty, details, one, run, target};
use crate::commands::conformance::suite::{TestRecord, TestResult};
use crate::plan::Method;
use crate::scim::ScimMode;
use crate::target::Quirk;

/// The requests of `record` as `stage METHOD path`.
fn sent(record: &TestRecord) -> Vec<String> {
    record
        .requests
        .iter()
        .map(|r| format!("{} {} {}", r.step, r.method.as_str(), r.path))
        .collect()
}

/// The body of the first request of `stage` with `method`, as text.
fn body_of(record: &TestRecord, stage: &str, method: Method) -> String {
    record
        .requests
        .iter()
        .find(|r| r.step == stage && r.method == method)
        .and_then(|r| r.body.as_ref())
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Every group scenario and both on-demand ones pass in both dialects and leave nothing behind;
/// on demand in aadOptscim062020 mode the details say the flag does not apply.
#[tokio::test]
async fn the_group_and_on_demand_scenarios_pass_in_both_dialects() {
    let names = [
        "Create_Group_Test",
        "Update_Group_Test",
        "Delete_Group_Test",
        "Group_Update_Add_Member_Test",
        "Group_Update_Remove_Member_Test",
        "Restore_Group_Test",
        "POD_User_Test",
        "POD_Group_Test",
    ];
    let (target, client) = target(&[]).await;
    for mode in [ScimMode::Default, ScimMode::Aad062020] {
        for name in names {
            let record = run(&target, &client, mode, name).await;
            assert_eq!(
                record.test_result,
                TestResult::Passed,
                "{name} {mode:?}: {}",
                details(&record)
            );
            let pod = name.starts_with("POD_");
            let noted = record.details.contains("does not honour aadOptscim062020");
            assert_eq!(noted, pod && mode == ScimMode::Aad062020, "{name} {mode:?}");
            assert!(!pod || mode != ScimMode::Default || record.details.is_empty());
            assert_empty(&target);
        }
    }
}

/// Create_Group_Test finds the group by a displayName filter after the cycle.
#[tokio::test]
async fn create_group_reads_back_and_filters() {
    let (record, target) = one("Create_Group_Test", "", &[]).await;
    assert_eq!(
        record.test_result,
        TestResult::Passed,
        "{}",
        details(&record)
    );
    let sent = sent(&record);
    assert!(
        sent.iter()
            .any(|s| s.starts_with("cycle 1 (create) POST /Groups")),
        "{sent:#?}"
    );
    assert!(
        sent.iter()
            .any(|s| s.starts_with("cycle 1 (create) filter GET /Groups?")
                && s.contains("displayName")),
        "{sent:#?}"
    );
    assert_empty(&target);
}

/// A server refusing the ADSCIM group schema URN fails Create_Group_Test at the first cycle,
/// with what Entra logs and the hint to accept or ignore unknown schema URNs.
#[tokio::test]
async fn the_adscim_urn_refused_fails_create_group() {
    let (record, target) = one("Create_Group_Test", "", &[Quirk::RejectAdscimUrn]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 1 (create): Entra logged create failure (")
            && record.details.contains("400 to POST /Groups"),
        "{}",
        details(&record)
    );
    let entra = record.entra.as_deref().unwrap();
    assert!(entra.starts_with("Entra logs "), "{entra}");
    let hint = record.hint.as_deref().unwrap();
    assert!(
        hint.contains("ADSCIM") && hint.contains("ignore unknown schema URNs"),
        "{hint}"
    );
    assert_empty(&target);
}

/// Entra's default member removal (`Remove` with a value list) refused: the remove-member test
/// fails in the default dialect with the hint naming the flag, and passes with the flag, where
/// Entra removes by a `members[value eq …]` path.
#[tokio::test]
async fn remove_with_value_refused_fails_only_the_default_dialect() {
    let quirks = [Quirk::RejectRemoveWithValue];
    let (record, first) = one("Group_Update_Remove_Member_Test", "", &quirks).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 2 (remove the member): Entra logged update failure"),
        "{}",
        details(&record)
    );
    assert_eq!(
        record.hint.as_deref(),
        Some(
            "accept `\"op\":\"Remove\"` with a `value` list on `members`, or use `?aadOptscim062020`"
        )
    );
    assert!(record.entra.is_some());
    assert_empty(&first);

    let (server, client) = target(&quirks).await;
    let name = "Group_Update_Remove_Member_Test";
    let record = run(&server, &client, ScimMode::Aad062020, name).await;
    assert_eq!(
        record.test_result,
        TestResult::Passed,
        "{}",
        details(&record)
    );
    let body = body_of(&record, "cycle 2 (remove the member)", Method::Patch);
    assert!(body.contains("members[value eq"), "{body}");
    assert_empty(&server);
}

/// The member added: the entry's members newValue is the user's id, oldValue empty (checked by
/// the test), and the PATCH is an Add on members.
#[tokio::test]
async fn add_member_patches_members() {
    let (record, target) = one("Group_Update_Add_Member_Test", "", &[]).await;
    assert_eq!(
        record.test_result,
        TestResult::Passed,
        "{}",
        details(&record)
    );
    let body = body_of(&record, "cycle 2 (add a member)", Method::Patch);
    assert!(
        body.contains("\"Add\"") && body.contains("members"),
        "{body}"
    );
    assert_empty(&target);
}

/// A refused group PATCH fails the add-member test at the second cycle.
#[tokio::test]
async fn a_refused_group_patch_fails_add_member() {
    let (record, target) = one("Group_Update_Add_Member_Test", "PATCH /Groups/*=400", &[]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("cycle 2 (add a member): Entra logged update failure"),
        "{}",
        details(&record)
    );
    assert!(record.hint.as_deref().unwrap().contains("\"op\":\"Add\""));
    assert!(record.entra.as_deref().unwrap().starts_with("Entra logs "));
    assert_empty(&target);
}

/// A group DELETE refused: the optional delete test is a WARNING, and the group is still
/// removed by the cleanup once the fault is spent.
#[tokio::test]
async fn a_refused_group_delete_is_a_warning() {
    let (record, target) = one("Delete_Group_Test", "DELETE /Groups/*=500:times=1", &[]).await;
    assert_eq!(
        record.test_result,
        TestResult::Warning,
        "{}",
        details(&record)
    );
    assert!(
        record
            .details
            .starts_with("cycle 2 (delete): Entra logged delete failure"),
        "{}",
        details(&record)
    );
    assert_empty(&target);
}

/// On demand, a refused user POST fails POD_User_Test with what Entra shows and the hint.
#[tokio::test]
async fn a_refused_user_post_fails_pod_user() {
    let (record, target) = one("POD_User_Test", "POST /Users=500", &[]).await;
    assert_eq!(record.test_result, TestResult::Failed);
    assert!(
        record
            .details
            .starts_with("provision on demand: Entra logged create failure (")
            && record.details.contains("500 to POST /Users"),
        "{}",
        details(&record)
    );
    let entra = record.entra.as_deref().unwrap();
    assert!(entra.contains("on-demand export failed"), "{entra}");
    assert!(record.hint.as_deref().unwrap().contains("POST /Users"));
    assert_empty(&target);
}

/// On demand, a group is provisioned with its member: the member's POST, the group's POST and
/// the members PATCH, in the default shapes even in aadOptscim062020 mode.
#[tokio::test]
async fn pod_group_sends_the_default_shapes_in_either_mode() {
    let (target, client) = target(&[]).await;
    let record = run(&target, &client, ScimMode::Aad062020, "POD_Group_Test").await;
    assert_eq!(
        record.test_result,
        TestResult::Passed,
        "{}",
        details(&record)
    );
    let writes: Vec<String> = sent(&record)
        .into_iter()
        .filter(|s| s.starts_with("provision on demand P"))
        .collect();
    assert_eq!(writes.len(), 3, "{writes:#?}");
    assert!(writes[0].contains("POST /Users"));
    assert!(writes[1].contains("POST /Groups"));
    assert!(writes[2].contains("PATCH /Groups/"));
    let body = body_of(&record, "provision on demand", Method::Patch);
    assert!(body.contains("\"Add\""), "the default op names: {body}");
    assert_empty(&target);
}
