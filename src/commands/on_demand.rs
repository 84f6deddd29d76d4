//! `entra-sim provision-on-demand` (spec §10): one user, or one group with up to 5 of its members,
//! provisioned now through the same flows a cycle uses, printed as Entra's steps (test connection
//! only when it fails, import, scope, match, action). On-demand provisioning always uses the default
//! wire shapes: Entra does not honour `aadOptscim062020` here. [`provision`] does the work over any
//! [`Transport`] without printing, so `conformance` runs it too.

mod graph;

pub use graph::Shown;

use rand::SeedableRng;

use crate::cli::OnDemandArgs;
use crate::clock::{Clock, SystemClock};
use crate::config::Job;
use crate::directory::{Group, MemberKind, User};
use crate::engine::{apply_changes, entry_context, guid};
use crate::error::AppError;
use crate::expr::EvalContext;
use crate::hash::Keyed;
use crate::output::outln;
use crate::plan::connection::ConnectionFlow;
use crate::plan::desired::{self, CompiledMapping, Sources};
use crate::plan::wire;
use crate::plan::{
    Anchors, DisableFlow, EntryContext, EntryOutcome, Flow, GroupFlow, ManagerFlow, MembersFlow,
    Method, ObjectKey, Reply, Request, SkipFlow, SourceObject, UserFlow, evaluation_failure,
};
use crate::provlog::SkipReason;
use crate::runner::{self, Transport};
use crate::scim::{self, OpKind, Outcome, ScimMode};
use crate::store::Store;

/// What a provisioning on demand works with: a loaded job, its state, where requests go and the
/// clock (expressions' `Now()`, the entries' times).
pub struct OnDemandEnv<'a> {
    /// The validated job.
    pub job: &'a Job,
    /// Its compiled mapping.
    pub compiled: &'a CompiledMapping,
    /// Its state: anchors read, outcomes and log records written.
    pub store: &'a Store,
    /// Where requests go.
    pub transport: &'a dyn Transport,
    /// The clock.
    pub clock: &'a dyn Clock,
}

/// What to provision on demand, as the portal asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// One user (object id or UPN), then its manager reference.
    User(String),
    /// One group (object id or display name) with up to 5 of its direct members (object ids or
    /// UPNs), then its membership.
    Group {
        /// The group.
        which: String,
        /// The members provisioned with it.
        members: Vec<String>,
    },
}

/// What a provisioning on demand did.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// Every entry, in order: a group's members, the group, its membership update.
    pub shown: Vec<Shown>,
    /// No entry failed.
    pub ok: bool,
    /// The mapping makes no object of the group (its scope or expressions drop it): nothing
    /// was provisioned.
    pub no_object: bool,
}

/// Provisions `subject` now as Entra's on-demand does, over `env.transport`, without printing:
/// Test Connection first (its failure is [`AppError::OnDemandConnection`]), then the objects'
/// flows in the default wire shapes (on demand ignores `aadOptscim062020`), each outcome
/// persisted to `env.store` as a cycle's would be.
pub async fn provision(env: &OnDemandEnv<'_>, subject: &Subject) -> Result<Provisioned, AppError> {
    if let Subject::Group { members, .. } = subject {
        check_member_count(members)?;
    }
    test_connection(env).await?;
    // The next cycle looks at every object again rather than trusting the last clean one.
    env.store.forget_source_digest()?;
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let cycle_id = guid(&mut rng);
    let mut session = Session::open(env, cycle_id)?;
    let mut picker = Picker::new(env, &mut rng);
    let result = match subject {
        Subject::User(who) => Some(session.user(&mut picker, who).await?),
        Subject::Group { which, members } => session.group(&mut picker, which, members).await?,
    };
    Ok(Provisioned {
        shown: session.shown,
        ok: result.unwrap_or(true),
        no_object: result.is_none(),
    })
}

struct Session<'a> {
    env: &'a OnDemandEnv<'a>,
    rng: rand::rngs::StdRng,
    cycle_id: String,
    anchors: Anchors,
    shown: Vec<Shown>,
}

impl<'a> Session<'a> {
    /// A session over the job's state, holding the anchors it has now.
    fn open(env: &'a OnDemandEnv<'a>, cycle_id: String) -> Result<Self, AppError> {
        Ok(Session {
            env,
            rng: rand::rngs::StdRng::from_os_rng(),
            cycle_id,
            anchors: env.store.anchors()?.into_iter().collect(),
            shown: Vec::new(),
        })
    }

    /// Provisions one user, then its manager reference.
    async fn user(&mut self, picker: &mut Picker<'_>, who: &str) -> Result<bool, AppError> {
        let user = picker.user(who)?;
        let object = picker.user_object(user);
        let ok = self.provision(&object).await?;
        self.manager(&object, &picker.manager_upn(user)).await?;
        Ok(ok)
    }

    /// Provisions the chosen direct members of a group, the group, then its membership; `None`
    /// when the mapping makes no object of the group.
    async fn group(
        &mut self,
        picker: &mut Picker<'_>,
        which: &str,
        members: &[String],
    ) -> Result<Option<bool>, AppError> {
        let group = picker.group(which)?;
        let mut ok = true;
        let mut member_keys = Vec::new();
        for who in members {
            let user = picker.member(group, who)?;
            let object = picker.user_object(user);
            ok &= self.provision(&object).await?;
            member_keys.push(object.key.clone());
        }
        let Some(object) = picker.group_object(group) else {
            return Ok(None);
        };
        ok &= self.provision(&object).await?;
        ok &= self.add_members(&object, &member_keys).await?;
        Ok(Some(ok))
    }

    /// Adds the users provisioned with a group (`member_keys`) to its members on the target,
    /// unless they are members already.
    async fn add_members(
        &mut self,
        object: &SourceObject,
        member_keys: &[ObjectKey],
    ) -> Result<bool, AppError> {
        let Some(anchor) = self.anchors.get(&object.key).cloned() else {
            return Ok(true);
        };
        let mut wanted = anchor.members.clone();
        wanted.extend(
            member_keys
                .iter()
                .filter_map(|k| self.anchors.get(k).map(|a| a.target_id.clone())),
        );
        wanted.sort();
        wanted.dedup();
        let ctx = self.context();
        let mut flow = MembersFlow::new(
            ctx,
            object.key.clone(),
            &object.name,
            anchor,
            wanted.iter().map(|id| Keyed::new(id)),
        );
        if flow.is_noop() {
            return Ok(true);
        }
        self.run(object, &mut flow).await
    }

    fn context(&mut self) -> EntryContext {
        // On demand, Entra does not honour aadOptscim062020: always the default shapes.
        let change_id = guid(&mut self.rng);
        entry_context(
            self.env.job,
            ScimMode::Default,
            &self.cycle_id,
            change_id,
            self.env.clock.now(),
        )
    }

    async fn run(
        &mut self,
        object: &SourceObject,
        flow: &mut (dyn Flow + Send),
    ) -> Result<bool, AppError> {
        let started = self.env.clock.now();
        let (outcome, exchanges, _) = runner::drive(flow, self.env.transport, true, None).await;
        let target = last_found(exchanges);
        self.record(object, outcome, target, started)
    }

    fn record(
        &mut self,
        object: &SourceObject,
        mut outcome: EntryOutcome,
        target: Option<serde_json::Value>,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, AppError> {
        let store = self.env.store;
        runner::persist(store, &outcome)?;
        store.commit()?;
        apply_changes(&mut self.anchors, &mut outcome);
        if !outcome.failed {
            store.set_watermark(&object.key, &object.fingerprint)?;
            store.commit()?;
        }
        let scope = graph::Scope {
            active: object.spec.active,
            assigned: object.out_of_scope_reason != Some(SkipReason::NotEffectivelyEntitled),
            in_scope: object.in_scope,
        };
        self.shown.extend(outcome.log.map(|log| Shown {
            log,
            kind: object.key.kind,
            target,
            scope,
            started,
            ended: self.env.clock.now(),
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
            return self.record(object, outcome, None, self.env.clock.now());
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

/// What the target holds, from the last read that found the object (the matching query or the
/// read by id): the matching step shows it.
fn last_found(exchanges: Vec<(Request, Reply)>) -> Option<serde_json::Value> {
    exchanges
        .into_iter()
        .rev()
        .filter(|(request, _)| request.method == Method::Get)
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
        })
}

/// Finds the objects named on the command line and builds their source objects as a cycle
/// would: from the job's directory, assignments and scope, expressions evaluated now.
struct Picker<'a> {
    job: &'a Job,
    compiled: &'a CompiledMapping,
    sources: Sources<'a>,
    ctx: EvalContext<'a>,
}

impl<'a> Picker<'a> {
    fn new(env: &OnDemandEnv<'a>, rng: &'a mut rand::rngs::StdRng) -> Self {
        Picker {
            job: env.job,
            compiled: env.compiled,
            sources: Sources {
                directory: &env.job.directory,
                assignments: env.job.assignment_index(),
                scope: env.job.scope,
            },
            ctx: EvalContext {
                now: env.clock.now(),
                rng,
            },
        }
    }

    /// The user with object id or UPN `who`.
    fn user(&self, who: &str) -> Result<&'a User, AppError> {
        let directory = self.sources.directory;
        directory
            .user(who)
            .or_else(|| directory.user_by_upn(who))
            .ok_or_else(|| AppError::NoSuchUser {
                who: who.to_owned(),
                directory: self.job.directory_path.clone(),
            })
    }

    /// The user `who`, a direct member of `group`.
    fn member(&self, group: &Group, who: &str) -> Result<&'a User, AppError> {
        let user = self.user(who)?;
        if !group
            .members
            .iter()
            .any(|m| m.kind == MemberKind::User && m.object_id == user.object_id)
        {
            return Err(AppError::NotAMember {
                who: who.to_owned(),
                group: group.display_name.clone(),
            });
        }
        Ok(user)
    }

    /// The group with object id or display name `which`, when the mapping provisions groups.
    fn group(&self, which: &str) -> Result<&'a Group, AppError> {
        let job = self.job;
        if self.compiled.groups.is_none() {
            return Err(AppError::GroupsNotMapped {
                mapping: job.mapping_path.clone(),
            });
        }
        let directory = self.sources.directory;
        directory
            .group(which)
            .or_else(|| directory.group_by_display_name(which))
            .ok_or_else(|| AppError::NoSuchGroup {
                which: which.to_owned(),
                directory: job.directory_path.clone(),
            })
    }

    /// The UPN of `user`'s manager; empty when it has none in the directory.
    fn manager_upn(&self, user: &User) -> String {
        user.manager
            .as_deref()
            .and_then(|m| self.sources.directory.user(m))
            .map(|m| m.upn.clone())
            .unwrap_or_default()
    }

    fn user_object(&mut self, user: &User) -> SourceObject {
        desired::user_object(user, self.compiled, &self.sources, &mut self.ctx)
    }

    fn group_object(&mut self, group: &Group) -> Option<SourceObject> {
        desired::group_object(group, self.compiled, &self.sources, &mut self.ctx)
    }
}

/// Step 1: shown only when it fails.
async fn test_connection(env: &OnDemandEnv<'_>) -> Result<(), AppError> {
    let Some(path) = env
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
    let query = scim::match_query(scim::ResourceKind::User, &path, &id);
    let mut flow = ConnectionFlow::new(vec![query]);
    let probes = runner::conclude(&mut flow, env.transport).await;
    match probes.into_iter().next().map(|p| p.outcome) {
        Some(Outcome::Failure(f)) => Err(AppError::OnDemandConnection {
            code: f.code.as_str().to_owned(),
            reason: f.reason,
        }),
        _ => Ok(()),
    }
}

/// `entra-sim provision-on-demand`: exit 0 when every entry succeeded, else 1.
pub async fn run(args: OnDemandArgs) -> Result<i32, AppError> {
    check_member_count(&args.members)?;
    let loaded = super::load(&args.job)?;
    if loaded.mode != ScimMode::Default && !args.json {
        outln!("note: {MODE_NOTE}")?;
    }
    let client = loaded.tenant_client()?;
    let store = loaded.store()?;
    let subject = match (&args.user, &args.group) {
        (Some(who), _) => Subject::User(who.clone()),
        (None, Some(which)) => Subject::Group {
            which: which.clone(),
            members: args.members.clone(),
        },
        (None, None) => return Err(AppError::NothingOnDemand),
    };
    let env = OnDemandEnv {
        job: &loaded.job,
        compiled: &loaded.compiled,
        store: &store,
        transport: &client,
        clock: &SystemClock,
    };
    let provisioned = provision(&env, &subject).await?;
    if provisioned.no_object {
        return Ok(0);
    }
    print(&provisioned.shown, args.json)?;
    Ok(if provisioned.ok { 0 } else { 1 })
}

/// What to tell a user of `aadOptscim062020` about on-demand provisioning.
pub const MODE_NOTE: &str =
    "provisioning on demand does not honour aadOptscim062020; default wire shapes are used";

/// Entra provisions at most 5 members on demand with a group.
fn check_member_count(members: &[String]) -> Result<(), AppError> {
    if members.len() > 5 {
        return Err(AppError::TooManyMembers(members.len()));
    }
    Ok(())
}

/// The human form (Entra's steps, readable), or with `--json` one Graph `provisionOnDemand`
/// answer per entry: a group provisioned with members prints its members' entries, its own,
/// and its membership update, where Graph's single answer for a group shows only the group.
fn print(shown: &[Shown], as_json: bool) -> Result<(), AppError> {
    if as_json {
        let out: Vec<_> = shown.iter().map(graph::pair).collect();
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(());
    }
    for log in shown.iter().map(|s| &s.log) {
        outln!(
            "{} {} '{}'",
            log.source_identity.identity_type,
            crate::output::entry_line(log),
            log.source_identity.display_name
        )?;
        for (n, step) in log.provisioning_steps.iter().enumerate() {
            outln!(
                "  Step {}: {} ({:?}) — {}",
                n + 2,
                step.name,
                step.provisioning_step_type,
                step.status.as_str()
            )?;
            outln!("    {}", step.description)?;
            for (k, v) in &step.details {
                let shown = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                outln!("      {k}: {shown}")?;
            }
        }
        if !log.modified_properties.is_empty() {
            outln!("  Modified properties:")?;
            for p in &log.modified_properties {
                outln!(
                    "    {}: {} → {}",
                    p.display_name,
                    p.old_value.as_deref().unwrap_or(""),
                    p.new_value.as_deref().unwrap_or("")
                )?;
            }
        }
        if let Some(info) = &log.provisioning_status_info.error_information {
            outln!("  {}: {}", info.error_code, info.reason)?;
        }
    }
    Ok(())
}
