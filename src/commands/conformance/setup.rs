//! From `conformance`'s command line to what a run needs: the mapping under test (a job's, or
//! Entra's default SCIM mapping), the Tenant URL and its dialects, and the credential — from the
//! flags (a bearer token, or an OAuth client as a job file's `target.oauth` block describes
//! one), else the job's own, read by the same code as the job commands.

use std::path::Path;
use std::time::Duration;

use super::schema::Targets;
use super::{Mapped, MappingUnderTest, Matching, Plan, TESTS};
use crate::cli::{ClientAuth, ConformanceArgs, ConformanceMode};
use crate::config::{
    self, ClientAuthMethod, ConfigError, Credential, JobSettings, OAuthClient, SecretSource,
    TokenSource,
};
use crate::error::AppError;
use crate::http::{ClientOptions, ScimClient};
use crate::mapping::Mapping;
use crate::plan::desired::{self, CompiledMapping};
use crate::scim::schema::ENTERPRISE_USER_SCHEMA;
use crate::scim::{self, ScimMode};

/// What a run is given: its plan, the Tenant URL without feature flags, and a client for it.
pub struct Setup {
    /// The dialects, tests and mapping.
    pub plan: Plan,
    /// The Tenant URL without feature flags.
    pub base_url: String,
    /// The client every request goes through, authenticated as asked.
    pub client: ScimClient,
}

/// Reads the job (when given), then the URL, the modes and the credential; an unknown test
/// name, a bad job or a bad flag is refused before anything is sent.
pub fn setup(args: &ConformanceArgs) -> Result<Setup, AppError> {
    check_names(args)?;
    let job = args.job.as_deref().map(load_job).transpose()?;
    let (compiled, mapping) = match &job {
        Some((job, compiled)) => (compiled.clone(), mapping_text(&job.mapping_path)?),
        None => (default_mapping()?, MappingUnderTest::default()),
    };
    let (base_url, url_mode) = tenant_url(args, job.as_ref().map(|(job, _)| job))?;
    let credential = match (flag_credential(args)?, &job) {
        (Some(credential), _) => credential,
        (None, Some((job, _))) => {
            super::super::token_of(&job.file, &job.target, &job.settings.state_dir)?
        }
        // clap requires an authentication flag or --job.
        (None, None) => return Err(no_credential()),
    };
    let client = match &job {
        Some((job, _)) => {
            super::super::client_of(&job.file, &job.settings, &base_url, &credential)?
        }
        None => default_client(&base_url, &credential)?,
    };
    let plan = Plan {
        modes: modes(args.mode, url_mode),
        only: args.only.clone(),
        skip: args.skip.clone(),
        keep: args.keep,
        mapped: Mapped::of(&compiled),
        url: base_url.clone(),
        targets: Targets::of(&compiled),
        matching: Matching::of(&compiled, Path::new(&mapping.name))?,
        mapping,
    };
    Ok(Setup {
        plan,
        base_url,
        client,
    })
}

fn argument(arg: &str, source: impl Into<crate::error::BoxError>) -> AppError {
    AppError::Argument {
        arg: arg.to_string(),
        source: source.into(),
    }
}

fn no_credential() -> AppError {
    argument(
        "--token-env, --token-file or --token-url",
        "give one way of authenticating, or --job to authenticate as the job does",
    )
}

/// An unknown test name in `--only` or `--skip` is refused.
fn check_names(args: &ConformanceArgs) -> Result<(), AppError> {
    for (flag, names) in [("--only", &args.only), ("--skip", &args.skip)] {
        if let Some(unknown) = names.iter().find(|n| !TESTS.iter().any(|t| t.name == *n)) {
            return Err(argument(
                &format!("{flag} {unknown}"),
                "no such test; the tests are named as Microsoft names them, e.g. Duplicate_User_Test",
            ));
        }
    }
    Ok(())
}

/// The job file and its compiled mapping (its directory is not read), its warnings printed.
fn load_job(path: &Path) -> Result<(JobSettings, CompiledMapping), AppError> {
    let (job, compiled) = super::super::load_mapping(path)?;
    for warning in &job.warnings {
        eprintln!("warning: {warning}");
    }
    Ok((job, compiled))
}

/// The text of the job's mapping file (read and checked a moment ago), for the engine
/// scenarios.
fn mapping_text(path: &Path) -> Result<MappingUnderTest, AppError> {
    let yaml = std::fs::read_to_string(path).map_err(|source| AppError::ReadInput {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(MappingUnderTest {
        name: path.display().to_string(),
        yaml,
    })
}

/// Entra's default SCIM mapping (the one tested without `--job`), compiled.
pub fn default_mapping() -> Result<CompiledMapping, AppError> {
    compile(&MappingUnderTest::default())
}

/// A mapping's text, parsed and compiled.
pub fn compile(mapping: &MappingUnderTest) -> Result<CompiledMapping, AppError> {
    let invalid = |problems| AppError::Config(ConfigError::Invalid(problems));
    let parsed = Mapping::parse(&mapping.name, &mapping.yaml).map_err(invalid)?;
    desired::compile(&parsed).map_err(invalid)
}

/// `--url`, else the job's Tenant URL: without its feature flags, and the dialect they select.
fn tenant_url(
    args: &ConformanceArgs,
    job: Option<&JobSettings>,
) -> Result<(String, ScimMode), AppError> {
    let split = match (&args.url, job) {
        (Some(url), _) => scim::split_tenant_url(url).map_err(|e| argument("--url", e))?,
        (None, Some(job)) => {
            scim::split_tenant_url(&job.target.url).map_err(|source| AppError::TenantUrl {
                file: job.file.clone(),
                source,
            })?
        }
        // clap requires --url without --job.
        (None, None) => return Err(argument("--url", "a Tenant URL is required without --job")),
    };
    let (base_url, mode, _flags) = split;
    Ok((base_url, mode))
}

/// `--mode`, else the dialect the Tenant URL selects.
fn modes(mode: Option<ConformanceMode>, url_mode: ScimMode) -> Vec<ScimMode> {
    match mode {
        None => vec![url_mode],
        Some(ConformanceMode::Default) => vec![ScimMode::Default],
        Some(ConformanceMode::AadOptscim062020) => vec![ScimMode::Aad062020],
        Some(ConformanceMode::Both) => vec![ScimMode::Default, ScimMode::Aad062020],
    }
}

/// The credential the flags give, if any: a bearer token from `--token-env` or `--token-file`,
/// or an OAuth client (its secret read; no token is fetched here).
fn flag_credential(args: &ConformanceArgs) -> Result<Option<Credential>, AppError> {
    let (flag, source) = if let Some(var) = &args.token_env {
        (format!("--token-env {var}"), TokenSource::Env(var.clone()))
    } else if let Some(path) = &args.token_file {
        let flag = format!("--token-file {}", path.display());
        (flag, TokenSource::File(path.clone()))
    } else if let Some(url) = &args.token_url {
        let client = oauth_client(args, url)?;
        let flag = match &client.client_secret {
            SecretSource::Env(var) => format!("--client-secret-env {var}"),
            SecretSource::File(path) => format!("--client-secret-file {}", path.display()),
        };
        (flag, TokenSource::OAuth(client))
    } else {
        return Ok(None);
    };
    // Only an `entra_jwt` reads the state directory or the time; no flag gives one.
    let credential = source
        .resolve(|name| std::env::var(name).ok(), Path::new(""), 0)
        .map_err(|e| argument(&flag, e))?;
    Ok(Some(credential))
}

/// The OAuth client of `--token-url` and the flags beside it, checked as a job file's
/// `target.oauth` is.
fn oauth_client(args: &ConformanceArgs, token_url: &str) -> Result<OAuthClient, AppError> {
    let token_url = token_url.trim();
    config::token_url_problem(token_url).map_err(|e| argument("--token-url", e))?;
    let client_id = args.client_id.clone().unwrap_or_default();
    if client_id.trim().is_empty() {
        return Err(argument("--client-id", "must not be empty"));
    }
    if args.scope.as_ref().is_some_and(|s| s.trim().is_empty()) {
        return Err(argument(
            "--scope",
            "must not be empty (leave it out to send no scope)",
        ));
    }
    let client_secret = match (&args.client_secret_env, &args.client_secret_file) {
        (Some(var), _) => SecretSource::Env(var.clone()),
        (None, Some(path)) => SecretSource::File(path.clone()),
        // clap requires one of them with --token-url.
        (None, None) => {
            return Err(argument(
                "--token-url",
                "--client-secret-env or --client-secret-file is required",
            ));
        }
    };
    Ok(OAuthClient {
        token_url: token_url.to_owned(),
        client_id,
        client_secret,
        scope: args.scope.clone(),
        auth_method: match args.auth_method {
            None | Some(ClientAuth::ClientSecretPost) => ClientAuthMethod::ClientSecretPost,
            Some(ClientAuth::ClientSecretBasic) => ClientAuthMethod::ClientSecretBasic,
        },
    })
}

/// An HTTP client for `base_url` with job-less defaults: Entra's 100-second timeout, no
/// User-Agent, responses up to 16 MiB.
fn default_client(base_url: &str, credential: &Credential) -> Result<ScimClient, AppError> {
    let options = ClientOptions {
        timeout: Duration::from_secs(100),
        user_agent: None,
        max_response_bytes: 16 * 1024 * 1024,
    };
    ScimClient::new(base_url, credential, &options).map_err(|e| argument("--url", e))
}

impl Mapped {
    /// What `compiled` provisions: groups when its groups mapping is enabled, a manager when a
    /// user attribute targets the enterprise extension's `manager`, deletes when each mapping's
    /// Delete action is on.
    pub fn of(compiled: &CompiledMapping) -> Self {
        let manager = format!("{ENTERPRISE_USER_SCHEMA}:manager");
        Mapped {
            groups: compiled.groups.is_some(),
            user_deletes: compiled.users.actions.delete,
            group_deletes: compiled.groups.as_ref().is_some_and(|g| g.actions.delete),
            manager: compiled
                .users
                .attributes
                .iter()
                .any(|a| a.target.to_string().eq_ignore_ascii_case(&manager)),
        }
    }
}

impl Matching {
    /// The matching attributes of `compiled` (the mapping file `path`); a users mapping without
    /// one is refused, as `test-connection` refuses it.
    pub fn of(compiled: &CompiledMapping, path: &Path) -> Result<Self, AppError> {
        let user =
            super::super::test_connection::matching_path(&compiled.users).ok_or_else(|| {
                AppError::NoMatchingAttribute {
                    mapping: path.to_path_buf(),
                }
            })?;
        let group = compiled
            .groups
            .as_ref()
            .and_then(super::super::test_connection::matching_path);
        Ok(Matching { user, group })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default mapping provisions groups and a manager.
    #[test]
    fn the_default_mapping_maps_groups_and_a_manager() {
        let mapped = Mapped::of(&default_mapping().unwrap());
        assert!(mapped.groups && mapped.manager);
    }

    /// Test Connection probes the default mapping's userName and displayName.
    #[test]
    fn the_default_mapping_matches_on_user_name_and_display_name() {
        let matching = Matching::of(&default_mapping().unwrap(), Path::new("m")).unwrap();
        assert_eq!(matching.user.to_string(), "userName");
        assert_eq!(matching.group.unwrap().to_string(), "displayName");
    }

    fn args(line: &[&str]) -> ConformanceArgs {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["entra-sim", "conformance"].iter().chain(line))
            .unwrap();
        match cli.command {
            crate::cli::Command::Conformance(args) => args,
            _ => unreachable!(),
        }
    }

    /// With --job: the job's mapping (its text for the engine scenarios, its targets, what it
    /// maps), its Tenant URL and the dialect that URL selects.
    #[test]
    fn a_job_gives_its_mapping_url_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let mapping = concat!(env!("CARGO_MANIFEST_DIR"), "/mappings/unifi.yaml");
        std::fs::write(dir.path().join("token"), "t0ken\n").unwrap();
        let job = dir.path().join("job.yaml");
        std::fs::write(
            &job,
            format!(
                "directory: d.yaml\nmapping: {mapping}\ntarget:\n  url: http://127.0.0.1:9/scim?aadOptscim062020\n  token_file: token\nscope: all\n"
            ),
        )
        .unwrap();
        let job = job.to_str().unwrap();
        let given = setup(&args(&["--job", job])).unwrap();
        assert_eq!(given.base_url, "http://127.0.0.1:9/scim");
        assert_eq!(given.plan.modes, [ScimMode::Aad062020]);
        assert_eq!(
            given.plan.mapping.yaml,
            std::fs::read_to_string(mapping).unwrap()
        );
        assert!(given.plan.mapping.name.ends_with("unifi.yaml"));
        assert!(!given.plan.mapped.manager && given.plan.mapped.groups);
        assert!(
            !given
                .plan
                .targets
                .users
                .iter()
                .any(|t| t.ends_with(":manager"))
        );
        let told = setup(&args(&["--job", job, "--mode", "default"])).unwrap();
        assert_eq!(told.plan.modes, [ScimMode::Default]);
        let elsewhere = setup(&args(&["--job", job, "--url", "http://127.0.0.1:8/v2"])).unwrap();
        assert_eq!(elsewhere.base_url, "http://127.0.0.1:8/v2");
        assert_eq!(elsewhere.plan.modes, [ScimMode::Default]);
    }

    /// `--mode` wins; without it the Tenant URL's flag decides.
    #[test]
    fn the_tenant_url_selects_the_mode_unless_told() {
        assert_eq!(modes(None, ScimMode::Aad062020), [ScimMode::Aad062020]);
        assert_eq!(modes(None, ScimMode::Default), [ScimMode::Default]);
        assert_eq!(
            modes(Some(ConformanceMode::Default), ScimMode::Aad062020),
            [ScimMode::Default]
        );
        assert_eq!(
            modes(Some(ConformanceMode::Both), ScimMode::Default),
            [ScimMode::Default, ScimMode::Aad062020]
        );
    }
}
