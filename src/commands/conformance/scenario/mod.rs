//! The engine-driven tests of `conformance` (issue 17): each a *scenario*, run as a user would —
//! a scratch job in a temporary directory (a directory of typed users and groups named after the
//! run, the mapping under test, a job file with the Tenant URL), cycles of the real engine
//! (`engine::run_cycle`) over the run's transport on a fake clock, the directory edited between
//! cycles, and after each cycle a judgement as the Logic-App validation judges it: the cycle's log
//! entry for the object has the expected action and status success, and a read-back of the object
//! on the server shows what was exported. Every request is recorded for `--verbose` and `--json`;
//! whatever the scenario created on the server is deleted at the end, also after a failure
//! (unless `--keep`), and the temporary directory goes away.
//!
//! # Writing a scenario
//!
//! A scenario is a [`ScenarioFn`], registered in `suite::TESTS` as `Body::Scenario(tag, f)`
//! (the tag goes into the names of its objects, after the run's prefix). It edits
//! [`Scenario::directory`] (tags name its objects), runs [`Scenario::cycle`] with a stage label,
//! and judges with [`Scenario::logged`] (the entry), [`Scenario::read`] (the object on the
//! server, by tag) and [`Scenario::check`] (any `Result<T, String>`, e.g. from
//! [`judge::reads_back`] or [`judge::has`]); each returns a [`ScenarioFailure`] naming the stage,
//! with what Entra does and a fix, so `?` ends the scenario:
//!
//! ```text
//! fn retitle_user<'s>(s: &'s mut Scenario<'_>) -> ScenarioFuture<'s> {
//!     Box::pin(async move {
//!         s.directory.add_user("u");
//!         s.directory.assign("u");
//!         s.cycle("cycle 1 (create)").await?;
//!         let user = s.directory.user_mut("u").ok_or_else(..)?;
//!         user.attrs.insert("jobTitle".into(), Value::Str("Lead".into()));
//!         let cycle = s.cycle("cycle 2 (update)").await?;
//!         let entry = s.logged(&cycle, "u", ProvisioningAction::Update, "apply the PATCH")?;
//!         let read = s.read(&cycle, "u").await?;
//!         s.check(&cycle, judge::reads_back(entry, &read), judge::NOT_APPLIED)
//!     })
//! }
//! ```
//!
//! For other reads (a filter), [`Scenario::send`] sends any request through the runner and
//! records it. Groups belong in [`ScratchDirectory`] beside the users: it already writes,
//! assigns, removes and resolves them by tag ([`ScratchDirectory::member`] gives a tag's
//! `MemberRef`, [`ScratchDirectory::assign`] takes a group's tag too); adding one is pushing a
//! `directory::Group` built like [`ScratchDirectory::add_user`] builds a user. For
//! provision-on-demand, [`Scenario::load`] gives the loaded scratch job and [`Scenario::store`]
//! its state; [`Scenario::note_entries`] keeps the ids of what the entries created, for the
//! cleanup. The fake clock moves 40 minutes after each cycle; nothing sleeps.

#[cfg(test)]
mod group_tests;
mod groups;
pub mod judge;
mod on_demand;
mod scratch;
mod users;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value as Json;

use super::direct::Ctx;
use super::suite::RequestRecord;
use crate::clock::FakeClock;
use crate::commands::Loaded;
use crate::engine::{self, CycleEnv, CycleReport, EntrySink};
use crate::plan::conformance::{Answer, Exchange, Step, StepsFlow};
use crate::plan::{Method, ObjectKind, Reply, Request};
use crate::provlog::{LogEntry, ProvisioningAction, Status};
use crate::runner::{self, Observer, Transport};
use crate::scim::{self, ResourceKind};
use crate::store::Store;

pub use groups::{
    add_member, create_group, delete_group, remove_member, restore_group, update_group,
};
pub use on_demand::{pod_group, pod_user};
pub use scratch::{MappingUnderTest, ScratchDirectory};
pub use users::{
    create_user, delete_user, disable_user, restore_user, update_manager, update_user,
};

/// What a scenario returns: `Err` at its first failed judgement.
pub type ScenarioFuture<'s> = Pin<Box<dyn Future<Output = Result<(), ScenarioFailure>> + 's>>;

/// A scenario: edits the scratch directory, runs cycles and judges them.
pub type ScenarioFn = for<'s, 'a> fn(&'s mut Scenario<'a>) -> ScenarioFuture<'s>;

/// How far the fake clock moves after each cycle: Entra's interval between incremental cycles.
const CYCLE_INTERVAL_MINUTES: i64 = 40;

/// Why a scenario failed, at which stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFailure {
    /// The stage, e.g. `cycle 2 (disable)`.
    pub stage: String,
    /// What was wrong.
    pub reason: String,
    /// What Entra does about it (its log's error code and reason, escrow and quarantine), when
    /// the failure was the server's refusal.
    pub entra: Option<String>,
    /// The fix to try.
    pub hint: String,
}

/// What a scenario came to.
#[derive(Debug, Default)]
pub struct ScenarioRun {
    /// The first failure, if any.
    pub failure: Option<ScenarioFailure>,
    /// Every request sent, cleanup last.
    pub requests: Vec<RequestRecord>,
    /// Objects left on the server (kept, or their DELETE failed), as paths.
    pub left_behind: Vec<String>,
    /// What the test wants said whatever its verdict ([`Scenario::note`]).
    pub note: Option<String>,
}

/// One cycle of a scenario: its stage label, the entries it logged and its report.
#[derive(Debug)]
pub struct Cycle {
    /// The stage, e.g. `cycle 1 (create)`.
    pub stage: String,
    /// Every log entry of the cycle.
    pub entries: Vec<LogEntry>,
    /// The cycle's report (job status, quarantine).
    pub report: CycleReport,
}

/// A scenario in progress: the scratch job, its state, the fake clock, and what was sent.
pub struct Scenario<'a> {
    /// The source tenant; edit it between cycles.
    pub directory: ScratchDirectory,
    ctx: &'a Ctx,
    transport: &'a dyn Transport,
    keep: bool,
    job: scratch::ScratchJob,
    clock: FakeClock,
    rng: StdRng,
    store: Option<Store>,
    requests: Vec<RequestRecord>,
    /// Every object the scenario put on the server, by objectId, in creation order.
    created: Vec<(String, ResourceKind, String)>,
    note: Option<String>,
}

/// Runs `scenario` and cleans up after it.
pub async fn run(
    scenario: ScenarioFn,
    ctx: &Ctx,
    tag: &str,
    transport: &dyn Transport,
    keep: bool,
    now: DateTime<Utc>,
) -> ScenarioRun {
    let mut s = match Scenario::new(ctx, tag, transport, keep, now) {
        Ok(s) => s,
        Err(error) => {
            return ScenarioRun {
                failure: Some(ScenarioFailure {
                    stage: "prepare the scratch job".into(),
                    reason: error.to_string(),
                    entra: None,
                    hint: "check that the temporary directory is writable (TMPDIR)".into(),
                }),
                ..ScenarioRun::default()
            };
        }
    };
    let failure = scenario(&mut s).await.err();
    let note = s.note.take();
    let (requests, left_behind) = s.clean_up().await;
    ScenarioRun {
        failure,
        requests,
        left_behind,
        note,
    }
}

impl<'a> Scenario<'a> {
    fn new(
        ctx: &'a Ctx,
        tag: &str,
        transport: &'a dyn Transport,
        keep: bool,
        now: DateTime<Utc>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            directory: ScratchDirectory::new(&format!("{}-{tag}", ctx.run)),
            job: scratch::ScratchJob::new(&ctx.mapping)?,
            ctx,
            transport,
            keep,
            clock: FakeClock::new(now),
            rng: StdRng::from_os_rng(),
            store: None,
            requests: Vec::new(),
            created: Vec::new(),
            note: None,
        })
    }

    /// The dialect under test.
    pub fn mode(&self) -> scim::ScimMode {
        self.ctx.mode
    }

    /// The fake clock the cycles run on.
    pub fn clock(&self) -> &FakeClock {
        &self.clock
    }

    /// The run's transport (after Ctrl-C it lets only DELETEs through).
    pub fn transport(&self) -> &'a dyn Transport {
        self.transport
    }

    /// Records `exchanges` (sent outside a cycle, e.g. on demand) under `stage`, as a cycle's
    /// requests are.
    pub fn record(&mut self, stage: &str, exchanges: &[(Request, Reply)]) {
        let mut recorder = Recorder::new(stage, &mut self.requests);
        for (request, reply) in exchanges {
            recorder.exchange(request, reply);
        }
    }

    /// Something the test's details say whatever its verdict (e.g. that the dialect under
    /// test does not apply).
    pub fn note(&mut self, text: &str) {
        self.note = Some(text.to_string());
    }

    /// Writes the scratch job as the directory stands and loads it with the loader every
    /// command uses; its state directory is the scratch one (whatever `ENTRA_SIM_STATE_DIR`
    /// says).
    pub fn load(&mut self, stage: &str) -> Result<Loaded, ScenarioFailure> {
        self.job
            .write(&self.directory, &self.ctx.tenant_url)
            .map_err(|e| self.broken(stage, &format!("write the scratch job: {e}")))?;
        let mut loaded = crate::commands::load(&self.job.job_path()).map_err(|e| {
            let name = &self.ctx.mapping.name;
            ScenarioFailure {
                stage: stage.to_string(),
                reason: format!("the scratch job with the mapping {name} does not load: {e}"),
                entra: None,
                hint: format!("check the mapping with `entra-sim validate` ({name})"),
            }
        })?;
        loaded.job.settings.state_dir = self.job.state_dir();
        Ok(loaded)
    }

    /// The scratch job's state, opened on first use.
    pub fn store(&mut self, stage: &str) -> Result<&Store, ScenarioFailure> {
        if self.store.is_none() {
            let store = Store::open(&self.job.state_dir())
                .map_err(|e| self.broken(stage, &format!("open the scratch state: {e}")))?;
            self.store = Some(store);
        }
        self.store
            .as_ref()
            .ok_or_else(|| self.broken(stage, "the scratch state is not open"))
    }

    /// A failure of the harness itself (not of the server).
    fn broken(&self, stage: &str, reason: &str) -> ScenarioFailure {
        ScenarioFailure {
            stage: stage.to_string(),
            reason: reason.to_string(),
            entra: None,
            hint: "entra-sim could not run the scenario (the reason says why); this says nothing about the server".into(),
        }
    }

    /// Runs one cycle of the scratch job as the directory stands, then moves the clock on.
    pub async fn cycle(&mut self, stage: &str) -> Result<Cycle, ScenarioFailure> {
        let loaded = self.load(stage)?;
        self.store(stage)?;
        let Some(store) = &self.store else {
            return Err(self.broken(stage, "the scratch state is not open"));
        };
        let env = CycleEnv {
            job: &loaded.job,
            compiled: &loaded.compiled,
            store,
            client: self.transport,
            mode: loaded.mode,
            clock: &self.clock,
            dry_run: false,
        };
        let mut recorder = Recorder::new(stage, &mut self.requests);
        let result = engine::run_cycle(&env, &mut self.rng, &mut recorder).await;
        let entries = recorder.entries;
        self.note_entries(&entries);
        self.clock
            .advance(Duration::minutes(CYCLE_INTERVAL_MINUTES));
        let report = result.map_err(|e| ScenarioFailure {
            stage: stage.to_string(),
            reason: format!("the cycle failed: {e}"),
            entra: Some(format!("Entra stops the cycle: {e}")),
            hint: judge::hint(self.last_refusal(stage), judge::CYCLE),
        })?;
        Ok(Cycle {
            stage: stage.to_string(),
            entries,
            report,
        })
    }

    /// Keeps the target ids of the objects `entries` created or touched, for the cleanup.
    pub fn note_entries(&mut self, entries: &[LogEntry]) {
        for entry in entries {
            let id = &entry.target_identity.id;
            let object_id = &entry.source_identity.id;
            if id.is_empty() || self.created.iter().any(|(_, _, known)| known == id) {
                continue;
            }
            let kind = match entry.target_identity.identity_type.as_str() {
                "Group" => ResourceKind::Group,
                _ => ResourceKind::User,
            };
            self.created.push((object_id.clone(), kind, id.clone()));
        }
    }

    /// The server's id of the object tagged `tag`, as the entries gave it.
    pub fn target_id(&self, tag: &str) -> Option<&str> {
        let object_id = self.object_id(tag);
        self.created
            .iter()
            .rev()
            .find(|(o, _, _)| *o == object_id)
            .map(|(_, _, id)| id.as_str())
    }

    fn object_id(&self, tag: &str) -> String {
        self.directory
            .object_id(tag)
            .unwrap_or_default()
            .to_string()
    }

    /// The entry `cycle` logged for the object tagged `tag`, when it is `action` with status
    /// success; otherwise a failure naming the stage, with what Entra does (from the entry and
    /// the job's state) and `hint` when the server refused.
    pub fn logged<'c>(
        &self,
        cycle: &'c Cycle,
        tag: &str,
        action: ProvisioningAction,
        hint: &str,
    ) -> Result<&'c LogEntry, ScenarioFailure> {
        let object_id = self.object_id(tag);
        let target_id = self.target_id(tag);
        let logged: Vec<&LogEntry> = (cycle.entries.iter())
            .filter(|e| judge::is_of(e, &object_id, target_id))
            .collect();
        let wanted = logged
            .iter()
            .rev()
            .find(|e| e.provisioning_action == action);
        // A failure before the action was decided (a read refused) is logged as another action.
        let failed =
            (logged.iter().rev()).find(|e| e.provisioning_status_info.status == Status::Failure);
        let stage = cycle.stage.clone();
        match (wanted, failed) {
            (Some(e), _) if e.provisioning_status_info.status == Status::Success => Ok(e),
            (Some(e), _) if e.provisioning_status_info.status != Status::Failure => {
                Err(ScenarioFailure {
                    stage,
                    reason: judge::refused(e, None),
                    entra: None,
                    hint: judge::MISSING.into(),
                })
            }
            (Some(e), _) | (None, Some(e)) => {
                let last = self.last_refusal(&cycle.stage);
                Err(ScenarioFailure {
                    stage,
                    reason: judge::refused(e, last),
                    entra: Some(self.entra_reading(e, &cycle.report)),
                    hint: judge::hint(last, hint),
                })
            }
            (None, None) => Err(ScenarioFailure {
                stage,
                reason: judge::missing(&logged, &self.name_of(tag), action),
                entra: None,
                hint: judge::MISSING.into(),
            }),
        }
    }

    /// What Entra does with the failed `entry`, from the escrow the engine recorded for its
    /// object and the cycle's quarantine.
    fn entra_reading(&self, entry: &LogEntry, report: &CycleReport) -> String {
        let kind = entry.source_identity.identity_type.to_ascii_lowercase();
        let key = format!("{kind}:{}", entry.source_identity.id);
        let escrows = self.store.as_ref().and_then(|s| s.escrows().ok());
        let escrow = escrows.as_ref().and_then(|e| e.get(&key));
        judge::entra_reading(entry, escrow, report.quarantine.as_deref())
    }

    fn name_of(&self, tag: &str) -> String {
        if self
            .directory
            .member(tag)
            .is_some_and(|m| m.kind == crate::directory::MemberKind::Group)
        {
            self.directory.group_name(tag)
        } else {
            self.directory.user_name(tag)
        }
    }

    /// The last refused request of `stage`.
    pub fn last_refusal(&self, stage: &str) -> Option<&RequestRecord> {
        self.requests
            .iter()
            .rev()
            .filter(|r| r.step == stage)
            .find(|r| !r.status.is_some_and(|s| (200..300).contains(&s)))
    }

    /// Reads the object tagged `tag` back from the server (`GET /Users/{id}` or
    /// `/Groups/{id}`), recorded under `cycle`'s stage.
    pub async fn read(&mut self, cycle: &Cycle, tag: &str) -> Result<Json, ScenarioFailure> {
        let Some(id) = self.target_id(tag).map(str::to_string) else {
            return Err(ScenarioFailure {
                stage: cycle.stage.clone(),
                reason: format!("no entry gave the server's id of {}", self.name_of(tag)),
                entra: None,
                hint: judge::MISSING.into(),
            });
        };
        let kind = match self.directory.member(tag).map(|m| m.kind) {
            Some(crate::directory::MemberKind::Group) => ResourceKind::Group,
            _ => ResourceKind::User,
        };
        let request = Request {
            method: Method::Get,
            path: scim::resource_path(kind, &id),
            body: None,
        };
        let label = format!("{} read back", cycle.stage);
        let answer = self.send(&label, request).await;
        if answer.is_success() {
            Ok(answer.body)
        } else {
            Err(ScenarioFailure {
                stage: cycle.stage.clone(),
                reason: format!("read back: {}", super::direct::refusal(&answer)),
                entra: None,
                hint: judge::READ_BACK.into(),
            })
        }
    }

    /// A filter on `attribute` eq the value `entry` exported finds exactly the object it created
    /// (nothing to check when the mapping exports no such value); else a failure with `hint`.
    pub async fn found_by(
        &mut self,
        cycle: &Cycle,
        entry: &LogEntry,
        (kind, attribute): (ResourceKind, &str),
        hint: &str,
    ) -> Result<(), ScenarioFailure> {
        let value = entry
            .modified_properties
            .iter()
            .find(|p| p.display_name.eq_ignore_ascii_case(attribute))
            .and_then(|p| p.new_value.clone());
        let Some(value) = value else {
            return Ok(());
        };
        let request = Request {
            method: Method::Get,
            path: scim::eq_query(kind, attribute, &value),
            body: None,
        };
        let answer = self.send(&format!("{} filter", cycle.stage), request).await;
        let result = if answer.is_success() {
            judge::found_once(&answer.body, &entry.target_identity.id)
        } else {
            let refusal = super::direct::refusal(&answer);
            Err(format!("filter on {attribute}: {refusal}"))
        };
        self.check(cycle, result, hint)
    }

    /// Sends `request` through the runner, recorded under `label`, and returns the answer.
    pub async fn send(&mut self, label: &str, request: Request) -> Answer {
        let step = Step {
            label: label.to_string(),
            method: request.method,
            path: request.path,
            body: request.body,
            capture: None,
            judge: Box::new(|_, _| Ok(())),
        };
        let mut flow = StepsFlow::new(&self.ctx.run, vec![step], true);
        let run = runner::conclude(&mut flow, self.transport).await;
        let answer = run.exchanges.first().map(|e| Answer {
            status: e.status,
            body: serde_json::from_str(&e.body).unwrap_or(Json::Null),
            error: e.status.is_none().then(|| e.body.clone()),
        });
        self.requests
            .extend(run.exchanges.into_iter().map(RequestRecord::of));
        answer.unwrap_or(Answer {
            status: None,
            body: Json::Null,
            error: Some("nothing was sent".into()),
        })
    }

    /// `result` as a failure of `cycle`'s stage with `hint`.
    pub fn check<T>(
        &self,
        cycle: &Cycle,
        result: Result<T, String>,
        hint: &str,
    ) -> Result<T, ScenarioFailure> {
        result.map_err(|reason| ScenarioFailure {
            stage: cycle.stage.clone(),
            reason,
            entra: None,
            hint: hint.to_string(),
        })
    }

    /// Keeps the objects the state connects that no entry named (a connection whose entry a
    /// failure cut short), for the cleanup.
    fn note_anchors(&mut self) {
        let anchors = self.store.as_ref().and_then(|s| s.anchors().ok());
        for (key, anchor) in anchors.unwrap_or_default() {
            let id = anchor.target_id;
            if self.created.iter().any(|(_, _, known)| *known == id) {
                continue;
            }
            let kind = match key.kind {
                ObjectKind::User => ResourceKind::User,
                ObjectKind::Group => ResourceKind::Group,
            };
            self.created.push((key.object_id, kind, id));
        }
    }

    /// Deletes every object the scenario put on the server (groups first, newest first), or
    /// with `keep` lists them; the state is closed and the scratch directory removed.
    async fn clean_up(mut self) -> (Vec<RequestRecord>, Vec<String>) {
        self.note_anchors();
        self.store = None;
        let mut objects = std::mem::take(&mut self.created);
        objects.reverse();
        objects.sort_by_key(|(_, kind, _)| *kind != ResourceKind::Group);
        let paths: Vec<String> = objects
            .iter()
            .map(|(_, kind, id)| scim::resource_path(*kind, id))
            .collect();
        if self.keep {
            return (self.requests, paths);
        }
        let mut left_behind = Vec::new();
        for path in paths {
            let request = Request {
                method: Method::Delete,
                path: path.clone(),
                body: None,
            };
            let answer = self.send("clean up", request).await;
            if !answer.is_success() && answer.status != Some(404) {
                left_behind.push(path);
            }
        }
        (self.requests, left_behind)
    }
}

/// Records every request of a cycle (under its stage) and every log entry.
struct Recorder<'r> {
    stage: &'r str,
    requests: &'r mut Vec<RequestRecord>,
    /// The entries, in the order they finished.
    entries: Vec<LogEntry>,
}

impl<'r> Recorder<'r> {
    fn new(stage: &'r str, requests: &'r mut Vec<RequestRecord>) -> Self {
        Self {
            stage,
            requests,
            entries: Vec::new(),
        }
    }
}

impl Observer for Recorder<'_> {
    fn exchange(&mut self, request: &Request, reply: &Reply) {
        let exchange = Exchange::of(self.stage, request.clone(), reply);
        self.requests.push(RequestRecord::of(exchange));
    }
}

impl EntrySink for Recorder<'_> {
    fn entry(&mut self, log: &LogEntry) {
        self.entries.push(log.clone());
    }

    fn wants_exchanges(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
