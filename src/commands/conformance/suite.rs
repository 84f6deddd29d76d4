//! The registry of `conformance` tests (names exactly as Microsoft's tools name them, so results
//! map onto theirs), each test's verdict, and the run's `overallResult` as the Logic-App
//! validation template computes it.

use serde::Serialize;
use serde_json::Value as Json;

use super::direct::{self, Ctx};
use super::hints::{connection_hint, entra_reading, hint_for};
use super::scenario::{self, ScenarioFn, ScenarioRun};
use super::{Interruptible, Mapped, credentials};
use crate::clock::Clock;
use crate::http::ScimClient;
use crate::plan::conformance::{Exchange, Step, StepsFlow, StepsRun};
use crate::plan::{Method, connection::ConnectionProbe};
use crate::runner;
use crate::scim::{Outcome, ScimMode};

/// Whether a failure fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A failure fails the run.
    Mandatory,
    /// A failure is a warning.
    Optional,
}

/// A test's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TestResult {
    /// Passed.
    Passed,
    /// A mandatory test failed.
    Failed,
    /// An optional test failed.
    Warning,
    /// Not run (with the reason in the details).
    Skipped,
}

impl TestResult {
    /// As the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TestResult::Passed => "PASSED",
            TestResult::Failed => "FAILED",
            TestResult::Warning => "WARNING",
            TestResult::Skipped => "SKIPPED",
        }
    }
}

/// One test of the suite.
pub struct TestDef {
    /// Microsoft's name for it.
    pub name: &'static str,
    /// Mandatory or optional.
    pub category: Category,
    /// What it runs.
    pub body: Body,
    /// What of the job's mapping it needs to be meaningful.
    pub needs: Needs,
    /// The fix to suggest when it fails on a server's answer.
    pub hint: &'static str,
}

/// What a test runs.
#[derive(Clone, Copy)]
pub enum Body {
    /// Direct SCIM requests, as Microsoft's tools send them, run as a [`StepsFlow`].
    Steps(fn(&Ctx) -> Vec<Step>),
    /// A scenario through the engine (a scratch job, cycles, read-backs); the tag is in the
    /// names of its objects.
    Scenario(&'static str, ScenarioFn),
    /// A token from the OAuth client's endpoint, then a read with it (`credentials`).
    Credentials,
}

/// What of the job's mapping a test needs to be meaningful.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Any mapping.
    Nothing,
    /// Group provisioning (Microsoft requires it: without it the test fails).
    Groups,
    /// A `manager` target attribute (without it the test is skipped).
    Manager,
    /// The users mapping's Delete action (without it the test is skipped).
    UserDeletes,
    /// Group provisioning with its Delete action (without groups the test fails; without the
    /// action it is skipped).
    GroupDeletes,
}

use Category::{Mandatory, Optional};

/// Every test, in the order they run. The SCIM Validator's preview checks (MultiOp,
/// Delete_NonExistent, Delete_Twice) and the Logic App's optional ones are optional; the
/// Validator's other checks are mandatory as they are there.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "Validate_Credentials_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Credentials,
        hint: "issue tokens to the client-credentials grant valid for 1 to 6 hours, and accept them on the SCIM endpoint",
    },
    TestDef {
        name: "Schema_Discoverability_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(super::schema::schema_discoverability),
        hint: "list every attribute Entra writes in GET /Schemas (externalId too: Microsoft's check requires it although RFC 7643 makes it a common attribute), with multi-valued attributes' sub-attributes and the type's canonicalValues including the types written",
    },
    TestDef {
        name: "Filter_NonExistent_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(direct::filter_non_existent),
        hint: "answer a filter that matches nothing with 200 and an empty ListResponse (totalResults 0), not 404",
    },
    TestDef {
        name: "SCIM_User_Create_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(direct::user_create),
        hint: "accept a POST /Users with the core and enterprise schemas; answer 201 with the id and the userName exactly as sent",
    },
    TestDef {
        name: "SCIM_Group_Create_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Steps(direct::group_create),
        hint: "accept a POST /Groups with displayName and externalId; answer 201 with the id and the displayName exactly as sent",
    },
    TestDef {
        name: "SCIM_User_Update_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(super::updates::user_update),
        hint: "apply a PATCH replacing single-valued attributes (userName, externalId, displayName, title, enterprise department; one operation each) and return the new values on GET",
    },
    TestDef {
        name: "SCIM_Group_Update_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Steps(super::updates::group_update),
        hint: "apply a PATCH replacing displayName and externalId (one operation each) and return them on GET",
    },
    TestDef {
        name: "Duplicate_User_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(direct::duplicate_user),
        hint: "refuse a second user with an existing userName with 409 and scimType \"uniqueness\"; Entra then matches instead of creating twice",
    },
    TestDef {
        name: "Duplicate_Group_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Steps(direct::duplicate_group),
        hint: "refuse a second group with an existing displayName with 409 and scimType \"uniqueness\"",
    },
    TestDef {
        name: "Filter_User_Different_Case_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(direct::filter_user_case),
        hint: "compare userName case-insensitively in filters (RFC 7643 caseExact false); otherwise Entra creates a duplicate of a user whose case changed",
    },
    TestDef {
        name: "Filter_Group_Different_Case_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Steps(direct::filter_group_case),
        hint: "compare displayName case-insensitively in group filters",
    },
    TestDef {
        name: "Exclude_Members_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Steps(direct::exclude_members),
        hint: "honour excludedAttributes=members on GET by id and on filtered GET; Entra reads groups that way",
    },
    TestDef {
        name: "SCIM_Null_Update_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(super::updates::null_update),
        hint: "treat a replace with \"\" or null as clearing the attribute (absent or null on GET)",
    },
    TestDef {
        name: "SCIM_Update_Manager_Test",
        category: Mandatory,
        needs: Needs::Manager,
        body: Body::Steps(super::updates::update_manager),
        hint: "accept the manager as a plain string value (\"value\": \"<id>\"), as Entra sends it, and a replace with \"\" as removing it",
    },
    TestDef {
        name: "SCIM_User_Pagination_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Steps(super::pagination::user_pagination),
        hint: "honour startIndex and count on GET /Users: count=5 returns 5 resources and echoes startIndex",
    },
    TestDef {
        name: "SCIM_Group_Pagination_Test",
        category: Optional,
        needs: Needs::Groups,
        body: Body::Steps(super::pagination::group_pagination),
        hint: "honour startIndex and count on GET /Groups",
    },
    TestDef {
        name: "MultiOp_Patch_Test",
        category: Optional,
        needs: Needs::Nothing,
        body: Body::Steps(super::updates::multi_op_patch),
        hint: "apply every operation of a PATCH, in order (remove, add and replace, also on one attribute)",
    },
    TestDef {
        name: "Delete_NonExistent_Test",
        category: Optional,
        needs: Needs::Nothing,
        body: Body::Steps(direct::delete_non_existent),
        hint: "answer a DELETE of an unknown id with 404",
    },
    TestDef {
        name: "Delete_Twice_Test",
        category: Optional,
        needs: Needs::Nothing,
        body: Body::Steps(direct::delete_twice),
        hint: "answer a second DELETE of the same id with 404",
    },
    TestDef {
        name: "Create_User_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Scenario("cu", scenario::create_user),
        hint: "accept Entra's POST /Users and answer 201 with the id",
    },
    TestDef {
        name: "Update_User_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Scenario("uu", scenario::update_user),
        hint: "apply Entra's PATCH of changed attributes and return the new values on GET",
    },
    TestDef {
        name: "Disable_User_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Scenario("du", scenario::disable_user),
        hint: "accept Entra's disable PATCH (active \"False\") and return the user inactive",
    },
    TestDef {
        name: "Delete_User_Test",
        category: Optional,
        needs: Needs::UserDeletes,
        body: Body::Scenario("xu", scenario::delete_user),
        hint: "answer Entra's DELETE /Users/{id} with 204, and 404 afterwards",
    },
    TestDef {
        name: "User_Update_Manager_Test",
        category: Mandatory,
        needs: Needs::Manager,
        body: Body::Scenario("mu", scenario::update_manager),
        hint: "accept the manager as a plain string value, and its removal",
    },
    TestDef {
        name: "Restore_User_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Scenario("ru", scenario::restore_user),
        hint: "accept active \"True\" on a user Entra disabled",
    },
    TestDef {
        name: "POD_User_Test",
        category: Mandatory,
        needs: Needs::Nothing,
        body: Body::Scenario("pu", scenario::pod_user),
        hint: "accept Entra's POST /Users from provisioning on demand (the default dialect, always)",
    },
    TestDef {
        name: "Create_Group_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Scenario("cg", scenario::create_group),
        hint: "accept Entra's POST /Groups with the ADSCIM group schema URN (accept or ignore unknown schema URNs)",
    },
    TestDef {
        name: "Update_Group_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Scenario("ug", scenario::update_group),
        hint: "apply Entra's PATCH replacing displayName",
    },
    TestDef {
        name: "Delete_Group_Test",
        category: Optional,
        needs: Needs::GroupDeletes,
        body: Body::Scenario("xg", scenario::delete_group),
        hint: "answer DELETE /Groups/{id} with 204, then GET with 404",
    },
    TestDef {
        name: "Group_Update_Add_Member_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Scenario("ag", scenario::add_member),
        hint: "accept \"op\":\"Add\" on members with a list of {\"value\": id}",
    },
    TestDef {
        name: "Group_Update_Remove_Member_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Scenario("rg", scenario::remove_member),
        hint: "accept `\"op\":\"Remove\"` with a `value` list on `members`, or use `?aadOptscim062020`",
    },
    TestDef {
        name: "Restore_Group_Test",
        category: Optional,
        needs: Needs::GroupDeletes,
        body: Body::Scenario("sg", scenario::restore_group),
        hint: "answer DELETE /Groups/{id} with 204, and create the group anew when Entra assigns it again",
    },
    TestDef {
        name: "POD_Group_Test",
        category: Mandatory,
        needs: Needs::Groups,
        body: Body::Scenario("pg", scenario::pod_group),
        hint: "accept Entra's POST /Groups and the members PATCH from provisioning on demand (the default dialect, always)",
    },
];

/// The longest response body a record keeps.
pub(super) const RESPONSE_CUT: usize = 2000;

/// `text` cut to `max` characters, an ellipsis marking a cut.
pub fn cut(text: &mut String, max: usize) {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
        text.push('…');
    }
}

/// One request of a test, as the JSON shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// The step it belongs to.
    pub step: String,
    /// The method.
    pub method: Method,
    /// Path and query after the Tenant URL.
    pub path: String,
    /// The body sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Json>,
    /// The status answered.
    pub status: Option<u16>,
    /// The response body, cut to 2000 characters.
    pub response: String,
}

impl RequestRecord {
    /// The record of a [`StepsFlow`]'s exchange, the response cut.
    pub(super) fn of(exchange: Exchange) -> Self {
        let Exchange {
            label,
            request,
            status,
            body,
            ..
        } = exchange;
        let mut response = body;
        cut(&mut response, RESPONSE_CUT);
        Self {
            step: label,
            method: request.method,
            path: request.path,
            body: request.body,
            status,
            response,
        }
    }
}

/// One test's result, in the JSON shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRecord {
    /// Microsoft's name of the test.
    pub test_name: &'static str,
    /// `default` or `aadOptscim062020`.
    pub mode: &'static str,
    /// Mandatory or optional.
    pub category: Category,
    /// The verdict.
    pub test_result: TestResult,
    /// What failed (empty when it passed).
    pub details: String,
    /// The fix to try, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What Entra does with the failing answer (its log's error code, what happens next), when
    /// the failure was a refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entra: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// Every request it sent.
    pub requests: Vec<RequestRecord>,
    /// Objects it left on the server (kept, or the cleanup failed), as paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_behind: Vec<String>,
}

impl TestRecord {
    /// Passes every text a server's answers can reach — the details, Entra's reading, the hint,
    /// the paths and responses of the requests — through `clean`.
    pub fn clean(&mut self, clean: &dyn Fn(&str) -> String) {
        self.details = clean(&self.details);
        for text in [&mut self.entra, &mut self.hint].into_iter().flatten() {
            *text = clean(text);
        }
        for request in &mut self.requests {
            request.path = clean(&request.path);
            request.response = clean(&request.response);
        }
        for path in &mut self.left_behind {
            *path = clean(path);
        }
    }
}

/// The mode's name as the JSON writes it.
pub fn mode_name(mode: ScimMode) -> &'static str {
    match mode {
        ScimMode::Default => "default",
        ScimMode::Aad062020 => "aadOptscim062020",
    }
}

/// The verdict of a test's steps.
fn record(test: &TestDef, mode: ScimMode, run: StepsRun) -> TestRecord {
    let (test_result, details, hint, entra) = match &run.failure {
        None => (TestResult::Passed, String::new(), None, None),
        Some(failure) => {
            let result = match test.category {
                Category::Mandatory => TestResult::Failed,
                Category::Optional => TestResult::Warning,
            };
            let details = format!("{}: {}", failure.label, failure.reason);
            let hint = Some(hint_for(test, &run));
            (result, details, hint, entra_reading(&run))
        }
    };
    TestRecord {
        test_name: test.name,
        mode: mode_name(mode),
        category: test.category,
        test_result,
        details,
        hint,
        entra,
        duration_ms: 0,
        left_behind: run.left_behind,
        requests: run.exchanges.into_iter().map(RequestRecord::of).collect(),
    }
}

/// Runs `test` over `transport` and judges it; `oauth` is the client when it authenticates as
/// an OAuth client (for `Validate_Credentials_Test`).
pub async fn run_test(
    test: &TestDef,
    ctx: &Ctx,
    transport: &Interruptible<'_>,
    oauth: Option<&ScimClient>,
    keep: bool,
    clock: &dyn Clock,
) -> TestRecord {
    let started = clock.now();
    let record = match test.body {
        Body::Credentials => credentials::validate(test, ctx.mode, oauth, transport).await,
        Body::Steps(steps) => {
            let mut flow = StepsFlow::new(&ctx.run, steps(ctx), keep);
            let run = runner::conclude(&mut flow, transport).await;
            record(test, ctx.mode, run)
        }
        Body::Scenario(tag, body) => {
            let run = scenario::run(body, ctx, tag, transport, keep, started).await;
            scenario_record(test, ctx.mode, run)
        }
    };
    let elapsed = (clock.now() - started).num_milliseconds();
    TestRecord {
        duration_ms: u64::try_from(elapsed).unwrap_or(0),
        ..record
    }
}

/// The verdict of a scenario's run.
fn scenario_record(test: &TestDef, mode: ScimMode, run: ScenarioRun) -> TestRecord {
    let mut record = skipped(test, mode, "");
    record.test_result = TestResult::Passed;
    record.details = run.note.clone().unwrap_or_default();
    if let Some(failure) = run.failure {
        record.test_result = failed(test);
        record.details = format!("{}: {}", failure.stage, failure.reason);
        if let Some(note) = run.note {
            record.details = format!("{} ({note})", record.details);
        }
        record.entra = failure.entra;
        record.hint = Some(failure.hint);
    }
    record.requests = run.requests;
    record.left_behind = run.left_behind;
    record
}

/// FAILED, or WARNING for an optional test.
fn failed(test: &TestDef) -> TestResult {
    match test.category {
        Category::Mandatory => TestResult::Failed,
        Category::Optional => TestResult::Warning,
    }
}

/// Every test FAILED (or WARNING) because Test Connection failed, with Entra's message.
pub fn connection_failed(test: &TestDef, mode: ScimMode, probes: &[ConnectionProbe]) -> TestRecord {
    let message = probes
        .iter()
        .find_map(|p| match &p.outcome {
            Outcome::Failure(f) => Some(format!("{}: {}", f.code.as_str(), f.reason)),
            Outcome::Match { .. } => Some(
                "Test Connection: the query for a random GUID returned a resource; the filter is not applied".into(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    let test_result = match test.category {
        Category::Mandatory => TestResult::Failed,
        Category::Optional => TestResult::Warning,
    };
    TestRecord {
        test_name: test.name,
        mode: mode_name(mode),
        category: test.category,
        test_result,
        details: format!("Test Connection failed: {message}"),
        hint: Some(connection_hint(probes)),
        entra: None,
        duration_ms: 0,
        requests: Vec::new(),
        left_behind: Vec::new(),
    }
}

/// The record of a test the mapping cannot exercise, as the Logic App judges it: without a
/// `manager` target the manager tests are SKIPPED; without groups the group tests FAILED
/// (Microsoft requires group provisioning); without a Delete action the tests of deletes are
/// SKIPPED.
pub fn unmapped(test: &TestDef, mode: ScimMode, mapped: Mapped) -> Option<TestRecord> {
    match test.needs {
        Needs::Manager if !mapped.manager => Some(skipped(
            test,
            mode,
            "the mapping has no manager target attribute",
        )),
        Needs::Groups | Needs::GroupDeletes if !mapped.groups => {
            let mut record = skipped(test, mode, "");
            record.test_result = match test.category {
                Category::Mandatory => TestResult::Failed,
                Category::Optional => TestResult::Warning,
            };
            record.details =
                "the mapping does not provision groups; Microsoft requires group provisioning"
                    .into();
            record.hint = Some("enable the groups mapping (groups: enabled: true)".into());
            Some(record)
        }
        Needs::UserDeletes if !mapped.user_deletes => Some(skipped(
            test,
            mode,
            "the users mapping's Delete action is off: Entra never deletes a user",
        )),
        Needs::GroupDeletes if !mapped.group_deletes => Some(skipped(
            test,
            mode,
            "the groups mapping's Delete action is off: Entra never deletes a group",
        )),
        _ => None,
    }
}

/// A test not run, and why.
pub fn skipped(test: &TestDef, mode: ScimMode, why: &str) -> TestRecord {
    TestRecord {
        test_name: test.name,
        mode: mode_name(mode),
        category: test.category,
        test_result: TestResult::Skipped,
        details: why.to_string(),
        hint: None,
        entra: None,
        duration_ms: 0,
        requests: Vec::new(),
        left_behind: Vec::new(),
    }
}

/// The run's verdict, as the Logic App's orchestrator computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Overall {
    /// Every mandatory test passed.
    Succeeded,
    /// A mandatory test failed.
    Failed,
}

/// `Failed` when a mandatory test failed. The Logic App also fails every run in which neither
/// `Validate_Credentials_Test` nor `Federated_Identity_Test` passed; taken literally, a server
/// that authenticates with a long-lived bearer token (most of them, and every run without OAuth
/// here) would always fail. So that rule applies only when `oauth` is configured, where
/// `Validate_Credentials_Test` is meaningful.
pub fn overall(records: &[TestRecord], oauth: bool) -> Overall {
    let failed = records.iter().any(|r| r.test_result == TestResult::Failed);
    let credentials_unproven = oauth
        && !records.iter().any(|r| {
            r.test_name == "Validate_Credentials_Test" && r.test_result == TestResult::Passed
        });
    if failed || credentials_unproven {
        Overall::Failed
    } else {
        Overall::Succeeded
    }
}
