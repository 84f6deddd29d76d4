//! Driving a cycle's phases: each object's flow is prepared ([`super::prepare`]) and driven
//! over the client with bounded concurrency, and each outcome is recorded as it arrives —
//! escrow bookkeeping (§9), persisted, counted, shown to the sink.

use std::collections::{BTreeSet, HashMap};

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use rand::RngCore;

use super::classify::Worklist;
use super::prepare::{Item, Prepared};
use super::report::Tally;
use super::{CycleEnv, CycleError, EntrySink, apply_changes, entry_context, guid};
use crate::expr::EvalContext;
use crate::plan::desired::{self, Details, Sources};
use crate::plan::{Anchors, EntryContext, EntryOutcome, JobFailure, ObjectKey, SourceObject, Work};
use crate::policy::{EscrowFailure, EscrowOperation, EscrowRecord, Escrows};
use crate::provlog::{ProvisioningAction, Status, StepType};
use crate::runner;

/// One cycle in progress: what its phases share and what they have done so far.
pub(super) struct Cycle<'a, 'b> {
    pub env: &'b CycleEnv<'a>,
    sources: &'b Sources<'b>,
    /// When the cycle began: the `Now()` of every expression it evaluates.
    began: chrono::DateTime<chrono::Utc>,
    rng: &'b mut dyn RngCore,
    sink: &'b mut dyn EntrySink,
    /// The cycle's id ("Activity ID").
    pub cycle_id: String,
    /// What every entry shares; each gets its own change id and time.
    entries: EntryContext,
    /// Connections, as the cycle's entries change them.
    pub anchors: Anchors,
    pub counts: crate::engine::Counts,
    /// Objects with a failed entry.
    pub failed: BTreeSet<ObjectKey>,
    pub job_failure: Option<JobFailure>,
    pub escrows: Escrows,
    pub successes: u64,
    requests: u64,
    /// Manager and member entries (`countImportedReferenceDeltas`).
    pub reference_entries: u64,
    /// Objects whose escrow expired this cycle: Entra gives up until they change again.
    pub expired: BTreeSet<ObjectKey>,
}

impl<'a, 'b> Cycle<'a, 'b> {
    /// A cycle that begins at `began` with the connections `anchors` and the escrows `escrows`.
    pub fn new(
        env: &'b CycleEnv<'a>,
        sources: &'b Sources<'b>,
        began: chrono::DateTime<chrono::Utc>,
        rng: &'b mut dyn RngCore,
        sink: &'b mut dyn EntrySink,
        anchors: Anchors,
        escrows: Escrows,
    ) -> Self {
        let cycle_id = guid(rng);
        let entries = entry_context(env.job, env.mode, &cycle_id, String::new(), began);
        Cycle {
            env,
            sources,
            began,
            rng,
            sink,
            cycle_id,
            entries,
            anchors,
            counts: crate::engine::Counts::default(),
            failed: BTreeSet::new(),
            job_failure: None,
            escrows,
            successes: 0,
            requests: 0,
            reference_entries: 0,
            expired: BTreeSet::new(),
        }
    }

    /// The phases in Entra's order: users, groups, the references of what was reconciled,
    /// deprovisioning, and the log entries of what the deletion guard held back.
    pub async fn drive(
        &mut self,
        work: &Worklist,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Result<(), CycleError> {
        let plan = &work.plan;
        let reconciled: Vec<ObjectKey> = plan
            .users
            .iter()
            .chain(plan.groups.iter())
            .filter_map(|w| match w {
                Work::Reconcile(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        self.phase("users", plan.users.iter().map(Item::Work), objects)
            .await?;
        crate::stage!("phase users done");
        self.phase("groups", plan.groups.iter().map(Item::Work), objects)
            .await?;
        crate::stage!("phase groups done");
        let references = reconciled.iter().map(Item::Reference);
        self.phase("references", references, objects).await?;
        crate::stage!("phase references done");
        let deprovision = plan.deprovision.iter().map(Item::Work);
        self.phase("deprovisioning", deprovision, objects).await?;
        self.phase("staged", work.staged.iter().map(Item::Staged), objects)
            .await?;
        crate::stage!("phases deprovisioning and staged done");
        Ok(())
    }

    /// What the cycle did so far, for its report.
    pub fn tally(&self, staged_deletes: usize) -> Tally {
        let (escrowed, next_escrow_due) = Tally::escrows(&self.escrows);
        Tally {
            counts: self.counts,
            job_failure: self.job_failure.as_ref().map(|f| f.reason.clone()),
            staged_deletes,
            escrowed,
            next_escrow_due,
            requests: self.requests,
        }
    }

    /// An object's log steps and mapped state, computed as its flow starts.
    pub fn details(&mut self, object: &SourceObject) -> Details {
        let mut ctx = EvalContext {
            now: self.began,
            rng: &mut *self.rng,
        };
        desired::details(object, self.env.compiled, self.sources, &mut ctx)
    }

    /// An object's name and log steps (the key's id when the source no longer has it).
    pub fn named(
        &mut self,
        key: &ObjectKey,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> (String, Vec<crate::provlog::Step>) {
        match objects.get(key) {
            Some(object) => (object.name.clone(), self.details(object).steps),
            None => (key.object_id.clone(), Vec::new()),
        }
    }

    /// A new entry's context: its own change id and time.
    pub fn context(&mut self) -> EntryContext {
        EntryContext {
            change_id: guid(self.rng),
            now: self.env.clock.now(),
            ..self.entries.clone()
        }
    }

    /// Records an outcome: escrow bookkeeping (§9), then persists it, updates the in-memory anchors
    /// and counts.
    fn record(&mut self, key: &ObjectKey, mut outcome: EntryOutcome) -> Result<(), CycleError> {
        if !self.env.dry_run {
            self.escrow(key, &mut outcome)?;
            runner::persist(self.env.store, &outcome)?;
        }
        apply_changes(&mut self.anchors, &mut outcome);
        if let Some(log) = &outcome.log {
            self.counts.add(log);
            if log.provisioning_status_info.status == Status::Success {
                self.successes += 1;
            }
            if is_reference(log) {
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
    fn escrow(&mut self, key: &ObjectKey, outcome: &mut EntryOutcome) -> Result<(), CycleError> {
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
        let reference = is_reference(log);
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

    /// Drives every item of a phase with at most `settings.concurrency` objects in flight; one
    /// object's requests stay in order, and each outcome is persisted as soon as it arrives.
    async fn phase(
        &mut self,
        name: &'static str,
        items: impl ExactSizeIterator<Item = Item<'_>>,
        objects: &HashMap<ObjectKey, &SourceObject>,
    ) -> Result<(), CycleError> {
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

/// Whether an entry is a manager or member export (its first step resolves references).
fn is_reference(log: &crate::provlog::LogEntry) -> bool {
    log.provisioning_steps
        .first()
        .is_some_and(|s| s.provisioning_step_type == StepType::ReferenceResolution)
}
