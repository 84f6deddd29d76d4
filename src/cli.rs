//! Command-line syntax (clap): only what the user typed. Turning it into a validated job happens in
//! `config`; doing the work happens in `commands`.

// Doc comments here are --help text: `[givenName]` is an expression, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

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
    /// in-process built-in SCIM target; the job's state and the target's data persist in
    /// jobs/.entra-sim/sample-builtin/ of the source tree entra-sim was built from (delete it to
    /// start over).
    ///
    /// Example: entra-sim cycle --job jobs/sample.yaml
    Cycle(CycleArgs),
    /// The provisioning service as a daemon: an initial cycle, then incremental cycles every 40
    /// minutes (or --interval, or --cron), stretched while quarantined, until interrupted.
    ///
    /// Ctrl-C or SIGTERM lets the current cycle finish. --virtual-time runs the schedule on a
    /// simulated clock (real requests, no waiting) and on a copy of the job's state: --until 30d
    /// shows four weeks in seconds, and the job's own state keeps real times.
    ///
    /// Example: entra-sim run --job jobs/sample.yaml --virtual-time --until 30d
    Run(RunArgs),
    /// The job's status, as Graph's synchronization job status (§11.2).
    ///
    /// Example: entra-sim status --job jobs/sample.yaml --json
    Status(JobArgs),
    /// Restart the job: clear what --scope names (default Watermark,Escrows,QuarantineState).
    ///
    /// Scopes: Watermark, Escrows, QuarantineState, ForceDeletes, ConnectorDataStore, Full.
    ///
    /// Example: entra-sim restart --job jobs/sample.yaml --scope ForceDeletes
    Restart(RestartArgs),
    /// Pause the job: no further cycles until `start`.
    ///
    /// Example: entra-sim pause --job jobs/sample.yaml
    Pause(JobArgs),
    /// Start a paused job (also clears a quarantine status, as Graph's start does).
    ///
    /// Example: entra-sim start --job jobs/sample.yaml
    Start(JobArgs),
    /// Provision one user, or one group with up to 5 members, right now, showing Entra's steps.
    ///
    /// Example: entra-sim provision-on-demand --job jobs/sample.yaml --user adele.vance@contoso.com
    ProvisionOnDemand(OnDemandArgs),
    /// Show what the next cycle would send, without sending any write.
    ///
    /// Reads (matching queries, reads by id) go to the server; writes are printed per object with
    /// the reason. Nothing is stored. The next `cycle` sends exactly these writes.
    ///
    /// With --offline nothing is sent at all: connected objects are read from their last known
    /// state (what entra-sim last exported or confirmed), objects with no connection are
    /// assumed to have no match in the target, and the first candidate of a SelectUniqueValue
    /// is assumed free.
    ///
    /// Example: entra-sim plan --job jobs/sample.yaml
    Plan(PlanArgs),
    /// The next cycle's planned writes in the default and the aadOptscim062020 dialects, side by
    /// side, with every difference.
    ///
    /// With --probe, both forms of every difference are sent to scratch objects on the target
    /// (created and deleted again) and read back, to show which form the server applies; the
    /// last line says which dialects it accepts.
    ///
    /// Example: entra-sim compare-modes --job jobs/sample.yaml --probe
    CompareModes(CompareArgs),
    /// Read back every provisioned object (groups with members) and report where the target
    /// drifted from what was exported or what the mapping says. Exits 1 on drift.
    ///
    /// Example: entra-sim drift --job jobs/sample.yaml --json
    Drift(JobArgs),
    /// Check the Tenant URL and token the way Entra's "Test Connection" does.
    ///
    /// Example: entra-sim test-connection --job jobs/sample.yaml
    TestConnection(JobArgs),
    /// Run Microsoft's gallery validation checks (the Logic-App template's tests, through
    /// entra-sim's engine and as direct SCIM requests, and the SCIM Validator's) against a SCIM
    /// server, with a verdict and a fix for every failure.
    ///
    /// Test Connection runs first. Every object created carries a unique run prefix and is
    /// deleted at the end (unless --keep). Exits 0 when every mandatory test passed, 1 when one
    /// failed.
    ///
    /// Without --job the tests use Entra's default SCIM mapping; with --job, that job's mapping,
    /// its Tenant URL and its credentials unless flags say otherwise.
    ///
    /// Example: entra-sim conformance --url http://127.0.0.1:8080/scim/v2 --token-env SCIM_TOKEN --mode both
    ///
    /// Example: entra-sim conformance --job jobs/unifi.yaml --junit results.xml
    Conformance(ConformanceArgs),
    /// Print the public JWKS of the key that signs a job's Entra JWT (`target.entra_jwt`), for a
    /// server whose issuer keys are configurable. The key is made on first use, once per state
    /// directory; only its public half is ever printed.
    ///
    /// Example: entra-sim jwks --job jobs/jwt.yaml > jwks.json
    Jwks(JwksArgs),
    /// List the provisioning logs of a job (Graph provisioningObjectSummary records).
    ///
    /// Example: entra-sim logs --job jobs/sample.yaml --status failure
    ///
    /// Example: entra-sim logs --job jobs/sample.yaml --format csv --out logs/
    Logs(LogsArgs),
    /// Write a self-contained HTML report of a job's state: status and quarantine, a timeline of
    /// cycles, failures by error code with the server's answers, escrowed objects, and each
    /// object's provisioning steps and modified properties.
    ///
    /// Without --job: the bundled sample's state (what `cycle` without --job wrote). Without
    /// --out: report.html in the job's state directory.
    ///
    /// Example: entra-sim report --job jobs/sample.yaml --out report.html
    Report(ReportArgs),
    /// Evaluate an attribute-mapping expression offline (the twin of Graph's parseExpression).
    ///
    /// Example: entra-sim expr 'Join(" ", [givenName], [surname])' --attr givenName=John --attr surname=Doe
    Expr(ExprArgs),
    /// The built-in SCIM 2.0 target server.
    ///
    /// Example: entra-sim target serve --port 8080 --token s3cret
    #[command(subcommand)]
    Target(TargetCommand),
    /// Check a job, its directory and its mapping without touching the network, reporting every
    /// problem as file:line:column: field: message (exit code 3 when there are problems; warnings,
    /// such as a reference to a deleted user, do not fail it unless --strict).
    ///
    /// Example: entra-sim validate --job jobs/sample.yaml --json
    Validate(ValidateArgs),
    /// Print a shell completion script.
    ///
    /// Example: entra-sim completions bash > ~/.local/share/bash-completion/completions/entra-sim
    Completions(CompletionsArgs),
    /// Synthetic directory files for scale tests: generate a tenant, change one at random.
    ///
    /// Example: entra-sim directory generate --users 100000 --groups 1000 --seed 1 --out tenant.jsonl --job-out jobs/tenant.yaml
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

/// Arguments of `conformance`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("auth").args(["token_env", "token_file", "token_url"])))]
#[command(group(
    clap::ArgGroup::new("auth_or_job")
        .required(true)
        .multiple(true)
        .args(["token_env", "token_file", "token_url", "job"])
))]
#[command(group(
    clap::ArgGroup::new("client_secret").args(["client_secret_env", "client_secret_file"])
))]
pub struct ConformanceArgs {
    /// The Tenant URL of the SCIM server; with --job, the job's Tenant URL by default. A
    /// ?aadOptscim062020 in it selects that dialect unless --mode is given; other feature
    /// flags are ignored.
    #[arg(long, required_unless_present = "job")]
    pub url: Option<String>,
    /// Test this job's mapping instead of Entra's default SCIM mapping: tests of what it does not
    /// map are SKIPPED (no manager target: the manager tests) or FAILED (groups disabled:
    /// Microsoft requires groups). Without an authentication flag, authenticate as the job does
    /// (its token_env, token_file, oauth or entra_jwt). Its directory is not read.
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,
    /// The environment variable holding the bearer token.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// A file holding the bearer token (trailing whitespace ignored).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Authenticate as an OAuth 2.0 client (client credentials), as a job file's target.oauth
    /// block does: the token endpoint (token_url), with --client-id and --client-secret-env or
    /// --client-secret-file. Validate_Credentials_Test then checks the endpoint and the run's
    /// overall result requires it to pass.
    #[arg(long, value_name = "URL", requires_all = ["client_id", "client_secret"])]
    pub token_url: Option<String>,
    /// The OAuth client id (client_id).
    #[arg(long, value_name = "ID", requires = "token_url")]
    pub client_id: Option<String>,
    /// The environment variable holding the OAuth client secret (client_secret_env).
    #[arg(long, value_name = "VAR", requires = "token_url")]
    pub client_secret_env: Option<String>,
    /// A file holding the OAuth client secret, trailing whitespace ignored (client_secret_file).
    #[arg(long, value_name = "FILE", requires = "token_url")]
    pub client_secret_file: Option<PathBuf>,
    /// The scope to ask the token endpoint for (scope; none by default).
    #[arg(long, value_name = "SCOPE", requires = "token_url")]
    pub scope: Option<String>,
    /// How the client authenticates to the token endpoint (auth_method).
    #[arg(long, value_enum, value_name = "METHOD", requires = "token_url")]
    pub auth_method: Option<ClientAuth>,
    /// The dialect (or both, one after the other). Default: the one the Tenant URL selects.
    #[arg(long, value_enum)]
    pub mode: Option<ConformanceMode>,
    /// Run only these tests (Microsoft's names; repeatable).
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub only: Vec<String>,
    /// Skip these tests (repeatable).
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub skip: Vec<String>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Leave the objects the tests created on the server.
    #[arg(long)]
    pub keep: bool,
    /// Show every request each test sent, with the status it got, under the test's line.
    #[arg(long, short)]
    pub verbose: bool,
    /// Also write the results as JUnit XML to this file (one testcase per test and mode).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the results as a self-contained HTML page to this file (verdict, tests × modes,
    /// each failure with Entra's reading, the fix and the requests).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// How an OAuth client authenticates to its token endpoint (a job file's `auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientAuth {
    /// client_id and client_secret in the form body (the default).
    #[value(name = "client_secret_post")]
    ClientSecretPost,
    /// HTTP Basic authentication.
    #[value(name = "client_secret_basic")]
    ClientSecretBasic,
}

/// The dialects `conformance` runs its tests in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConformanceMode {
    /// The default dialect.
    Default,
    /// The dialect `?aadOptscim062020` selects.
    #[value(name = "aadOptscim062020")]
    AadOptscim062020,
    /// Both, one after the other.
    Both,
}

/// Arguments of `jwks`.
#[derive(Debug, Args)]
pub struct JwksArgs {
    /// The job file (jobs/*.yaml); its target must have an `entra_jwt` block.
    #[arg(long)]
    pub job: PathBuf,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Treat warnings as errors (exit code 3), e.g. to catch a misspelt reference that would
    /// otherwise be taken for a deleted user.
    #[arg(long)]
    pub strict: bool,
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Send nothing: plan against the last known target state.
    #[arg(long)]
    pub offline: bool,
}

/// Arguments of `compare-modes`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also try both forms on scratch objects of the target and report which one it applies.
    #[arg(long)]
    pub probe: bool,
}

/// Arguments of `restart`.
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// Comma-separated reset scopes.
    #[arg(long)]
    pub scope: Option<String>,
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job file (jobs/*.yaml).
    #[arg(long)]
    pub job: PathBuf,
    /// Time between cycles, e.g. 40m, 1h, 90s (default: Entra's 40 minutes); from 1s to 365d.
    #[arg(long, conflicts_with = "cron", value_parser = interval)]
    pub interval: Option<chrono::TimeDelta>,
    /// A cron expression (seconds field first, e.g. "0 */10 * * * *") instead of an interval.
    #[arg(long)]
    pub cron: Option<String>,
    /// Run the schedule on a simulated clock: no waiting between cycles. It works on a copy of
    /// the job's state (in the temporary directory), so the real job never holds cycles or logs
    /// stamped in the simulated future; the copy is removed at the end unless --keep-state.
    #[arg(long)]
    pub virtual_time: bool,
    /// With --virtual-time: keep the copy of the state at the end, and print where it is.
    #[arg(long, requires = "virtual_time")]
    pub keep_state: bool,
    /// Stop once the (virtual) clock passes this long after the start, e.g. 30d, 12h; up to
    /// 3650d.
    #[arg(long, value_parser = until)]
    pub until: Option<chrono::TimeDelta>,
    /// Run one cycle and stop (same as `cycle`).
    #[arg(long)]
    pub once: bool,
}

/// Arguments of `cycle`.
#[derive(Debug, Args)]
pub struct CycleArgs {
    /// The job file (jobs/*.yaml); omit it to run the bundled sample against the built-in target.
    #[arg(long)]
    pub job: Option<PathBuf>,
    /// Print JSON Lines instead of text: each entry's provisioningObjectSummary record on its own
    /// line as it finishes, then the summary ({"cycle": …, "process": …}) as the last line.
    #[arg(long)]
    pub json: bool,
    /// Also print every request and its status.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print only the summary (no line per entry; with --json, the summary line alone).
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// For benchmarks: write every request sent to FILE as JSON lines (`{"phase"}` when a phase
    /// starts; `{"flow", "method", "path", "body", "created"}` per request, `created` being the id
    /// a POST got back), so `cargo bench --bench scale` can replay the sequence with a bare client.
    #[arg(long, value_name = "FILE", hide_short_help = true, requires = "job")]
    pub record_requests: Option<PathBuf>,
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
    /// Print the records as JSON (the same as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// json: Graph provisioningObjectSummary records; csv: the portal's three-file download.
    #[arg(long, value_enum)]
    pub format: Option<LogFormat>,
    /// Write the export into this directory (csv: default the current directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The job file (jobs/*.yaml); omit it for the bundled sample run by `cycle` without --job.
    #[arg(long)]
    pub job: Option<PathBuf>,
    /// The HTML file to write [default: report.html in the job's state directory].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// How `logs` exports records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Graph `provisioningObjectSummary` JSON.
    Json,
    /// `ProvisioningLogs.csv`, `ProvisioningLogs_ProvisioningSteps.csv` and
    /// `ProvisioningLogs_ModifiedProperties.csv`, joined by Change ID.
    Csv,
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    /// A JWKS file (what `entra-sim jwks` prints) to serve at `/.well-known/jwks.json`; with no
    /// --token, a bearer JWT is then accepted when it verifies against it (RS256, `aud`
    /// 8adf8e6e-67b2-4cf2-a259-e3dc5476c621, `iss` `https://sts.windows.net/<tenant>/`, live).
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// Fault rules, e.g. 'POST /Users=500:times=1; PATCH /Groups/*=429:retry-after=5'.
    #[arg(long)]
    pub fault: Option<String>,
    /// Reproduce a real server's behaviour (repeatable): case-sensitive-filter (userName /
    /// displayName eq matches case-sensitively), no-uniqueness (duplicates created, no 409),
    /// ignore-excluded-attributes, ignore-pagination (count/startIndex ignored),
    /// strict-booleans (a string "active" is 400), reject-adscim-urn (a group carrying Entra's
    /// ADSCIM schema URN is 400), reject-remove-with-value (PATCH remove of members/manager with
    /// a value list is 400), manager-complex-only (a plain-string manager is 400).
    #[arg(long = "quirk", value_name = "NAME")]
    pub quirks: Vec<String>,
    /// An OAuth 2.0 client, as ID:SECRET: `POST /oauth2/token` (client credentials, the client
    /// authenticated in the body or with HTTP Basic) issues it access tokens, which are accepted
    /// while they live, besides --token. Read from ENTRA_SIM_OAUTH_CLIENT when not given.
    #[arg(
        long,
        env = "ENTRA_SIM_OAUTH_CLIENT",
        hide_env_values = true,
        value_name = "ID:SECRET"
    )]
    pub oauth_client: Option<String>,
    /// How long an issued access token lives (90s, 60m, 6h; from 1s to 1d).
    #[arg(long, default_value = "60m", value_parser = token_lifetime, value_name = "DURATION")]
    pub token_lifetime: chrono::TimeDelta,
    /// How many requests the request log (`GET /_admin/requests`) keeps, oldest dropped first;
    /// 0 records nothing (for benchmarks: no copies, no body parsing, no memory growth).
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub max_recorded: usize,
    /// How the target's threads are scheduled (Linux): `batch` (default) lets a client sharing
    /// the cores (entra-sim's engine) run without being preempted each time a request wakes the
    /// target; `normal` is the system's default, for other clients (a one-connection load tool
    /// waits longer on a batch target).
    #[arg(long, value_enum, default_value_t = Scheduling::Batch)]
    pub scheduling: Scheduling,
}

/// The scheduling policy of `target serve`'s threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scheduling {
    /// `SCHED_BATCH`: a woken thread does not preempt the running one.
    Batch,
    /// The system's default policy.
    Normal,
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

/// The longest `--interval`: a year. A longer gap is no schedule at all.
const MAX_INTERVAL_DAYS: u64 = 365;
/// The longest `--until`: ten years of simulated time (3,650 days of daily quarantine retries
/// take seconds; more is a typo).
const MAX_UNTIL_DAYS: u64 = 3650;

/// `--interval`: a duration from 1s to 365 days (`MAX_INTERVAL_DAYS`).
pub fn interval(text: &str) -> Result<chrono::TimeDelta, String> {
    duration(text, MAX_INTERVAL_DAYS)
}

/// `--token-lifetime`: a duration from 1s to a day.
fn token_lifetime(text: &str) -> Result<chrono::TimeDelta, String> {
    duration(text, 1)
}

/// `--until`: a duration from 1s to 3,650 days (`MAX_UNTIL_DAYS`).
pub fn until(text: &str) -> Result<chrono::TimeDelta, String> {
    duration(text, MAX_UNTIL_DAYS)
}

/// A duration as a person writes one: whole numbers, each followed by a unit (s, m, h or d), summed
/// (`90s`, `40m`, `12h`, `30d`, `1h30m`), from one second to `max_days`. Counted in `u64` seconds
/// with saturation, so no length of digits can overflow; chrono's constructors panic out of range.
fn duration(text: &str, max_days: u64) -> Result<chrono::TimeDelta, String> {
    let how = format!(
        "write whole numbers with a unit s, m, h or d (90s, 40m, 12h, 30d, 1h30m), from 1s to {max_days}d"
    );
    let mut total: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(format!("no duration given; {how}"));
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits);
        let letters = after
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(letters);
        let seconds: u64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "" if number.is_empty() => {
                let c = after.chars().next().unwrap_or(' ');
                return Err(format!("unexpected '{c}'; {how}"));
            }
            "" => return Err(format!("'{number}' has no unit; {how}")),
            other => return Err(format!("unknown unit '{other}'; {how}")),
        };
        if number.is_empty() {
            return Err(format!("expected a number before '{unit}'; {how}"));
        }
        // Only digits, so the parse fails only by overflow: longer than any maximum.
        let n: u64 = number.parse().unwrap_or(u64::MAX);
        total = total.saturating_add(n.saturating_mul(seconds));
        rest = after;
    }
    if total == 0 {
        return Err(format!("shorter than 1s; {how}"));
    }
    if total > max_days * 86_400 {
        return Err(format!("longer than {max_days}d; {how}"));
    }
    // At most ten years of seconds: well inside both i64 and chrono's range.
    i64::try_from(total)
        .ok()
        .and_then(chrono::TimeDelta::try_seconds)
        .ok_or_else(|| format!("longer than {max_days}d; {how}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn durations_are_whole_units_summed() {
        assert_eq!(interval("40m"), Ok(TimeDelta::minutes(40)));
        assert_eq!(interval("1h30m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(interval("90s"), Ok(TimeDelta::seconds(90)));
        assert_eq!(interval("365d"), Ok(TimeDelta::days(365)));
        assert_eq!(until("30d"), Ok(TimeDelta::days(30)));
        assert_eq!(until("3650d"), Ok(TimeDelta::days(3650)));
    }

    /// Issue 18, item 5: huge numbers panicked in chrono or read as "expected a number"; `1ms`
    /// read as "expected a number before 's'". Each now says what is wrong and the allowed range.
    #[test]
    fn issue_18_bad_durations_say_the_range_and_units() {
        type Parse = fn(&str) -> Result<TimeDelta, String>;
        let cases: &[(&str, Parse, &str)] = &[
            ("99999999999999d", interval, "longer than 365d"),
            ("9999999999999h", interval, "longer than 365d"),
            ("366d", interval, "longer than 365d"),
            ("99999999999999d", until, "longer than 3650d"),
            ("999999999999999999999d", until, "longer than 3650d"),
            ("1ms", interval, "unknown unit 'ms'"),
            ("5w", interval, "unknown unit 'w'"),
            ("30", interval, "'30' has no unit"),
            ("0s", interval, "shorter than 1s"),
            ("", interval, "no duration given"),
            ("m", interval, "expected a number before 'm'"),
            ("-5m", interval, "unexpected '-'"),
        ];
        for (text, parse, wanted) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.contains(wanted), "{text}: {err}");
            assert!(err.contains("s, m, h or d"), "{text}: {err}");
            assert!(err.contains("from 1s to"), "{text}: {err}");
        }
    }
}
