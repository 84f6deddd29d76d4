//! `entra-sim provision-on-demand` (spec §10): one user, or one group with up to 5 of its members,
//! provisioned now through the same flows a cycle uses, printed as Entra's steps (test connection
//! only when it fails, import, scope, match, action). On-demand provisioning always uses the default
//! wire shapes: Entra does not honour `aadOptscim062020` here.

mod graph;

use rand::SeedableRng;

use crate::cli::OnDemandArgs;
use crate::clock::{Clock, SystemClock};
use crate::directory::{MemberKind, User};
use crate::engine::{apply_changes, entry_context, guid};
use crate::error::AppError;
use crate::expr::EvalContext;
use crate::hash::Keyed;
use crate::http::ScimClient;
use crate::plan::desired::{self, Sources};
use crate::plan::wire;
use crate::plan::{
    Anchors, DisableFlow, EntryContext, EntryOutcome, Flow, GroupFlow, ManagerFlow, MembersFlow,
    ObjectKey, SkipFlow, SourceObject, UserFlow, evaluation_failure,
};
use crate::provlog::SkipReason;
use crate::runner;
use crate::scim::{self, OpKind, Outcome, ScimMode};
use crate::store::Store;

use super::Loaded;

struct Session<'a> {
    loaded: &'a Loaded,
    client: &'a ScimClient,
    store: &'a Store,
    rng: rand::rngs::StdRng,
    cycle_id: String,
    anchors: Anchors,
    shown: Vec<graph::Shown>,
}

impl Session<'_> {
    fn context(&mut self) -> EntryContext {
        // On demand, Entra does not honour aadOptscim062020: always the default shapes.
        let change_id = guid(&mut self.rng);
        entry_context(
            &self.loaded.job,
            ScimMode::Default,
            &self.cycle_id,
            change_id,
            SystemClock.now(),
        )
    }

    async fn run(
        &mut self,
        object: &SourceObject,
        flow: &mut (dyn Flow + Send),
    ) -> Result<bool, AppError> {
        let started = SystemClock.now();
        let (outcome, exchanges, _) = runner::drive(flow, self.client, true, None).await;
        // What the target holds, from the last read that found the object (the matching
        // query or the read by id): the matching step shows it.
        let target = exchanges
            .into_iter()
            .rev()
            .filter(|(request, _)| request.method == crate::plan::Method::Get)
            .find_map(|(request, reply)| {
                if request.path.contains("filter=") {
                    match wire::interpret_query(reply) {
                        Ok(wire::Found::One(_, r)) => Some(r),
                        _ => None,
                    }
                } else {
                    match wire::interpret(OpKind::GetById, reply) {
                        wire::Answer::Resource(_, r) => Some(r),
                        _ => None,
                    }
                }
            });
        self.record(object, outcome, target, started)
    }

    fn record(
        &mut self,
        object: &SourceObject,
        mut outcome: EntryOutcome,
        target: Option<serde_json::Value>,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, AppError> {
        runner::persist(self.store, &outcome)?;
        self.store.commit()?;
        apply_changes(&mut self.anchors, &mut outcome);
        if !outcome.failed {
            self.store.set_watermark(&object.key, &object.fingerprint)?;
            self.store.commit()?;
        }
        let scope = graph::Scope {
            active: object.spec.active,
            assigned: object.out_of_scope_reason != Some(SkipReason::NotEffectivelyEntitled),
            in_scope: object.in_scope,
        };
        self.shown.extend(outcome.log.map(|log| graph::Shown {
            log,
            kind: object.key.kind,
            target,
            scope,
            started,
            ended: SystemClock.now(),
        }));
        Ok(!outcome.failed)
    }

    /// Reconciles, disables or skips one object, as a cycle would.
    async fn provision(&mut self, object: &SourceObject) -> Result<bool, AppError> {
        let ctx = self.context();
        let anchor = self.anchors.get(&object.key).cloned();
        if let Some(error) = &object.error {
            let outcome = evaluation_failure(
                &ctx,
                &object.key,
                &object.name,
                object.steps.clone(),
                error.clone(),
            );
            return self.record(object, outcome, None, SystemClock.now());
        }
        match (object.in_scope, anchor) {
            (true, anchor) => {
                let mut flow: GroupFlow = UserFlow::new(
                    ctx,
                    object.key.clone(),
                    &object.name,
                    object.spec.clone(),
                    anchor,
                    object.steps.clone(),
                );
                self.run(object, &mut flow).await
            }
            (false, Some(anchor)) => {
                let mut flow = DisableFlow::new(
                    ctx,
                    object.key.clone(),
                    &object.name,
                    anchor,
                    object.steps.clone(),
                );
                self.run(object, &mut flow).await
            }
            (false, None) => {
                let reason = object
                    .out_of_scope_reason
                    .unwrap_or(SkipReason::NotEffectivelyEntitled);
                let text = format!(
                    "{} '{}' is not in scope for provisioning ({reason}).",
                    object.key.kind.as_str(),
                    object.name
                );
                let mut flow = SkipFlow::new(
                    ctx,
                    &object.key,
                    &object.name,
                    object.steps.clone(),
                    reason,
                    text,
                    Vec::new(),
                );
                self.run(object, &mut flow).await
            }
        }
    }

    async fn manager(&mut self, object: &SourceObject, manager_name: &str) -> Result<(), AppError> {
        let (Some(manager), Some(anchor)) =
            (&object.manager, self.anchors.get(&object.key).cloned())
        else {
            return Ok(());
        };
        let Some(manager_anchor) = self.anchors.get(&ObjectKey::user(manager)) else {
            return Ok(());
        };
        if anchor.manager.as_deref() == Some(manager_anchor.target_id.as_str()) {
            return Ok(());
        }
        let manager_id = manager_anchor.target_id.clone();
        let ctx = self.context();
        let mut flow = ManagerFlow::new(
            ctx,
            object.key.clone(),
            &object.name,
            anchor,
            manager_id,
            manager_name,
        );
        self.run(object, &mut flow).await.map(|_| ())
    }
}

/// Step 1: shown only when it fails.
async fn test_connection(loaded: &Loaded, client: &ScimClient) -> Result<(), AppError> {
    let Some(path) = loaded
        .compiled
        .users
        .attributes
        .iter()
        .filter(|a| a.matching.is_some())
        .min_by_key(|a| a.matching)
        .map(|a| a.target.clone())
    else {
        return Ok(());
    };
    let id = guid(&mut rand::rngs::StdRng::from_os_rng());
    let request = crate::plan::Request {
        method: crate::plan::Method::Get,
        path: scim::match_query(scim::ResourceKind::User, &path, &id),
        body: None,
    };
    let outcome = wire::outcome(OpKind::TestConnection, client.send(&request).await);
    match outcome {
        Outcome::Failure(f) => Err(AppError::Job(format!(
            "Step 1: Test connection — failed\n  {}: {}",
            f.code.as_str(),
            f.reason
        ))),
        _ => Ok(()),
    }
}

pub async fn run(args: OnDemandArgs) -> Result<i32, AppError> {
    if args.members.len() > 5 {
        return Err(AppError::Input(format!(
            "--member: at most 5 members can be provisioned on demand with a group ({} given)",
            args.members.len()
        )));
    }
    let loaded = super::load(&args.job)?;
    if loaded.mode != ScimMode::Default && !args.json {
        println!(
            "note: provisioning on demand does not honour aadOptscim062020; default wire shapes are used"
        );
    }
    let token = loaded.token()?;
    let client = loaded.client(&loaded.base_url, &token)?;
    let store = loaded.store()?;
    test_connection(&loaded, &client).await?;
    // The next cycle looks at every object again rather than trusting the last clean one.
    store.forget_source_digest()?;
    let directory = &loaded.job.directory;
    let assignments = loaded.job.assignment_index();
    let sources = Sources {
        directory,
        assignments,
        scope: loaded.job.scope,
    };
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let cycle_id = guid(&mut rng);
    let anchors = store.anchors()?.into_iter().collect();
    let mut session = Session {
        loaded: &loaded,
        client: &client,
        store: &store,
        rng: rand::rngs::StdRng::from_os_rng(),
        cycle_id,
        anchors,
        shown: Vec::new(),
    };
    let mut ctx = EvalContext {
        now: SystemClock.now(),
        rng: &mut rng,
    };
    let find_user = |who: &str| -> Result<&User, AppError> {
        directory
            .user(who)
            .or_else(|| directory.user_by_upn(who))
            .ok_or_else(|| {
                AppError::Input(format!(
                    "no user {who:?} in {}",
                    loaded.job.directory_path.display()
                ))
            })
    };
    let mut ok = true;
    if let Some(who) = &args.user {
        let user = find_user(who)?;
        let object = desired::user_object(user, &loaded.compiled, &sources, &mut ctx);
        ok &= session.provision(&object).await?;
        let manager_name = user
            .manager
            .as_deref()
            .and_then(|m| directory.user(m))
            .map(|m| m.upn.clone())
            .unwrap_or_default();
        session.manager(&object, &manager_name).await?;
    } else if let Some(which) = &args.group {
        if loaded.compiled.groups.is_none() {
            return Err(AppError::Input(format!(
                "{}: groups are not provisioned by this mapping",
                loaded.job.mapping_path.display()
            )));
        }
        let group = directory
            .group(which)
            .or_else(|| directory.group_by_display_name(which))
            .ok_or_else(|| {
                AppError::Input(format!(
                    "no group {which:?} in {}",
                    loaded.job.directory_path.display()
                ))
            })?;
        let mut member_keys = Vec::new();
        for who in &args.members {
            let user = find_user(who)?;
            if !group
                .members
                .iter()
                .any(|m| m.kind == MemberKind::User && m.object_id == user.object_id)
            {
                return Err(AppError::Input(format!(
                    "--member {who:?} is not a direct member of group '{}'",
                    group.display_name
                )));
            }
            let object = desired::user_object(user, &loaded.compiled, &sources, &mut ctx);
            ok &= session.provision(&object).await?;
            member_keys.push(object.key.clone());
        }
        let Some(object) = desired::group_object(group, &loaded.compiled, &sources, &mut ctx)
        else {
            return Ok(0);
        };
        ok &= session.provision(&object).await?;
        if let Some(anchor) = session.anchors.get(&object.key).cloned() {
            let mut wanted = anchor.members.clone();
            wanted.extend(
                member_keys
                    .iter()
                    .filter_map(|k| session.anchors.get(k).map(|a| a.target_id.clone())),
            );
            wanted.sort();
            wanted.dedup();
            let ctx = session.context();
            let mut flow = MembersFlow::new(
                ctx,
                object.key.clone(),
                &object.name,
                anchor,
                wanted.iter().map(|id| Keyed::new(id)),
            );
            if !flow.is_noop() {
                ok &= session.run(&object, &mut flow).await?;
            }
        }
    } else {
        return Err(AppError::Input(
            "give --user, or --group with up to 5 --member".into(),
        ));
    }
    print(&session.shown, args.json)?;
    Ok(if ok { 0 } else { 1 })
}

/// The human form (Entra's steps, readable), or with `--json` one Graph `provisionOnDemand`
/// answer per entry: a group provisioned with members prints its members' entries, its own,
/// and its membership update, where Graph's single answer for a group shows only the group.
fn print(shown: &[graph::Shown], as_json: bool) -> Result<(), AppError> {
    if as_json {
        let out: Vec<_> = shown.iter().map(graph::pair).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| AppError::Local(e.to_string()))?
        );
        return Ok(());
    }
    for log in shown.iter().map(|s| &s.log) {
        println!(
            "{} {} '{}'",
            log.source_identity.identity_type,
            crate::output::entry_line(log),
            log.source_identity.display_name
        );
        for (n, step) in log.provisioning_steps.iter().enumerate() {
            println!(
                "  Step {}: {} ({:?}) — {}",
                n + 2,
                step.name,
                step.provisioning_step_type,
                step.status.as_str()
            );
            println!("    {}", step.description);
            for (k, v) in &step.details {
                let shown = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                println!("      {k}: {shown}");
            }
        }
        if !log.modified_properties.is_empty() {
            println!("  Modified properties:");
            for p in &log.modified_properties {
                println!(
                    "    {}: {} → {}",
                    p.display_name,
                    p.old_value.as_deref().unwrap_or(""),
                    p.new_value.as_deref().unwrap_or("")
                );
            }
        }
        if let Some(info) = &log.provisioning_status_info.error_information {
            println!("  {}: {}", info.error_code, info.reason);
        }
    }
    Ok(())
}
