//! Command-line syntax (clap): only what the user typed. Turning it into a validated job happens in
//! `config`; doing the work happens in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// entra-sim drives a SCIM 2.0 server exactly as the Microsoft Entra ID provisioning service would.
#[derive(Debug, Parser)]
#[command(name = "entra-sim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one provisioning cycle (initial the first time, incremental afterwards).
    ///
    /// Without --job, runs the bundled sample job (contoso tenant, default SCIM mapping) against an
    /// in-process built-in SCIM target whose data persists in .entra-sim/sample.
    ///
    /// Example: entra-sim cycle --job jobs/sample.yaml
    Cycle(CycleArgs),
    /// Provision one user, or one group with up to 5 members, right now, showing Entra's steps.
    ///
    /// Example: entra-sim provision-on-demand --job jobs/sample.yaml --user adele.vance@contoso.com
    ProvisionOnDemand(OnDemandArgs),
    /// Check the Tenant URL and token the way Entra's "Test Connection" does.
    ///
    /// Example: entra-sim test-connection --job jobs/sample.yaml
    TestConnection(JobArgs),
    /// List the provisioning logs of a job (Graph provisioningObjectSummary records).
    ///
    /// Example: entra-sim logs --job jobs/sample.yaml --status failure
    Logs(LogsArgs),
    /// Evaluate an attribute-mapping expression offline (the twin of Graph's parseExpression).
    ///
    /// Example: entra-sim expr 'Join(" ", [givenName], [surname])' --attr givenName=John --attr surname=Doe
    Expr(ExprArgs),
    /// The built-in SCIM 2.0 target server.
    #[command(subcommand)]
    Target(TargetCommand),
    /// Synthetic directory files for scale tests: generate a tenant, change one at random.
    #[command(subcommand)]
    Directory(DirectoryCommand),
}

/// Arguments naming a job file.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cycle`.
#[derive(Debug, Args)]
pub struct CycleArgs {
    /// The job file (jobs/*.yaml); omit it to run the bundled sample against the built-in target.
    #[arg(long)]
    pub job: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also print every request and its status.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Arguments of `provision-on-demand`.
#[derive(Debug, Args)]
pub struct OnDemandArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// The user to provision: objectId or userPrincipalName.
    #[arg(long, conflicts_with = "group")]
    pub user: Option<String>,
    /// The group to provision: objectId or displayName.
    #[arg(long)]
    pub group: Option<String>,
    /// A member of --group to provision with it (objectId or UPN); at most 5.
    #[arg(long = "member", requires = "group")]
    pub members: Vec<String>,
    /// Print the Graph provisionOnDemand response shape.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// Only this cycle (its cycleId).
    #[arg(long)]
    pub cycle: Option<String>,
    /// Only this status: success, failure, skipped or warning.
    #[arg(long)]
    pub status: Option<String>,
    /// Print the records as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `expr`.
#[derive(Debug, Args)]
pub struct ExprArgs {
    /// The expression, e.g. 'Join(" ", [givenName], [surname])'.
    pub expression: String,
    /// A source attribute `name=value`; repeat a name to make it multi-valued.
    #[arg(long = "attr", value_name = "NAME=VALUE")]
    pub attrs: Vec<String>,
    /// Take the source attributes from this user (objectId or UPN) of --directory.
    #[arg(long, requires = "directory")]
    pub user: Option<String>,
    /// The directory file for --user.
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Print Graph's parseExpression answer shape.
    #[arg(long)]
    pub json: bool,
    /// Show the parsed expression tree.
    #[arg(long)]
    pub tree: bool,
}

/// `target` subcommands.
#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// Serve the built-in SCIM target at http://127.0.0.1:PORT/scim/v2 until interrupted.
    ///
    /// Example: entra-sim target serve --port 8080 --token s3cret
    Serve(ServeArgs),
}

/// Arguments of `target serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The bearer token clients must send; read from ENTRA_SIM_TOKEN when not given.
    #[arg(long, env = "ENTRA_SIM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Fault rules, e.g. 'POST /Users=500:times=1; PATCH /Groups/*=429:retry-after=5'.
    #[arg(long)]
    pub fault: Option<String>,
}

/// `directory` subcommands.
#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Write a deterministic, realistic synthetic tenant (and a job file for it).
    ///
    /// Example: entra-sim directory generate --users 100000 --groups 500 --seed 1 --out tenant.jsonl --job-out tenant-job.yaml
    Generate(GenerateArgs),
    /// Apply a deterministic batch of random changes to a directory file.
    ///
    /// Example: entra-sim directory mutate --in tenant.jsonl --changes 1000 --seed 2 --out tenant-2.jsonl
    Mutate(MutateArgs),
}

/// Arguments of `directory generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of users.
    #[arg(long)]
    pub users: usize,
    /// Number of groups.
    #[arg(long, default_value_t = 0)]
    pub groups: usize,
    /// The random seed: the same seed and sizes give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The directory file to write; `.jsonl` writes JSON lines, anything else YAML.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write a job file for the tenant here.
    #[arg(long)]
    pub job_out: Option<PathBuf>,
    /// The mapping the job file points at.
    #[arg(long, default_value = "mappings/scim-default.yaml")]
    pub mapping: PathBuf,
    /// The job's scope: `assigned` (generated group and user assignments) or `all`.
    #[arg(long, default_value = "assigned", value_parser = ["assigned", "all"])]
    pub scope: String,
}

/// Arguments of `directory mutate`.
#[derive(Debug, Args)]
pub struct MutateArgs {
    /// The directory file to change.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Number of changes.
    #[arg(long)]
    pub changes: usize,
    /// The random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the changed directory; `.jsonl` writes JSON lines, anything else YAML.
    #[arg(long)]
    pub out: PathBuf,
}
