//! One file per subcommand. This module dispatches and holds what several commands share: loading
//! a job into everything a cycle needs.

mod compare_modes;
mod completions;
mod conformance;
mod cycle;
mod directory;
mod drift;
mod expr;
mod job;
mod jwks;
mod logs;
mod on_demand;
pub mod plan;
mod probe;
mod progress;
mod report;
mod run;
mod target;
mod test_connection;
mod validate;

use std::path::Path;
use std::time::Duration;

use crate::auth::jwt;
use crate::cli::{Cli, Command, DirectoryCommand, TargetCommand};
use crate::clock::Clock;
use crate::config::{self, Credential, Job, JobSettings, Preread};
use crate::directory::LineIndex;
use crate::error::AppError;
use crate::http::ScimClient;
use crate::plan::desired::CompiledMapping;
use crate::scim::{self, ScimMode};
use crate::store::Store;

/// Runs the command; `Ok` carries the exit code of a command that ran (0, or 1 for entry errors).
pub async fn run(cli: Cli) -> Result<i32, AppError> {
    match cli.command {
        Command::Cycle(args) => cycle::run(args).await,
        Command::ProvisionOnDemand(args) => on_demand::run(args).await,
        Command::TestConnection(args) => test_connection::run(args).await,
        Command::Conformance(args) => conformance::run(args).await,
        Command::Jwks(args) => jwks::run(&args),
        Command::Plan(args) => plan::run(args).await,
        Command::Drift(args) => drift::run(args).await,
        Command::Status(args) => job::status(args),
        Command::Restart(args) => job::restart(args),
        Command::Pause(args) => job::set_running(args, false),
        Command::Start(args) => job::set_running(args, true),
        Command::Run(args) => run::run(args).await,
        Command::CompareModes(args) => compare_modes::run(args).await,
        Command::Logs(args) => logs::run(args),
        Command::Report(args) => report::run(args),
        Command::Expr(args) => expr::run(args),
        Command::Target(TargetCommand::Serve(args)) => target::serve(args).await,
        Command::Validate(args) => validate::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Directory(DirectoryCommand::Generate(args)) => directory::generate(args),
        Command::Directory(DirectoryCommand::Mutate(args)) => directory::mutate(args),
    }
}

/// A job, loaded, validated and compiled.
pub struct Loaded {
    /// The job.
    pub job: Job,
    /// Its mapping, compiled.
    pub compiled: CompiledMapping,
    /// The Tenant URL without feature flags.
    pub base_url: String,
    /// The wire mode the flags select.
    pub mode: ScimMode,
}

/// Loads and validates a job file, its directory and mapping, and compiles the mapping; every
/// problem of every file is reported at once.
pub fn load(path: &Path) -> Result<Loaded, AppError> {
    load_with(path, || None, None)
}

/// [`load`], reading a JSON-lines directory by line-level deltas against `index` (asked for once
/// the job's files are read), and the directory from `directory` when it was read already.
pub fn load_with(
    path: &Path,
    index: impl FnOnce() -> Option<LineIndex>,
    directory: Option<Preread>,
) -> Result<Loaded, AppError> {
    let check = config::check_job_with(path, index, directory)?;
    for warning in &check.warnings {
        eprintln!("warning: {warning}");
    }
    let (job, compiled) = match check.loaded {
        Some(loaded) if check.problems.0.is_empty() => loaded,
        _ => return Err(config::ConfigError::Invalid(check.problems).into()),
    };
    let (base_url, mode, _flags) =
        scim::split_tenant_url(&job.target.url).map_err(|source| AppError::TenantUrl {
            file: job.file.clone(),
            source,
        })?;
    Ok(Loaded {
        job,
        compiled,
        base_url,
        mode,
    })
}

/// A job's file, name and settings alone ([`config::load_job_settings`]): for the commands that
/// only read or change its state.
pub fn load_settings(path: &Path) -> Result<JobSettings, AppError> {
    Ok(config::load_job_settings(path)?)
}

/// [`config::load_job_mapping`]: a job's own fields and its compiled mapping, not its
/// directory.
pub fn load_mapping(path: &Path) -> Result<(JobSettings, CompiledMapping), AppError> {
    Ok(config::load_job_mapping(path)?)
}

/// What the job in `file` authenticates with: its bearer token (an `entra_jwt` signed now with
/// the key of the job's state directory `state_dir`), or its OAuth client with the client secret
/// read (no token is fetched here).
pub fn token_of(
    file: &Path,
    target: &config::Target,
    state_dir: &Path,
) -> Result<Credential, AppError> {
    let now = crate::clock::SystemClock.now().timestamp();
    target
        .token
        .resolve(|name| std::env::var(name).ok(), state_dir, now)
        .map_err(|source| AppError::Token {
            file: file.to_path_buf(),
            source,
        })
}

/// An HTTP client for the Tenant URL of the job in `file`, authenticating with `credential`.
pub fn client_of(
    file: &Path,
    settings: &config::Settings,
    base_url: &str,
    credential: &Credential,
) -> Result<ScimClient, AppError> {
    let options = crate::http::ClientOptions {
        timeout: Duration::from_secs(settings.request_timeout_secs),
        user_agent: settings.user_agent.clone(),
        max_response_bytes: settings.max_response_bytes,
    };
    ScimClient::new(base_url, credential, &options).map_err(|source| AppError::Client {
        file: file.to_path_buf(),
        source,
    })
}

impl Loaded {
    /// The job's credential, from its token source.
    pub fn token(&self) -> Result<Credential, AppError> {
        token_of(
            &self.job.file,
            &self.job.target,
            &self.job.settings.state_dir,
        )
    }

    /// An HTTP client for the Tenant URL. With `entra_jwt` its JWT is signed anew before it
    /// expires ([`jwt::LIFETIME_SECS`] less [`jwt::RENEW_MARGIN_SECS`] after `token` was), so
    /// a long cycle or a daemon never sends an expired one.
    pub fn client(&self, base_url: &str, credential: &Credential) -> Result<ScimClient, AppError> {
        let client = client_of(&self.job.file, &self.job.settings, base_url, credential)?;
        let config::TokenSource::EntraJwt(claims) = &self.job.target.token else {
            return Ok(client);
        };
        let key =
            jwt::SigningKey::load_or_create(&self.job.settings.state_dir).map_err(|source| {
                AppError::SigningKey {
                    file: self.job.file.clone(),
                    source,
                }
            })?;
        let claims = claims.clone();
        let clock = crate::clock::SystemClock;
        // The token was signed just before; a renewal a few seconds early is harmless.
        let issued_at = clock.now().timestamp();
        Ok(client.renewing(
            issued_at,
            jwt::LIFETIME_SECS - jwt::RENEW_MARGIN_SECS,
            std::sync::Arc::new(clock),
            move |now| key.sign(&claims.claims(now)).ok(),
        ))
    }

    /// An HTTP client for the Tenant URL, authenticating with the job's credential
    /// ([`Loaded::token`], then [`Loaded::client`]).
    pub fn tenant_client(&self) -> Result<ScimClient, AppError> {
        let token = self.token()?;
        self.client(&self.base_url, &token)
    }

    /// The job's state.
    pub fn store(&self) -> Result<Store, AppError> {
        Ok(Store::open(&self.job.settings.state_dir)?)
    }
}
