//! `entra-sim plan`: a dry run of the next cycle. It sends the reads a real cycle needs (matching
//! queries, reads by id) and prints every write it would send — method, path, body — grouped per
//! object with the reason. Nothing is written to the target or the state; the next `cycle` sends
//! exactly these writes, because both drive the same planner.

use rand::SeedableRng;
use serde::Serialize;

use crate::cli::PlanArgs;
use crate::clock::SystemClock;
use crate::engine::{self, CycleEnv, EntrySink};
use crate::error::AppError;
use crate::output::outln;
use crate::plan::{Method, Reply, Request};
use crate::provlog::{LogEntry, ProvisioningAction, Status, StepName, StepType};
use crate::runner::{Observer, Offline, Planning, Transport};

/// One object's planned change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChange {
    /// `User` or `Group`.
    pub object_type: String,
    /// The objectId.
    pub object_id: String,
    /// UPN or displayName.
    pub name: String,
    /// create, update, disable, delete.
    pub action: ProvisioningAction,
    /// Why Entra would send it.
    pub reason: String,
    /// The writes, in order.
    pub requests: Vec<Request>,
}

/// Collects each entry's writes.
#[derive(Default)]
pub struct Planner {
    pending: Vec<Request>,
    /// The planned changes, in cycle order.
    pub changes: Vec<PlannedChange>,
    /// Entries that need no write.
    pub unchanged: usize,
    /// Entries that would fail already in planning (e.g. a read failed).
    pub failures: Vec<LogEntry>,
}

impl Observer for Planner {
    fn exchange(&mut self, request: &Request, _reply: &Reply) {
        if request.method != Method::Get {
            self.pending.push(request.clone());
        }
    }
}

impl EntrySink for Planner {
    fn entry(&mut self, log: &LogEntry) {
        let requests = std::mem::take(&mut self.pending);
        if log.provisioning_status_info.status == Status::Failure {
            self.failures.push(log.clone());
            return;
        }
        if requests.is_empty() {
            self.unchanged += 1;
            return;
        }
        self.changes.push(PlannedChange {
            object_type: log.source_identity.identity_type.clone(),
            object_id: log.source_identity.id.clone(),
            name: log.source_identity.display_name.clone(),
            action: log.provisioning_action,
            reason: reason(log),
            requests,
        });
    }

    fn wants_exchanges(&self) -> bool {
        true
    }
}

/// Why an entry sends what it sends, from its steps and modified properties.
fn reason(log: &LogEntry) -> String {
    let properties: Vec<&str> = log
        .modified_properties
        .iter()
        .map(|p| p.display_name.as_str())
        .collect();
    let reference = log
        .provisioning_steps
        .iter()
        .any(|s| s.provisioning_step_type == StepType::ReferenceResolution);
    let soft_delete = log
        .provisioning_steps
        .iter()
        .any(|s| s.name == StepName::EntryExportUpdateSoftDelete);
    match log.provisioning_action {
        ProvisioningAction::Create => "new in scope, no match in the target".into(),
        ProvisioningAction::Delete if log.source_identity.identity_type == "Group" => {
            "deleted in the source or left scope".into()
        }
        ProvisioningAction::Delete => "hard-deleted in the source".into(),
        ProvisioningAction::Disable if soft_delete => {
            "left scope (unassigned or failing a scoping filter)".into()
        }
        ProvisioningAction::Disable => "disabled or soft-deleted in the source".into(),
        _ if reference => format!("reference changed: {}", properties.join(", ")),
        _ => format!("attributes changed: {}", properties.join(", ")),
    }
}

/// Plans the next cycle of `loaded` in `mode`: the engine driven over [`Planning`], nothing
/// persisted. `plan` and `compare-modes` both use it.
pub async fn dry_run(
    loaded: &super::Loaded,
    store: &crate::store::Store,
    mode: crate::scim::ScimMode,
) -> Result<(engine::CycleReport, Planner), AppError> {
    let token = loaded.token()?;
    let transport = Planning::new(loaded.client(&loaded.base_url, &token)?);
    run_planner(loaded, store, mode, &transport).await
}

/// [`dry_run`] without the network: reads are answered from the last known target state.
pub async fn offline_run(
    loaded: &super::Loaded,
    store: &crate::store::Store,
) -> Result<(engine::CycleReport, Planner), AppError> {
    let anchors: std::collections::HashMap<_, _> = store.anchors()?.into_iter().collect();
    let known = store
        .known()?
        .into_iter()
        .filter_map(|(key, resource)| anchors.get(&key).map(|a| (a.target_id.clone(), resource)))
        .collect();
    // Offline planning sends no request, so it needs no token (nor an entra_jwt key).
    run_planner(loaded, store, loaded.mode, &Offline::new(known)).await
}

async fn run_planner(
    loaded: &super::Loaded,
    store: &crate::store::Store,
    mode: crate::scim::ScimMode,
    client: &dyn Transport,
) -> Result<(engine::CycleReport, Planner), AppError> {
    let clock = SystemClock;
    let env = CycleEnv {
        job: &loaded.job,
        compiled: &loaded.compiled,
        store,
        client,
        mode,
        clock: &clock,
        dry_run: true,
    };
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut planner = Planner::default();
    let report = engine::run_cycle(&env, &mut rng, &mut planner).await?;
    Ok((report, planner))
}

pub async fn run(args: PlanArgs) -> Result<i32, AppError> {
    let loaded = super::load(&args.job)?;
    let store = loaded.store()?;
    let (report, planner) = if args.offline {
        offline_run(&loaded, &store).await?
    } else {
        dry_run(&loaded, &store, loaded.mode).await?
    };
    if args.json {
        let out = serde_json::json!({
            "cycleKind": report.kind,
            "changes": planner.changes,
            "unchanged": planner.unchanged,
            "failures": planner.failures,
        });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        for change in &planner.changes {
            outln!(
                "{} {} '{}': {:?} — {}",
                change.object_type,
                change.object_id,
                change.name,
                change.action,
                change.reason
            )?;
            for request in &change.requests {
                outln!("  {} {}", request.method.as_str(), request.path)?;
                if let Some(body) = &request.body {
                    let pretty = serde_json::to_string_pretty(body)?;
                    for line in pretty.lines() {
                        outln!("    {line}")?;
                    }
                }
            }
        }
        for failure in &planner.failures {
            outln!("{}", crate::output::entry_line(failure))?;
        }
        let writes: usize = planner.changes.iter().map(|c| c.requests.len()).sum();
        let kind = match report.kind {
            crate::plan::CycleKind::Initial => "initial",
            crate::plan::CycleKind::Incremental => "incremental",
        };
        outln!(
            "plan for the next ({kind}) cycle: {} object(s) to change with {writes} write(s), {} unchanged, {} failing",
            planner.changes.len(),
            planner.unchanged,
            planner.failures.len()
        )?;
    }
    if let Some(reason) = report.job_failure {
        return Err(AppError::PlanningStopped(reason));
    }
    Ok(if planner.failures.is_empty() { 0 } else { 1 })
}
