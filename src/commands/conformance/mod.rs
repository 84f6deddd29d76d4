//! `entra-sim conformance` (issue 17): Microsoft's gallery validation, offline — Test Connection
//! first (a [`ConnectionFlow`]), then each direct SCIM test as a
//! [`StepsFlow`](crate::plan::conformance::StepsFlow) over the same runner, in one or both
//! dialects; a table (or `--json`) with a verdict and a fix per failure, the summary last.
//! Exit 0 when every mandatory test passed, 1 when one failed. The mapping under test, the
//! Tenant URL and the credential come from `setup` (Entra's default SCIM mapping, or a job's);
//! with an OAuth client, `credentials` checks its token endpoint.

mod credentials;
mod direct;
#[cfg(test)]
mod failures;
mod hints;
mod html;
mod junit;
mod pagination;
mod scenario;
mod schema;
mod setup;
mod suite;
mod table;
mod updates;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::SeedableRng;
use serde::Serialize;

use crate::cli::ConformanceArgs;
use crate::clock::{Clock, SystemClock};
use crate::error::AppError;
use crate::http::ScimClient;
use crate::output::outln;
use crate::plan::connection::{ConnectionFlow, ConnectionProbe};
use crate::plan::{Method, Reply, Request};
use crate::runner::{self, FlowId, Sending, Transport};
use crate::scim::{self, Outcome, ScimMode, TargetPath};

use direct::Ctx;
pub use scenario::MappingUnderTest;
use schema::Targets;
use suite::{Body, Overall, TESTS, TestDef, TestRecord, TestResult};

/// What a run is asked to do, from the command line.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The dialects, in order.
    pub modes: Vec<ScimMode>,
    /// Only these tests (empty: all).
    pub only: Vec<String>,
    /// Not these.
    pub skip: Vec<String>,
    /// Leave what was created.
    pub keep: bool,
    /// What the mapping under test provisions.
    pub mapped: Mapped,
    /// The mapping the engine scenarios provision with (Entra's default SCIM mapping unless a
    /// job names another).
    pub mapping: MappingUnderTest,
    /// The Tenant URL without feature flags.
    pub url: String,
    /// The target attributes it writes.
    pub targets: Targets,
    /// The attributes Test Connection filters on.
    pub matching: Matching,
}

/// The matching attributes (precedence 1) of the mapping under test, which Test Connection
/// probes.
#[derive(Debug, Clone)]
pub struct Matching {
    /// The users'.
    pub user: TargetPath,
    /// The groups', when groups are provisioned.
    pub group: Option<TargetPath>,
}

/// What the mapping under test provisions, for the tests that need it ([`suite::Needs`]).
#[derive(Debug, Clone, Copy)]
pub struct Mapped {
    /// Groups are enabled.
    pub groups: bool,
    /// A user attribute targets the enterprise `manager`.
    pub manager: bool,
    /// The users mapping's Delete action is on.
    pub user_deletes: bool,
    /// Groups are enabled with their Delete action on.
    pub group_deletes: bool,
}

/// The `--json` document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    overall_result: Overall,
    url: &'a str,
    /// In every object's name the run creates, so a caller can check none is left.
    run_prefix: &'a str,
    modes: Vec<&'static str>,
    started_at: String,
    duration_ms: u64,
    tests: &'a [TestRecord],
}

/// Runs the suite against the Tenant URL; exit 0 when every mandatory test passed, else 1.
pub async fn run(args: ConformanceArgs) -> Result<i32, AppError> {
    let setup::Setup {
        plan,
        base_url,
        client,
    } = setup::setup(&args)?;
    let oauth = client.oauth().is_some().then_some(&client);
    let stop = Arc::new(AtomicBool::new(false));
    let on_ctrl_c = stop.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.store(true, Ordering::SeqCst);
        }
    });
    let transport = Interruptible {
        inner: &client,
        stop: stop.clone(),
    };
    let clock = SystemClock;
    let started = clock.now();
    let prefix = run_prefix();
    let mut records = run_suite(&transport, oauth, &plan, &clock, &prefix).await;
    watcher.abort();
    for record in &mut records {
        record.clean(&|text| crate::output::printable(client.scrub_text(text)));
    }
    let duration = (clock.now() - started).num_milliseconds();
    // The credentials rule, unless the credentials test was left out (--only, --skip).
    let credentials_rule = oauth.is_some()
        && records
            .iter()
            .any(|r| r.test_name == CREDENTIALS_TEST && r.test_result != TestResult::Skipped);
    let overall = suite::overall(&records, credentials_rule);
    let document = Document {
        overall_result: overall,
        url: &base_url,
        run_prefix: &prefix,
        modes: plan.modes.iter().map(|m| suite::mode_name(*m)).collect(),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_ms: u64::try_from(duration).unwrap_or(0),
        tests: &records,
    };
    write_files(&args, &document)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&document)?)?;
    } else {
        let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::env::var_os("NO_COLOR").is_none();
        let dialect = (plan.modes.len() > 1).then(|| dialects(&records));
        let table = table::Table {
            modes: &plan.modes,
            colour,
            verbose: args.verbose,
        };
        table.print(&records, dialect.as_deref(), overall)?;
    }
    Ok(match overall {
        Overall::Succeeded => 0,
        Overall::Failed => 1,
    })
}

/// `--junit` and `--html`, when asked for; a write error names the file.
fn write_files(args: &ConformanceArgs, document: &Document<'_>) -> Result<(), AppError> {
    let write = |path: &std::path::PathBuf, text: String| {
        std::fs::write(path, text).map_err(|source| AppError::Write {
            path: path.clone(),
            source,
        })
    };
    if let Some(path) = &args.junit {
        write(path, junit::document(document))?;
    }
    if let Some(path) = &args.html {
        let dialect = (document.modes.len() > 1).then(|| dialects(document.tests));
        write(path, html::page(document, dialect.as_deref()))?;
    }
    Ok(())
}

/// `es` and 8 hex digits: unique per run, in every object's name.
fn run_prefix() -> String {
    let guid = crate::engine::guid(&mut rand::rngs::StdRng::from_os_rng());
    format!("es{}", guid.replace('-', "").get(..8).unwrap_or_default())
}

/// The tests `--only` selects (all without it), `--skip`ped ones too: they are reported SKIPPED.
fn selected<'a>(plan: &'a Plan) -> impl Iterator<Item = &'static TestDef> + 'a {
    TESTS
        .iter()
        .filter(|t| plan.only.is_empty() || plan.only.iter().any(|n| n == t.name))
}

/// The reason a `--skip`ped test shows.
const SKIPPED_BY_FLAG: &str = "skipped with --skip";

/// A transport that, once `stop` is set (Ctrl-C), answers every request but a DELETE itself: the
/// running test fails at once and its cleanup still reaches the server, so an interrupted run
/// leaves the server as it found it.
struct Interruptible<'a> {
    inner: &'a dyn Transport,
    stop: Arc<AtomicBool>,
}

impl Interruptible<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

impl Transport for Interruptible<'_> {
    fn send<'a>(&'a self, flow: FlowId, request: &'a Request) -> Sending<'a> {
        if self.stopped() && request.method != Method::Delete {
            return Box::pin(std::future::ready(Reply::Transport {
                timeout: false,
                connect: false,
                message: INTERRUPTED.into(),
            }));
        }
        self.inner.send(flow, request)
    }

    fn flow_started(&self) -> FlowId {
        self.inner.flow_started()
    }
}

const INTERRUPTED: &str = "interrupted (Ctrl-C)";

/// The test whose pass the run's overall result requires when OAuth is configured.
const CREDENTIALS_TEST: &str = "Validate_Credentials_Test";

/// Test Connection, then every selected test in every mode; after an interruption the tests
/// not yet run are SKIPPED. `oauth` is the client when it authenticates as an OAuth client
/// (`Validate_Credentials_Test` asks its token endpoint; without it that test is SKIPPED).
async fn run_suite(
    transport: &Interruptible<'_>,
    oauth: Option<&ScimClient>,
    plan: &Plan,
    clock: &dyn Clock,
    run: &str,
) -> Vec<TestRecord> {
    let mut records = Vec::new();
    let mapping = Arc::new(plan.mapping.clone());
    for &mode in &plan.modes {
        let probes = test_connection(transport, &plan.matching, run).await;
        // As `test-connection` judges it: a failure, or a resource found for a random GUID.
        let connected = probes
            .iter()
            .all(|p| !matches!(p.outcome, Outcome::Failure(_) | Outcome::Match { .. }));
        let ctx = Ctx {
            run: format!("{run}{}", mode_letter(mode)),
            mode,
            missing_id: crate::engine::guid(&mut rand::rngs::StdRng::from_os_rng()),
            targets: plan.targets.clone(),
            tenant_url: tenant_url(&plan.url, mode),
            mapping: mapping.clone(),
        };
        for test in selected(plan) {
            // The credentials test runs also when Test Connection failed: it tells why.
            let runs = connected || matches!(test.body, Body::Credentials);
            let record = if plan.skip.iter().any(|n| n == test.name) {
                suite::skipped(test, mode, SKIPPED_BY_FLAG)
            } else if transport.stopped() {
                suite::skipped(test, mode, INTERRUPTED)
            } else if let Some(record) = suite::unmapped(test, mode, plan.mapped) {
                record
            } else if runs {
                suite::run_test(test, &ctx, transport, oauth, plan.keep, clock).await
            } else {
                suite::connection_failed(test, mode, &probes)
            };
            records.push(record);
        }
    }
    records
}

/// The Tenant URL as a user would enter it for `mode`.
fn tenant_url(base_url: &str, mode: ScimMode) -> String {
    match mode {
        ScimMode::Default => base_url.to_string(),
        ScimMode::Aad062020 => format!("{base_url}?aadOptscim062020"),
    }
}

fn mode_letter(mode: ScimMode) -> char {
    match mode {
        ScimMode::Default => 'd',
        ScimMode::Aad062020 => 'a',
    }
}

/// Entra's Test Connection on the mapping's matching attributes.
async fn test_connection(
    transport: &dyn Transport,
    matching: &Matching,
    run: &str,
) -> Vec<ConnectionProbe> {
    let id = format!(
        "{run}-{}",
        crate::engine::guid(&mut rand::rngs::StdRng::from_os_rng())
    );
    let paths = scim::test_connection_probes(&matching.user, matching.group.as_ref(), &id);
    let mut flow = ConnectionFlow::new(paths);
    runner::conclude(&mut flow, transport).await
}

/// With both modes: which dialect the server needs. A dialect is blamed only for the mandatory
/// tests that fail in it and pass in the other; a test that fails in both is a server defect no
/// Tenant URL flag fixes, and is named as one.
fn dialects(records: &[TestRecord]) -> String {
    let result = |name: &str, mode: ScimMode| {
        let mode = suite::mode_name(mode);
        records
            .iter()
            .find(|r| r.test_name == name && r.mode == mode)
            .map(|r| r.test_result)
    };
    let (mut default_only, mut aad_only, mut both) = (Vec::new(), Vec::new(), Vec::new());
    for test in TESTS {
        let default = result(test.name, ScimMode::Default);
        let aad = result(test.name, ScimMode::Aad062020);
        match (default, aad) {
            (Some(TestResult::Failed), Some(TestResult::Failed)) => both.push(test.name),
            (Some(TestResult::Failed), Some(TestResult::Passed)) => default_only.push(test.name),
            (Some(TestResult::Passed), Some(TestResult::Failed)) => aad_only.push(test.name),
            _ => {}
        }
    }
    let mut lines = vec![dialect_verdict(&default_only, &aad_only)];
    if !both.is_empty() {
        lines.push(format!(
            "Failing in both dialects (server defects no Tenant URL flag fixes): {}.",
            both.join(", ")
        ));
    }
    lines.join("\n")
}

/// The dialect sentence, from the tests that fail only in the default dialect and only with
/// `aadOptscim062020`.
fn dialect_verdict(default_only: &[&str], aad_only: &[&str]) -> String {
    match (default_only.is_empty(), aad_only.is_empty()) {
        (true, true) => {
            "Both dialects behave alike: the Tenant URL may carry ?aadOptscim062020 or not.".into()
        }
        (true, false) => format!(
            "The default dialect is needed: keep ?aadOptscim062020 out of the Tenant URL ({} only with it).",
            failing(aad_only)
        ),
        (false, true) => format!(
            "The aadOptscim062020 dialect is needed: add ?aadOptscim062020 to the Tenant URL ({} only without it).",
            failing(default_only)
        ),
        (false, false) => format!(
            "Neither dialect is enough: {} only in the default dialect, {} only with ?aadOptscim062020.",
            failing(default_only),
            failing(aad_only)
        ),
    }
}

/// `A fails` or `A, B fail`.
fn failing(names: &[&str]) -> String {
    let verb = if names.len() == 1 { "fails" } else { "fail" };
    format!("{} {verb}", names.join(", "))
}

#[cfg(test)]
impl Plan {
    /// Entra's default SCIM mapping's plan for the Tenant URL `url`, running `only` (empty:
    /// every test) in `modes`, deleting what it creates.
    pub fn of_default_mapping(url: &str, modes: Vec<ScimMode>, only: &[&str]) -> Plan {
        Plan::of_mapping(MappingUnderTest::default(), url, modes, only)
    }

    /// [`Plan::of_default_mapping`] with `mapping` instead.
    pub fn of_mapping(
        mapping: MappingUnderTest,
        url: &str,
        modes: Vec<ScimMode>,
        only: &[&str],
    ) -> Plan {
        let compiled = setup::compile(&mapping).unwrap();
        Plan {
            modes,
            only: only.iter().map(|s| s.to_string()).collect(),
            skip: Vec::new(),
            keep: false,
            mapped: Mapped::of(&compiled),
            targets: Targets::of(&compiled),
            matching: Matching::of(&compiled, std::path::Path::new(&mapping.name)).unwrap(),
            mapping,
            url: url.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Credential, Secret};
    use crate::http::ClientOptions;
    use crate::target::{self, RunningTarget, TargetConfig, parse_spec};
    use std::time::Duration;

    const TOKEN: &str = "conformance-secret";

    async fn target() -> (RunningTarget, ScimClient) {
        target_with(&[]).await
    }

    /// The built-in target with `quirks`, and a client for it.
    pub(super) async fn target_with(
        quirks: &[crate::target::Quirk],
    ) -> (RunningTarget, ScimClient) {
        let target = target::spawn(TargetConfig {
            token: Some(TOKEN.into()),
            quirks: quirks.to_vec(),
            ..TargetConfig::default()
        })
        .await
        .unwrap();
        let options = ClientOptions {
            timeout: Duration::from_secs(10),
            user_agent: None,
            max_response_bytes: 1 << 20,
        };
        let credential = Credential::Bearer(Secret::new(TOKEN));
        let client = ScimClient::new(target.base_url(), &credential, &options).unwrap();
        (target, client)
    }

    fn uninterrupted(client: &ScimClient) -> Interruptible<'_> {
        Interruptible {
            inner: client,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Sets `stop` once the server has answered `after` requests (a Ctrl-C mid-test).
    pub(super) struct StopAfter<'a> {
        pub(super) inner: &'a ScimClient,
        pub(super) stop: Arc<AtomicBool>,
        pub(super) after: usize,
        pub(super) sent: std::sync::atomic::AtomicUsize,
    }

    impl Transport for StopAfter<'_> {
        fn send<'a>(&'a self, flow: FlowId, request: &'a Request) -> Sending<'a> {
            Box::pin(async move {
                let reply = self.inner.send(flow, request).await;
                if self.sent.fetch_add(1, Ordering::SeqCst) + 1 == self.after {
                    self.stop.store(true, Ordering::SeqCst);
                }
                reply
            })
        }
    }

    /// Ctrl-C after the user update's POST: its PATCH is not sent, the user is still deleted,
    /// and the tests after it are SKIPPED.
    #[tokio::test]
    async fn an_interrupted_run_cleans_up_and_skips_the_rest() {
        let (target, client) = target().await;
        let stop = Arc::new(AtomicBool::new(false));
        let counting = StopAfter {
            inner: &client,
            stop: stop.clone(),
            // Two Test Connection probes, then the POST.
            after: 3,
            sent: Default::default(),
        };
        let transport = Interruptible {
            inner: &counting,
            stop,
        };
        let plan = plan(
            &target,
            vec![ScimMode::Default],
            &["SCIM_User_Update_Test", "SCIM_Group_Update_Test"],
        );
        let records = run_suite(&transport, None, &plan, &SystemClock, "t").await;
        assert_eq!(records[0].test_result, TestResult::Failed);
        assert!(
            records[0].details.contains(INTERRUPTED),
            "{}",
            records[0].details
        );
        let methods: Vec<Method> = records[0].requests.iter().map(|r| r.method).collect();
        assert_eq!(methods, [Method::Post, Method::Patch, Method::Delete]);
        assert_eq!(records[0].requests[1].status, None);
        assert_eq!(records[1].test_result, TestResult::Skipped);
        assert!(target.users().is_empty());
    }

    /// What Entra's default SCIM mapping provisions.
    fn default_mapped() -> Mapped {
        Mapped::of(&setup::default_mapping().unwrap())
    }

    fn plan(target: &RunningTarget, modes: Vec<ScimMode>, only: &[&str]) -> Plan {
        Plan::of_default_mapping(target.base_url(), modes, only)
    }

    /// Runs `only` in the default mode against a target with `faults`.
    async fn one(name: &str, faults: &str) -> (TestRecord, RunningTarget) {
        let (target, client) = target().await;
        target.set_faults(parse_spec(faults).unwrap());
        let plan = plan(&target, vec![ScimMode::Default], &[name]);
        let mut records = run_suite(&uninterrupted(&client), None, &plan, &SystemClock, "t").await;
        assert_eq!(records.len(), 1);
        (records.remove(0), target)
    }

    /// Every test passes against the built-in target in both modes (but the credentials test,
    /// SKIPPED with a bearer token), and the target holds nothing afterwards.
    #[tokio::test]
    async fn the_built_in_target_passes_everything_in_both_modes() {
        let (target, client) = target().await;
        let plan = plan(&target, vec![ScimMode::Default, ScimMode::Aad062020], &[]);
        let records = run_suite(&uninterrupted(&client), None, &plan, &SystemClock, "t").await;
        assert_eq!(records.len(), 2 * TESTS.len());
        let skipped = |r: &TestRecord| {
            r.test_name == "Validate_Credentials_Test"
                && r.test_result == TestResult::Skipped
                && r.details == credentials::NO_OAUTH
        };
        assert_eq!(records.iter().filter(|r| skipped(r)).count(), 2);
        let failed: Vec<String> = records
            .iter()
            .filter(|r| r.test_result != TestResult::Passed && !skipped(r))
            .map(|r| format!("{} ({}): {}", r.test_name, r.mode, r.details))
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
        assert_eq!(suite::overall(&records, false), Overall::Succeeded);
        assert!(target.users().is_empty(), "{:?}", target.users());
        assert!(target.groups().is_empty(), "{:?}", target.groups());
    }

    /// Test Connection refused: every test FAILED (optional ones WARNING) with Entra's message,
    /// but the credentials test, SKIPPED with a bearer token.
    #[tokio::test]
    async fn a_refused_token_fails_every_test() {
        let (target, client) = target().await;
        target.set_faults(parse_spec("* *=unauthorized").unwrap());
        let plan = plan(&target, vec![ScimMode::Default], &[]);
        let records = run_suite(&uninterrupted(&client), None, &plan, &SystemClock, "t").await;
        let (credentials, others) = records.split_first().unwrap();
        assert_eq!(credentials.test_name, "Validate_Credentials_Test");
        assert_eq!(credentials.test_result, TestResult::Skipped);
        assert!(others.iter().all(|r| matches!(
            r.test_result,
            TestResult::Failed | TestResult::Warning
        ) && r.details.starts_with("Test Connection failed: ")));
        assert_eq!(suite::overall(&records, false), Overall::Failed);
    }

    /// A filter on nothing answered 404: FAILED, with the hint to answer an empty list.
    #[tokio::test]
    async fn a_404_for_a_filter_on_nothing_fails() {
        let (record, _target) = one(
            "Filter_NonExistent_Test",
            "GET /Groups=pass:times=1; GET /Groups=404",
        )
        .await;
        assert_eq!(record.test_result, TestResult::Failed, "{record:?}");
        assert!(
            record
                .details
                .contains("expected 200 and an empty ListResponse"),
            "{}",
            record.details
        );
        assert!(record.hint.as_deref().unwrap().contains("not 404"));
    }

    /// A refused user POST fails the create test with its hint and the server's answer.
    #[tokio::test]
    async fn a_refused_create_fails() {
        let (record, _target) = one("SCIM_User_Create_Test", "POST /Users=500").await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record.details.starts_with("create a user: answered 500"),
            "{}",
            record.details
        );
        assert!(record.hint.as_deref().unwrap().contains("POST /Users"));
        assert_eq!(record.requests[0].status, Some(500));
        let entra = record.entra.as_deref().unwrap();
        assert!(entra.starts_with("Entra logs "), "{entra}");
        assert!(
            entra.contains("InternalServerError: the object is retried in the next cycle"),
            "{entra}"
        );
    }

    /// A DELETE of nothing answered 204: an optional test, so a WARNING.
    #[tokio::test]
    async fn a_204_for_a_missing_user_is_a_warning() {
        let (record, _target) = one("Delete_NonExistent_Test", "DELETE /Users/*=204").await;
        assert_eq!(record.test_result, TestResult::Warning);
        assert!(record.hint.as_deref().unwrap().contains("404"));
    }

    /// A group PATCH accepted but not applied fails at the read-back; the group is still deleted.
    #[tokio::test]
    async fn a_group_patch_not_applied_fails() {
        let (record, target) = one("SCIM_Group_Update_Test", "PATCH /Groups/*=204").await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record
                .details
                .starts_with("read the group back: displayName reads"),
            "{}",
            record.details
        );
        assert!(target.groups().is_empty());
    }

    /// No /Schemas: FAILED, with the hint to list the attributes.
    #[tokio::test]
    async fn no_schemas_fails_discoverability() {
        let (record, _target) = one("Schema_Discoverability_Test", "GET /Schemas=404").await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record.details.starts_with("read /Schemas: answered 404"),
            "{}",
            record.details
        );
        assert!(record.hint.as_deref().unwrap().contains("GET /Schemas"));
    }

    /// A user PATCH accepted but not applied fails at the read-back.
    #[tokio::test]
    async fn a_user_update_not_applied_fails() {
        let (record, _target) = one("SCIM_User_Update_Test", "PATCH /Users/*=204").await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record
                .details
                .starts_with("read the user back: userName reads"),
            "{}",
            record.details
        );
        assert_eq!(record.entra, None, "a 204 is no refusal");
    }

    /// A null update accepted but not applied fails.
    #[tokio::test]
    async fn a_null_update_not_applied_fails() {
        let (record, target) = one("SCIM_Null_Update_Test", "PATCH /Users/*=204").await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record.details.contains("title still reads"),
            "{}",
            record.details
        );
        assert!(target.users().is_empty());
    }

    /// A manager PATCH refused fails the manager test, naming the step.
    #[tokio::test]
    async fn a_refused_manager_patch_fails() {
        let (record, _target) = one("SCIM_Update_Manager_Test", "PATCH /Users/*=400").await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record.details.starts_with("set the manager: answered 400"),
            "{}",
            record.details
        );
        assert!(record.hint.as_deref().unwrap().contains("plain string"));
    }

    /// With --keep, the objects stay and are named.
    #[tokio::test]
    async fn keep_leaves_the_objects() {
        let (target, client) = target().await;
        let mut plan = plan(&target, vec![ScimMode::Default], &["SCIM_User_Create_Test"]);
        plan.keep = true;
        let records = run_suite(&uninterrupted(&client), None, &plan, &SystemClock, "t").await;
        assert_eq!(records[0].left_behind.len(), 1);
        assert_eq!(target.users().len(), 1);
    }

    /// A mapping whose Delete action is off: the Logic App skips the tests that need it.
    #[test]
    fn a_mapping_that_never_deletes_skips_the_delete_tests() {
        let test = |name: &str| TESTS.iter().find(|t| t.name == name).unwrap();
        let verdict = |name: &str, mapped: Mapped| {
            suite::unmapped(test(name), ScimMode::Default, mapped)
                .map(|r| (r.test_result, r.details))
        };
        let no_user_deletes = Mapped {
            user_deletes: false,
            ..default_mapped()
        };
        let (result, details) = verdict("Delete_User_Test", no_user_deletes).unwrap();
        assert_eq!(result, TestResult::Skipped);
        assert!(details.contains("Delete action"), "{details}");
        assert!(verdict("Restore_User_Test", no_user_deletes).is_none());
        let no_group_deletes = Mapped {
            group_deletes: false,
            ..default_mapped()
        };
        for name in ["Delete_Group_Test", "Restore_Group_Test"] {
            assert_eq!(
                verdict(name, no_group_deletes).unwrap().0,
                TestResult::Skipped
            );
        }
        assert!(verdict("Create_Group_Test", no_group_deletes).is_none());
        let no_groups = Mapped {
            groups: false,
            group_deletes: false,
            ..default_mapped()
        };
        // Without groups at all the group tests fail (optional ones warn), as before.
        assert_eq!(
            verdict("Delete_Group_Test", no_groups).unwrap().0,
            TestResult::Warning
        );
    }

    /// Without a manager target the manager tests are SKIPPED; without groups the group tests
    /// FAILED (WARNING when optional), as the Logic App judges them.
    #[test]
    fn what_the_mapping_lacks_skips_or_fails() {
        let test = |name: &str| TESTS.iter().find(|t| t.name == name).unwrap();
        let no_manager = Mapped {
            manager: false,
            ..default_mapped()
        };
        let manager = suite::unmapped(
            test("SCIM_Update_Manager_Test"),
            ScimMode::Default,
            no_manager,
        );
        assert_eq!(manager.unwrap().test_result, TestResult::Skipped);
        let no_groups = Mapped {
            groups: false,
            ..default_mapped()
        };
        let create = suite::unmapped(test("SCIM_Group_Create_Test"), ScimMode::Default, no_groups);
        assert_eq!(create.unwrap().test_result, TestResult::Failed);
        let paging = suite::unmapped(
            test("SCIM_Group_Pagination_Test"),
            ScimMode::Default,
            no_groups,
        );
        assert_eq!(paging.unwrap().test_result, TestResult::Warning);
        assert!(
            suite::unmapped(test("SCIM_User_Create_Test"), ScimMode::Default, no_groups).is_none()
        );
        assert!(
            suite::unmapped(
                test("SCIM_Update_Manager_Test"),
                ScimMode::Default,
                default_mapped()
            )
            .is_none()
        );
    }

    /// The credentials rule applies only when OAuth is configured.
    #[test]
    fn the_credentials_rule_needs_oauth() {
        assert_eq!(suite::overall(&[], false), Overall::Succeeded);
        assert_eq!(suite::overall(&[], true), Overall::Failed);
    }
}
