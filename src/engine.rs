//! Runs one provisioning cycle (spec §1.2–§1.3): decides initial vs incremental, builds the source
//! objects, classifies them, then drives the flows phase by phase — users, groups, references,
//! deprovisioning — persisting outcomes as they finish (all durable by the end of each phase),
//! and advances each object's watermark only when all of its entries succeeded (a failed object
//! is retried next cycle).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use rand::RngCore;
use serde::Serialize;

use crate::clock::Clock;
use crate::config::Job;
use crate::directory::index::assignment_digest;
use crate::directory::{Directory, MemberKind, MemberRef};
use crate::error::AppError;
use crate::expr::EvalContext;
use crate::hash::Keyed;
use crate::plan::desired::{self, CompiledMapping, Details, Sources};
use crate::plan::{
    Anchors, CycleInputs, CycleKind, CycleRules, DeleteFlow, DisableFlow, EntryContext,
    EntryOutcome, Flow, GroupFlow, JobFailure, ManagerFlow, MembersFlow, ObjectKey, ObjectKind,
    SkipFlow, SourceObject, StateChange, UserFlow, Work, classify_objects, evaluation_failure,
};
use crate::policy::{
    CycleCounts, CycleResult, DeletionDecision, EscrowFailure, EscrowOperation, EscrowRecord,
    Escrows, ImportCounts, JobCode, JobFailure as PolicyJobFailure, PendingDeletes, after_cycle,
    deletion_guard, escrow_threshold,
};
use crate::provlog::{LogEntry, ProvisioningAction, Status};
use crate::runner::{self, Observer, Transport};
use crate::scim::{CreateSettings, PrimaryType, ScimMode};
use crate::store::Store;

/// Counts of a cycle's entries, as the summary line prints them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Objects created.
    pub created: usize,
    /// Objects updated (incl. manager and member exports).
    pub updated: usize,
    /// Users disabled.
    pub disabled: usize,
    /// Objects deleted.
    pub deleted: usize,
    /// Entries skipped (nothing to do, or out of scope).
    pub skipped: usize,
    /// Entries that failed (retried next cycle).
    pub failed: usize,
}

impl Counts {
    /// Counts one log entry.
    pub fn add(&mut self, log: &LogEntry) {
        match (log.provisioning_status_info.status, log.provisioning_action) {
            (Status::Failure, _) => self.failed += 1,
            (Status::Skipped, _) => self.skipped += 1,
            (_, ProvisioningAction::Create) => self.created += 1,
            (_, ProvisioningAction::Disable) => self.disabled += 1,
            (_, ProvisioningAction::Delete) => self.deleted += 1,
            (_, _) => self.updated += 1,
        }
    }
}

/// What a cycle did.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleReport {
    /// The cycle's id ("Activity ID").
    pub cycle_id: String,
    /// Initial or incremental.
    pub kind: CycleKind,
    /// When it began and ended (UTC, as Graph writes times: seven fractional digits).
    pub time_began: String,
    /// When it ended.
    pub time_ended: String,
    /// Entry counts.
    pub counts: Counts,
    /// The job-level failure that stopped the cycle, if any.
    pub job_failure: Option<String>,
    /// The job's status after the cycle (`Active`, `Quarantine`, `Paused`, `Disabled`).
    pub job_status: String,
    /// The quarantine reason, when quarantined.
    pub quarantine: Option<String>,
    /// Deletes and disables held back by the accidental-deletion guard.
    pub staged_deletes: usize,
    /// Objects waiting in escrow after the cycle.
    pub escrowed: usize,
    /// When the first of them is due to be retried (Graph's time format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_escrow_due: Option<String>,
    /// Requests sent to the target.
    pub requests: u64,
    /// The source was byte-for-byte that of the last clean cycle, so it was not read at all
    /// ([`unchanged_cycle`]).
    #[serde(default)]
    pub source_unchanged: bool,
}

/// Everything a cycle needs.
pub struct CycleEnv<'a> {
    /// The validated job.
    pub job: &'a Job,
    /// Its compiled mapping.
    pub compiled: &'a CompiledMapping,
    /// Its state.
    pub store: &'a Store,
    /// Where requests go: the HTTP client for the Tenant URL, or a planning transport.
    pub client: &'a dyn Transport,
    /// Default or `aadOptscim062020`.
    pub mode: ScimMode,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// Plan only: the transport answers writes itself and nothing is persisted.
    pub dry_run: bool,
}

pub use crate::expr::guid;

/// What every entry of a job's cycle shares, from the job's settings.
pub fn entry_context(
    job: &Job,
    mode: ScimMode,
    cycle_id: &str,
    change_id: String,
    now: chrono::DateTime<chrono::Utc>,
) -> EntryContext {
    let settings = &job.settings;
    EntryContext {
        job_id: job.app.job_id.as_str().into(),
        cycle_id: cycle_id.into(),
        change_id,
        now,
        mode,
        target_name: job.app.display_name.as_str().into(),
        app: Arc::new(job.app.clone()),
        delete_not_found_is_success: settings.delete_not_found_is_success,
        member_batch_size: settings.member_batch_size as usize,
        create_settings: Arc::new(CreateSettings {
            primary_types: settings
                .primary_email_types
                .iter()
                .map(|t| PrimaryType {
                    attr: "emails".into(),
                    type_value: t.clone(),
                })
                .collect(),
            empty_roles: settings.send_empty_roles,
        }),
    }
}

/// Applies an entry's connection changes to an in-memory anchor map (after the store has them);
/// they are taken out of the outcome (a large group's anchor is not copied).
pub fn apply_changes(anchors: &mut Anchors, outcome: &mut EntryOutcome) {
    for change in outcome.changes.drain(..) {
        match change {
            StateChange::PutAnchor(k, a) => {
                anchors.insert(k, a);
            }
            StateChange::RemoveAnchor(k) => {
                anchors.remove(&k);
            }
            StateChange::Known(..) => {}
        }
    }
}

/// Sees every finished entry (the CLI prints a line for each).
pub trait EntrySink: Observer {
    /// Called once per finished entry that produced a log record.
    fn entry(&mut self, log: &LogEntry);

    /// Whether [`Observer::exchange`] should be called (keeping every reply costs memory).
    fn wants_exchanges(&self) -> bool {
        false
    }

    /// Called when a phase (`users`, `groups`, `references`, `deprovisioning`, `staged`) starts,
    /// with how many objects it has to process; the CLI shows progress.
    fn planned(&mut self, _phase: &'static str, _total: usize) {}

    /// Called when one object of the current phase is processed, whether or not it produced a log
    /// record.
    fn processed(&mut self) {}
}

struct Cycle<'a, 'b> {
    env: &'b CycleEnv<'a>,
    sources: &'b Sources<'b>,
    /// When the cycle began: the `Now()` of every expression it evaluates.
    began: chrono::DateTime<chrono::Utc>,
    rng: &'b mut dyn RngCore,
    sink: &'b mut dyn EntrySink,
    /// What every entry shares; each gets its own change id and time.
    entries: EntryContext,
    anchors: Anchors,
    counts: Counts,
    failed: BTreeSet<ObjectKey>,
    job_failure: Option<JobFailure>,
    escrows: Escrows,
    successes: u64,
    requests: u64,
    /// Manager and member entries (`countImportedReferenceDeltas`).
    reference_entries: u64,
    /// Objects whose escrow expired this cycle: Entra gives up until they change again.
    expired: BTreeSet<ObjectKey>,
}

impl Cycle<'_, '_> {
    /// An object's log steps and mapped state, computed as its flow starts.
    fn details(&mut self, object: &SourceObject) -> Details {
        let mut ctx = EvalContext {
            now: self.began,
            rng: &mut *self.rng,
        };
        desired::details(object, self.env.compiled, self.sources, &mut ctx)
    }

    /// An object's name and log steps (the key's id when the source no longer has it).
    fn named(
        &mut self,
        key: &ObjectKey,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> (String, Vec<crate::provlog::Step>) {
        match objects.get(key) {
            Some(object) => (object.name.clone(), self.details(object).steps),
            None => (key.object_id.clone(), Vec::new()),
        }
    }

    fn context(&mut self) -> EntryContext {
        EntryContext {
            change_id: guid(self.rng),
            now: self.env.clock.now(),
            ..self.entries.clone()
        }
    }

    /// Records an outcome: escrow bookkeeping (§9), then persists it, updates the in-memory anchors
    /// and counts.
    fn record(&mut self, key: &ObjectKey, mut outcome: EntryOutcome) -> Result<(), AppError> {
        if !self.env.dry_run {
            self.escrow(key, &mut outcome)?;
            runner::persist(self.env.store, &outcome)?;
        }
        apply_changes(&mut self.anchors, &mut outcome);
        if let Some(log) = &outcome.log {
            self.counts.add(log);
            if log.provisioning_status_info.status == crate::provlog::Status::Success {
                self.successes += 1;
            }
            if log.provisioning_steps.first().is_some_and(|s| {
                s.provisioning_step_type == crate::provlog::StepType::ReferenceResolution
            }) {
                self.reference_entries += 1;
            }
            self.sink.entry(log);
        }
        if outcome.failed {
            self.failed.insert(key.clone());
        }
        if let Some(failure) = outcome.job_failure {
            self.job_failure = Some(failure);
        }
        Ok(())
    }

    /// Parks a failed object in escrow with Entra's retry bookkeeping in its log reason, or clears
    /// the escrow of an object that succeeded.
    fn escrow(&mut self, key: &ObjectKey, outcome: &mut EntryOutcome) -> Result<(), AppError> {
        let object = key.to_string();
        let now = self.env.clock.now();
        if !outcome.failed {
            if outcome.log.is_some() && self.escrows.record_success(&object).is_some() {
                self.env.store.remove_escrow(&object)?;
            }
            return Ok(());
        }
        if outcome.job_failure.is_some() {
            return Ok(());
        }
        let Some(log) = outcome.log.as_mut() else {
            return Ok(());
        };
        let reference = log.provisioning_steps.first().is_some_and(|s| {
            s.provisioning_step_type == crate::provlog::StepType::ReferenceResolution
        });
        let operation = match (reference, log.provisioning_action) {
            (true, _) => EscrowOperation::Reference,
            (_, ProvisioningAction::Create) => EscrowOperation::Create,
            (_, ProvisioningAction::Disable) => EscrowOperation::Disable,
            (_, ProvisioningAction::Delete) => EscrowOperation::Delete,
            _ => EscrowOperation::Update,
        };
        let Some(info) = log.provisioning_status_info.error_information.as_mut() else {
            return Ok(());
        };
        let failure = EscrowFailure {
            object: object.clone(),
            operation,
            error_code: info.error_code.clone(),
            reason: info.reason.clone(),
            reference,
        };
        match self
            .escrows
            .record_failure(failure, &self.env.job.settings.policy.escrow, now)
        {
            EscrowRecord::Escrowed(entry) => {
                info.reason = entry.reason_with_suffix();
                self.env.store.put_escrow(&entry)?;
            }
            EscrowRecord::Expired(_) => {
                info.reason = format!(
                    "{} The retries of this object have expired; it is retried when it changes.",
                    info.reason
                );
                self.env.store.remove_escrow(&object)?;
                self.expired.insert(key.clone());
            }
        }
        Ok(())
    }

    /// Turns one piece of work into a flow to drive, an outcome decided without a request, or nothing.
    fn prepare(&mut self, item: Item<'_>, objects: &HashMap<ObjectKey, &SourceObject>) -> Prepared {
        match item {
            Item::Work(work) => self.prepare_work(work, objects),
            Item::Reference(key) => self.prepare_reference(key, objects),
            Item::Staged(work) => {
                let key = work_key(work);
                let (name, steps) = self.named(key, objects);
                let text = "The delete or disable is held back: this cycle's deletions exceed the accidental-deletion threshold. Allow deletes with `entra-sim restart --scope ForceDeletes`.".to_string();
                let flow = SkipFlow::new(
                    self.context(),
                    key,
                    &name,
                    steps,
                    crate::provlog::SkipReason::StagedDelete,
                    text,
                    Vec::new(),
                )
                .staged();
                Prepared::Flow(key.clone(), Box::new(flow))
            }
        }
    }

    fn prepare_work(
        &mut self,
        work: &Work,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Prepared {
        match work {
            Work::Reconcile(key) => {
                let Some(obj) = objects.get(key).copied() else {
                    return Prepared::Nothing;
                };
                let details = self.details(obj);
                let ctx = self.context();
                if let Some(error) = details.error {
                    let outcome = evaluation_failure(&ctx, key, &obj.name, details.steps, error);
                    return Prepared::Done(key.clone(), Box::new(outcome));
                }
                let anchor = self.anchors.get(key).cloned();
                let flow: GroupFlow = UserFlow::new(
                    ctx,
                    key.clone(),
                    &obj.name,
                    details.spec,
                    anchor,
                    details.steps,
                );
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Disable(key, anchor) => {
                let (name, steps) = self.named(key, objects);
                let flow =
                    DisableFlow::new(self.context(), key.clone(), &name, anchor.clone(), steps);
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Delete(key, anchor) => {
                let (name, steps) = self.named(key, objects);
                let flow =
                    DeleteFlow::new(self.context(), key.clone(), &name, anchor.clone(), steps);
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Skip(key, reason) => {
                let (name, steps) = self.named(key, objects);
                let text = match reason {
                    crate::provlog::SkipReason::SkipOutOfScopeDeletions => "The object left scope and SkipOutOfScopeDeletions is set, so it is not disabled.".to_string(),
                    crate::provlog::SkipReason::ScopingFilterNotMatched => "The object does not pass the scoping filters.".to_string(),
                    crate::provlog::SkipReason::TargetActionNotEnabled => "The object was deleted in the source but the Delete target action is disabled.".to_string(),
                    other => format!("The object is out of scope ({other})."),
                };
                let flow =
                    SkipFlow::new(self.context(), key, &name, steps, *reason, text, Vec::new());
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            Work::Forget(_) => Prepared::Nothing,
        }
    }

    /// The target id of an object's connection, with its hash: for a user whose line was not
    /// read (not processed since the last clean cycle, so without an anchor read this cycle),
    /// the one the source index kept; otherwise the cycle's.
    fn target_of(&self, key: &ObjectKey) -> Option<Keyed<'_>> {
        target_in(&self.env.job.directory, &self.anchors, key)
    }

    /// The manager or member export of a reconciled object, when its references changed.
    fn prepare_reference(
        &mut self,
        key: &ObjectKey,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Prepared {
        if self.failed.contains(key) {
            return Prepared::Nothing;
        }
        let (Some(obj), Some(anchor)) = (objects.get(key), self.anchors.get(key).cloned()) else {
            return Prepared::Nothing;
        };
        match key.kind {
            ObjectKind::User => {
                let Some(manager) = &obj.manager else {
                    // No manager in the source: clear the one the target holds (the only
                    // reference Entra clears; other attributes never flow nulls).
                    if !self.env.compiled.users.links_manager || anchor.manager.is_none() {
                        return Prepared::Nothing;
                    }
                    let flow = ManagerFlow::remove(self.context(), key.clone(), &obj.name, anchor);
                    return Prepared::Flow(key.clone(), Box::new(flow));
                };
                let manager_key = ObjectKey::user(manager);
                let Some(Keyed {
                    text: manager_id, ..
                }) = self.target_of(&manager_key)
                else {
                    return Prepared::Nothing;
                };
                if anchor.manager.as_deref() == Some(manager_id) {
                    return Prepared::Nothing;
                }
                let manager_id = manager_id.to_owned();
                let manager_name = objects
                    .get(&manager_key)
                    .map(|o| o.name.as_str())
                    .or_else(|| self.env.job.directory.user_name(manager))
                    .unwrap_or_default()
                    .to_owned();
                let flow = ManagerFlow::new(
                    self.context(),
                    key.clone(),
                    &obj.name,
                    anchor,
                    manager_id,
                    &manager_name,
                );
                Prepared::Flow(key.clone(), Box::new(flow))
            }
            ObjectKind::Group => {
                let ctx = self.context();
                // Each lookup is a few cache misses in tables of every user; a large group's
                // members are looked up on both cores.
                let (directory, anchors) = (&self.env.job.directory, &self.anchors);
                let members: Vec<&ObjectKey> = obj.members.iter().collect();
                let desired =
                    crate::directory::par::map(members, |m| target_in(directory, anchors, m));
                let desired = desired.into_iter().flatten();
                let flow = MembersFlow::new(ctx, key.clone(), &obj.name, anchor, desired);
                if flow.is_noop() {
                    return Prepared::Nothing;
                }
                Prepared::Flow(key.clone(), Box::new(flow))
            }
        }
    }

    /// Drives every item of a phase with at most `settings.concurrency` objects in flight; one
    /// object's requests stay in order, and each outcome is persisted as soon as it arrives.
    async fn phase(
        &mut self,
        name: &'static str,
        items: impl ExactSizeIterator<Item = Item<'_>>,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Result<(), AppError> {
        self.sink.planned(name, items.len());
        let client = self.env.client;
        client.phase_started(name);
        let limit = usize::try_from(self.env.job.settings.concurrency)
            .unwrap_or(1)
            .max(1);
        let keep = self.sink.wants_exchanges();
        let throttle = Some(runner::Throttle {
            policy: &self.env.job.settings.policy.retry_after,
            clock: self.env.clock,
        });
        let mut items = items;
        let mut inflight = FuturesUnordered::new();
        loop {
            while inflight.len() < limit && self.job_failure.is_none() {
                let Some(item) = items.next() else { break };
                match self.prepare(item, objects) {
                    Prepared::Nothing => self.sink.processed(),
                    Prepared::Done(key, outcome) => {
                        self.record(&key, *outcome)?;
                        self.sink.processed();
                    }
                    Prepared::Flow(key, mut flow) => inflight.push(async move {
                        let (outcome, exchanges, sent) =
                            runner::drive(flow.as_mut(), client, keep, throttle).await;
                        (key, outcome, exchanges, sent)
                    }),
                }
            }
            // What finished so far goes to the store's writer while the next requests are sent
            // (write-behind; outcomes that finish while it writes share its next commit). A
            // crash loses at most the last outcomes, which the next cycle matches again.
            if !self.env.dry_run {
                self.env.store.commit_behind()?;
            }
            let Some(first) = inflight.next().await else {
                break;
            };
            let mut done = vec![first];
            while let Some(Some(more)) = inflight.next().now_or_never() {
                done.push(more);
            }
            for (key, outcome, exchanges, sent) in done {
                self.requests += sent as u64;
                for (request, reply) in &exchanges {
                    self.sink.exchange(request, reply);
                }
                self.record(&key, outcome)?;
                self.sink.processed();
            }
        }
        if !self.env.dry_run {
            self.env.store.commit()?;
        }
        Ok(())
    }
}

/// The target id of an object's connection, with its hash ([`Cycle::target_of`]): for an unread
/// user, the one the source index kept; otherwise the cycle's.
fn target_in<'c>(
    directory: &'c Directory,
    anchors: &'c Anchors,
    key: &ObjectKey,
) -> Option<Keyed<'c>> {
    if key.kind == ObjectKind::User
        && let Some(ghost) = directory.ghost_target(&key.object_id)
    {
        return ghost;
    }
    anchors.get(key).map(|a| Keyed::new(&a.target_id))
}

/// One unit of a phase.
#[derive(Clone, Copy)]
enum Item<'w> {
    /// Reconcile, disable, delete, skip or forget an object.
    Work(&'w Work),
    /// Export the references of a reconciled object.
    Reference(&'w ObjectKey),
    /// Log a delete or disable held back by the accidental-deletion guard.
    Staged(&'w Work),
}

/// What [`Cycle::prepare`] decided.
enum Prepared {
    Nothing,
    Done(ObjectKey, Box<EntryOutcome>),
    Flow(ObjectKey, Box<dyn Flow + Send>),
}

/// Runs one cycle.
pub async fn run_cycle(
    env: &CycleEnv<'_>,
    rng: &mut dyn RngCore,
    sink: &mut dyn EntrySink,
) -> Result<CycleReport, AppError> {
    let store = env.store;
    let policy = &env.job.settings.policy;
    let began = env.clock.now();
    let state = store.job_state()?;
    match state.code {
        JobCode::Disabled => {
            return Err(AppError::JobDisabled);
        }
        JobCode::Paused => {
            return Err(AppError::JobPaused);
        }
        _ => {}
    }
    if !env.dry_run {
        if let Some(digest) = &env.job.source_digest
            && let Some(report) = unchanged_cycle(
                store,
                digest,
                env.job.settings.log_retention_days,
                env.clock,
                rng,
            )?
        {
            return Ok(report);
        }
        // Until this cycle ends clean, the next one reads the whole source again.
        store.forget_source_digest()?;
        prune_logs(store, env.job.settings.log_retention_days, began)?;
    }
    let previous = store.mapping_fingerprint()?;
    let kind = if previous.as_deref() == Some(env.compiled.fingerprint.as_str()) {
        CycleKind::Incremental
    } else {
        CycleKind::Initial
    };
    let assignments = env.job.assignment_index();
    let sources = Sources {
        directory: &env.job.directory,
        assignments,
        scope: env.job.scope,
    };
    // Objects are only glanced at here (identity, scope, fingerprint); the ones with work get
    // their log steps and mapped state as their flows start, so an incremental cycle over a large
    // tenant costs what its changes cost and an initial one holds them only while in flight.
    let objects = desired::source_objects(env.compiled, &sources);
    crate::stage!("source objects glanced at");
    let directory = &env.job.directory;
    // A directory read by line-level deltas holds only what changed since the last clean cycle:
    // the other objects' watermarks still match, so only the read objects' state is read, and
    // what the source no longer has comes from the index instead of from every connection. A
    // read object's manager or members are read objects (their state read here) or unread users
    // (not processed since the index was written: `Cycle::target_of` takes theirs from it).
    let (anchors, watermarks) = if directory.is_partial() {
        if kind == CycleKind::Initial {
            return Err(AppError::PartialInitialCycle);
        }
        let gone: Vec<ObjectKey> = directory.gone().iter().map(object_key).collect();
        let keys = || objects.iter().map(|o| &o.key).chain(&gone);
        let anchors: Anchors = store.anchors_of(keys())?.into_iter().collect();
        let watermarks: BTreeMap<ObjectKey, String> =
            store.watermarks_of(keys())?.into_iter().collect();
        (anchors, watermarks)
    } else {
        let anchors: Anchors = store.anchors()?.into_iter().collect();
        let watermarks: BTreeMap<ObjectKey, String> = store.watermarks()?.into_iter().collect();
        (anchors, watermarks)
    };
    crate::stage!("anchors and watermarks read");
    let escrows = store.escrows()?;
    let rules = CycleRules {
        skip_out_of_scope_deletions: env.job.settings.skip_out_of_scope_deletions,
        delete_users: env.compiled.users.actions.delete,
        delete_groups: env
            .compiled
            .groups
            .as_ref()
            .is_some_and(|g| g.actions.delete),
    };
    let mut plan = classify_objects(&CycleInputs {
        kind,
        objects: &objects,
        anchors: &anchors,
        watermarks: &watermarks,
        rules,
    });
    // Escrowed objects wait for their retry time (§9).
    for works in [&mut plan.users, &mut plan.groups, &mut plan.deprovision] {
        works.retain(|w| escrows.may_process(&work_key(w).to_string(), began));
    }
    // The accidental-deletion guard (§4.4) holds back every delete and disable above the threshold.
    let pending = PendingDeletes {
        user_deletes: count(
            &plan.deprovision,
            |w| matches!(w, Work::Delete(k, _) if k.kind == ObjectKind::User),
        ),
        user_disables: count(&plan.deprovision, |w| matches!(w, Work::Disable(..))),
        group_deletes: count(
            &plan.deprovision,
            |w| matches!(w, Work::Delete(k, _) if k.kind == ObjectKind::Group),
        ),
    };
    let staged = match deletion_guard(
        env.job.settings.deletion_threshold,
        &pending,
        state.force_deletes,
    ) {
        DeletionDecision::Allow => Vec::new(),
        DeletionDecision::Stage { .. } => {
            let (staged, kept): (Vec<Work>, Vec<Work>) = plan
                .deprovision
                .drain(..)
                .partition(|w| matches!(w, Work::Disable(..) | Work::Delete(..)));
            plan.deprovision = kept;
            staged
        }
    };
    let by_key: HashMap<ObjectKey, &SourceObject> =
        objects.iter().map(|o| (o.key.clone(), o)).collect();
    let cycle_id = guid(rng);
    let entries = entry_context(env.job, env.mode, &cycle_id, String::new(), began);
    let mut cycle = Cycle {
        env,
        sources: &sources,
        began,
        rng,
        sink,
        entries,
        anchors,
        counts: Counts::default(),
        failed: BTreeSet::new(),
        job_failure: None,
        escrows,
        successes: 0,
        requests: 0,
        reference_entries: 0,
        expired: BTreeSet::new(),
    };

    let reconciled: Vec<ObjectKey> = plan
        .users
        .iter()
        .chain(plan.groups.iter())
        .filter_map(|w| match w {
            Work::Reconcile(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    cycle
        .phase("users", plan.users.iter().map(Item::Work), &by_key)
        .await?;
    crate::stage!("phase users done");
    cycle
        .phase("groups", plan.groups.iter().map(Item::Work), &by_key)
        .await?;
    crate::stage!("phase groups done");
    cycle
        .phase(
            "references",
            reconciled.iter().map(Item::Reference),
            &by_key,
        )
        .await?;
    crate::stage!("phase references done");
    cycle
        .phase(
            "deprovisioning",
            plan.deprovision.iter().map(Item::Work),
            &by_key,
        )
        .await?;
    cycle
        .phase("staged", staged.iter().map(Item::Staged), &by_key)
        .await?;

    crate::stage!("phases deprovisioning and staged done");
    let now = env.clock.now();
    if env.dry_run {
        return Ok(CycleReport {
            cycle_id,
            kind,
            time_began: stamp(began),
            time_ended: stamp(now),
            counts: cycle.counts,
            job_failure: cycle.job_failure.map(|f| f.reason),
            job_status: status_name(state.code),
            quarantine: None,
            staged_deletes: staged.len(),
            escrowed: cycle.escrows.len(),
            next_escrow_due: next_due(&cycle.escrows),
            requests: cycle.requests,
            source_unchanged: false,
        });
    }
    // Advance watermarks of every object whose entries all succeeded; a failed, staged or
    // escrowed object loses its watermark so that a later cycle retries it even when it does not
    // change again; an object whose escrow expired is given up on until it changes.
    if cycle.job_failure.is_none() {
        let staged_keys: BTreeSet<&ObjectKey> = staged.iter().map(work_key).collect();
        // In key order: sled takes a run of neighbouring keys far faster than scattered ones.
        let mut keys: Vec<&ObjectKey> = plan
            .users
            .iter()
            .chain(plan.groups.iter())
            .chain(plan.deprovision.iter())
            .chain(staged.iter())
            .map(work_key)
            .collect();
        keys.sort();
        for key in keys {
            if (cycle.failed.contains(key) && !cycle.expired.contains(key))
                || staged_keys.contains(key)
            {
                store.remove_watermark(key)?;
                continue;
            }
            match by_key.get(key) {
                Some(obj) => store.set_watermark(key, &obj.fingerprint)?,
                None => store.remove_watermark(key)?,
            }
        }
        store.set_mapping_fingerprint(&env.compiled.fingerprint)?;
    }
    // Escrow thresholds during an initial cycle prune escrows instead of quarantining (§8).
    let (failures, reference_failures) = cycle.escrows.threshold_counts();
    let c = &cycle.counts;
    let counts = CycleCounts {
        successes: cycle.successes,
        failures,
        reference_failures,
        imports: ImportCounts {
            count_entitled: objects
                .iter()
                .filter(|o| {
                    o.out_of_scope_reason
                        != Some(crate::provlog::SkipReason::NotEffectivelyEntitled)
                })
                .count() as u64,
            count_entitled_for_provisioning: objects.iter().filter(|o| o.in_scope).count() as u64,
            count_exports: (c.created + c.updated + c.disabled + c.deleted + c.failed) as u64,
            count_imported: objects.len() as u64,
            count_imported_deltas: (plan.users.len()
                + plan.groups.len()
                + plan.deprovision.len()
                + staged.len()) as u64,
            count_imported_reference_deltas: cycle.reference_entries,
        },
    };
    let mut escrows_pruned = false;
    if kind == CycleKind::Initial
        && cycle.job_failure.is_none()
        && escrow_threshold(&counts, &policy.thresholds).is_some()
    {
        cycle.escrows.clear();
        store.clear_escrows()?;
        escrows_pruned = true;
    }
    for expired in cycle.escrows.prune_expired(&policy.escrow, now) {
        store.remove_escrow(&expired.object)?;
    }
    let result = CycleResult {
        cycle_id: cycle_id.clone(),
        began,
        is_initial: kind == CycleKind::Initial,
        job_failure: cycle
            .job_failure
            .as_ref()
            .map(|f| PolicyJobFailure::quarantine_exception(&f.code, &f.reason)),
        counts,
        staged_deletes: u32::try_from(staged.len()).unwrap_or(u32::MAX),
        escrows_pruned,
    };
    let (next_state, _decision) =
        after_cycle(&state, &result, &policy.thresholds, &policy.schedule, now);
    store.set_job_state(&next_state)?;
    let report = CycleReport {
        cycle_id,
        kind,
        time_began: stamp(began),
        time_ended: stamp(now),
        counts: cycle.counts,
        job_failure: cycle.job_failure.map(|f| f.reason),
        job_status: status_name(next_state.code),
        quarantine: next_state
            .quarantine
            .as_ref()
            .map(|q| q.reason.as_str().to_string()),
        staged_deletes: staged.len(),
        escrowed: cycle.escrows.len(),
        next_escrow_due: next_due(&cycle.escrows),
        requests: cycle.requests,
        source_unchanged: false,
    };
    store.set_last_cycle(&report)?;
    let clean = report.job_failure.is_none()
        && report.counts.failed == 0
        && report.staged_deletes == 0
        && report.escrowed == 0
        && next_state.code == JobCode::Active;
    if clean && let Some(digest) = &env.job.source_digest {
        store.set_source_digest(digest)?;
    }
    // The index for the next cycle's line-level deltas (the connections still held for objects
    // the source no longer has are its orphans) is written while the writer makes the cycle's
    // state durable, and put in place only once everything it vouches for is.
    let index = store.commit_while(|| {
        if !(clean && env.job.settings.line_deltas && directory.has_lines()) {
            return Ok(None);
        }
        let mut orphans: Vec<MemberRef> = cycle
            .anchors
            .keys()
            .map(member_ref)
            .filter(|r| !directory.contains(r))
            .collect();
        orphans.sort();
        let digest = |id: &str| assignment_digest(assignments.user_parts(id, env.job.scope));
        let anchors = &cycle.anchors;
        let target = |id: &str| {
            anchors
                .get(&ObjectKey::user(id))
                .map(|a| a.target_id.as_str())
        };
        store
            .write_source_index(|out| {
                directory.write_source_index(
                    &env.compiled.fingerprint,
                    digest,
                    target,
                    &orphans,
                    out,
                )
            })
            .map(Some)
    })??;
    crate::stage!("state durable");
    if let Some(index) = index {
        store.keep_source_index(index)?;
        crate::stage!("source index written");
    }
    Ok(report)
}

/// The cycle over a source that has not changed by a byte since the last clean cycle, when the
/// job is healthy and nothing waits in escrow: every object's watermark already matches, so a
/// full cycle would send nothing and log nothing. This records that cycle — the job's execution
/// and steady state as a full one would — without reading the tenant (Entra's incremental
/// cycle when the delta query returns no change). `None` when a full cycle is needed.
pub fn unchanged_cycle(
    store: &Store,
    digest: &str,
    log_retention_days: u32,
    clock: &dyn Clock,
    rng: &mut dyn RngCore,
) -> Result<Option<CycleReport>, AppError> {
    if store.source_digest()?.as_deref() != Some(digest) {
        return Ok(None);
    }
    let state = store.job_state()?;
    if state.code != JobCode::Active
        || state.quarantine.is_some()
        || state.force_deletes
        || !store.escrows()?.is_empty()
    {
        return Ok(None);
    }
    let began = clock.now();
    prune_logs(store, log_retention_days, began)?;
    let cycle_id = guid(rng);
    let result = CycleResult {
        cycle_id: cycle_id.clone(),
        began,
        is_initial: false,
        job_failure: None,
        counts: CycleCounts::default(),
        staged_deletes: 0,
        escrows_pruned: false,
    };
    // Nothing counted and no quarantine: the thresholds and the back-off schedule play no part.
    let policy = crate::policy::PolicySettings::default();
    let now = clock.now();
    let (next_state, _) = after_cycle(&state, &result, &policy.thresholds, &policy.schedule, now);
    store.set_job_state(&next_state)?;
    let report = CycleReport {
        cycle_id,
        kind: CycleKind::Incremental,
        time_began: stamp(began),
        time_ended: stamp(now),
        counts: Counts::default(),
        job_failure: None,
        job_status: status_name(next_state.code),
        quarantine: None,
        staged_deletes: 0,
        escrowed: 0,
        next_escrow_due: None,
        requests: 0,
        source_unchanged: true,
    };
    store.set_last_cycle(&report)?;
    store.commit()?;
    Ok(Some(report))
}

/// Entra keeps provisioning logs for a retention period (spec §11.1): every cycle, whether it
/// reads the tenant or not, drops the records past it (the check reads one line; a rewrite
/// happens about daily).
fn prune_logs(
    store: &Store,
    retention_days: u32,
    began: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let retention = chrono::Duration::days(i64::from(retention_days));
    store.prune_logs(began - retention, chrono::Duration::days(1))?;
    Ok(())
}

/// When the first escrowed object is due to be retried.
fn next_due(escrows: &Escrows) -> Option<String> {
    escrows.iter().map(|e| e.next_retry).min().map(stamp)
}

/// A report's time as Graph writes times (`cycle --json` prints the report).
fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::provlog::graph_time(t)
}

/// The object a piece of work is about.
fn object_key(object: &MemberRef) -> ObjectKey {
    match object.kind {
        MemberKind::User => ObjectKey::user(&object.object_id),
        MemberKind::Group => ObjectKey::group(&object.object_id),
    }
}

fn member_ref(key: &ObjectKey) -> MemberRef {
    MemberRef {
        object_id: key.object_id.clone(),
        kind: match key.kind {
            ObjectKind::User => MemberKind::User,
            ObjectKind::Group => MemberKind::Group,
        },
    }
}

fn work_key(work: &Work) -> &ObjectKey {
    match work {
        Work::Reconcile(k)
        | Work::Disable(k, _)
        | Work::Delete(k, _)
        | Work::Skip(k, _)
        | Work::Forget(k) => k,
    }
}

fn count(works: &[Work], wanted: impl Fn(&Work) -> bool) -> u32 {
    u32::try_from(works.iter().filter(|w| wanted(w)).count()).unwrap_or(u32::MAX)
}

/// `Active`, `Quarantine`, … as Graph spells `status.code`.
pub fn status_name(code: JobCode) -> String {
    code.as_str().to_owned()
}
