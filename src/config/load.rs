//! Loads a job file and everything it names, collecting every problem of the job, directory and
//! mapping files before failing.

use crate::policy::{PolicySettings, RetryLadder};
use chrono::Duration;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use super::{
    ClientAuthMethod, ConfigError, Digest, Job, JobCheck, JobSettings, OAuthClient, Preread,
    Secret, SecretSource, Settings, Target, TokenSource,
};
use crate::auth::jwt::EntraJwt;
use crate::directory::index::assignment_digest;
use crate::directory::{Directory, DirectoryFormat, LineIndex, ResolveError};
use crate::expr::AppRole;
use crate::mapping::{Mapping, MappingSource};
use crate::plan::desired::{self, CompiledMapping};
use crate::provlog::App;
use crate::scim;
use crate::scope::{AppAssignment, AssignmentIndex, DEFAULT_ROLE, ScopeMode, built_in_roles};
use crate::yaml::{self, Checked, Locator, Pending, Problem, Problems};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JobFile {
    directory: String,
    mapping: String,
    target: RawTarget,
    #[serde(default)]
    scope: ScopeMode,
    #[serde(default)]
    app_roles: Vec<RawAppRole>,
    #[serde(default)]
    assignments: Vec<RawAssignment>,
    #[serde(default)]
    settings: RawSettings,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    service_principal: Option<RawServicePrincipal>,
}

/// `service_principal`: the enterprise app's id and name, as Graph's provisioning records show
/// them (`servicePrincipal {id, displayName}`, `resources/provisioningobjectsummary.md`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServicePrincipal {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    url: String,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    token_file: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    oauth: Option<RawOAuth>,
    #[serde(default)]
    entra_jwt: Option<RawEntraJwt>,
}

/// `target.oauth`: OAuth 2.0 client credentials (RFC 6749 §4.4).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOAuth {
    token_url: String,
    client_id: String,
    #[serde(default)]
    client_secret_env: Option<String>,
    #[serde(default)]
    client_secret_file: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    auth_method: ClientAuthMethod,
}

/// `target.entra_jwt`: send Entra's own JWT (no secret token).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntraJwt {
    tenant_id: String,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    claims: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppRole {
    id: String,
    value: String,
    display_name: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssignment {
    principal: String,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    skip_out_of_scope_deletions: Option<bool>,
    deletion_threshold: Option<u32>,
    member_batch_size: Option<u32>,
    concurrency: Option<u32>,
    request_timeout_secs: Option<u64>,
    primary_email_types: Option<Vec<String>>,
    send_empty_roles: Option<bool>,
    user_agent: Option<String>,
    max_response_bytes: Option<u64>,
    delete_not_found_is_success: Option<bool>,
    line_deltas: Option<bool>,
    log_retention_days: Option<u32>,
    state_dir: Option<String>,
    interval_minutes: Option<u32>,
    escrow_retry_hours: Option<Vec<u32>>,
    escrow_max_age_days: Option<u32>,
    quarantine_retry_hours: Option<Vec<u32>>,
    escrow_thresholds: Option<RawThresholds>,
    retry_after: Option<RawRetryAfter>,
}

/// `settings.escrow_thresholds` (spec §8; settings so tests can use small numbers).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    min_failures: Option<u64>,
    max_failure_percent: Option<u64>,
    max_failures: Option<u64>,
    max_total_failures: Option<u64>,
}

/// `settings.retry_after` (429 handling; UNCONFIRMED in the spec).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetryAfter {
    honour_within_cycle: Option<bool>,
    max_wait_secs: Option<u64>,
    max_retries: Option<u32>,
}

/// Role functions that Entra refuses under "sync all" (§1.5).
/// The environment variable that overrides every job's state directory.
pub const STATE_DIR_ENV: &str = "ENTRA_SIM_STATE_DIR";

const ROLE_FUNCTIONS: [&str; 2] = ["SingleAppRoleAssignment(", "AppRoleAssignmentsComplex("];

/// Just the two file names of a job file, read when the whole file does not deserialise, so the
/// directory and mapping it names are still checked.
#[derive(Debug, serde::Deserialize)]
struct JobInputs {
    #[serde(default)]
    directory: Option<String>,
    #[serde(default)]
    mapping: Option<String>,
}

/// Reads and validates `path` and the directory and mapping files it names (relative to it).
pub fn load_job(path: &Path) -> Result<Job, ConfigError> {
    let check = check_job(path)?;
    match check.loaded {
        Some((job, _)) if check.problems.0.is_empty() => Ok(job),
        _ => Err(ConfigError::Invalid(check.problems)),
    }
}

/// A job's name, settings and target from its job file alone, checked as [`check_job`] checks
/// them: what the commands that only read or change the job's state need (`status`, `pause`,
/// `start`, `restart`, `report`). The directory and mapping files are neither read nor checked,
/// so these answer at once on a million-user tenant, and still answer when those files no
/// longer load.
pub fn load_job_settings(path: &Path) -> Result<JobSettings, ConfigError> {
    match load_job_head(path, false)? {
        (Some(job), _, problems) if problems.0.is_empty() => Ok(job),
        (_, _, problems) => Err(ConfigError::Invalid(problems)),
    }
}

/// [`load_job_settings`] and the job's mapping, compiled, still without the directory: what
/// `test-connection` needs (the matching attributes it probes).
pub fn load_job_mapping(path: &Path) -> Result<(JobSettings, CompiledMapping), ConfigError> {
    match load_job_head(path, true)? {
        (Some(job), Some(compiled), problems) if problems.0.is_empty() => Ok((job, compiled)),
        (_, _, problems) => Err(ConfigError::Invalid(problems)),
    }
}

/// The job file's own fields (and the mapping it names, if asked), as far as they go, with
/// every problem found.
fn load_job_head(
    path: &Path,
    with_mapping: bool,
) -> Result<(Option<JobSettings>, Option<CompiledMapping>, Problems), ConfigError> {
    let file = path.display().to_string();
    let text = match read_job(path)? {
        Ok(text) => text,
        Err(problem) => return Ok((None, None, Problems(vec![problem]))),
    };
    let raw: JobFile = match yaml::parse(&file, &text) {
        Ok(raw) => raw,
        Err(problem) => return Ok((None, None, Problems(vec![problem]))),
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let locator = Locator::new(&text);
    let name = job_name(path);
    let mut pending = Vec::new();
    let (target, warnings) = target(&file, &name, raw.target, base, &locator, &mut pending);
    let settings = settings(raw.settings, base, &name, &mut pending);
    let app = app(&name, raw.tenant_id, raw.service_principal, &mut pending);
    let mapping_path = normalize(&base.join(&raw.mapping));
    let mapping = with_mapping.then(|| {
        load_input(
            &mapping_path,
            "mapping",
            &mut pending,
            &mut Digest::default(),
            check_mapping,
        )
    });
    let mut problems = yaml::place_with(&file, &locator, pending);
    let compiled = mapping.and_then(|mapping| {
        problems.0.extend(mapping.problems.0);
        mapping.value.and_then(|(_, compiled)| compiled)
    });
    let job = target.map(|target| JobSettings {
        file: path.to_owned(),
        name,
        app,
        settings,
        target,
        mapping_path,
        warnings,
    });
    Ok((job, compiled, problems))
}

/// The job's app from `tenant_id` and `service_principal` ([`App::new`] fills in stable ids
/// for what they leave out); an id that is not a GUID is a problem at its field.
fn app(
    name: &str,
    tenant_id: Option<String>,
    service_principal: Option<RawServicePrincipal>,
    pending: &mut Vec<Pending>,
) -> App {
    let (sp_id, sp_name) = service_principal.map_or((None, None), |sp| (sp.id, sp.display_name));
    for (field, value) in [("tenant_id", &tenant_id), ("service_principal.id", &sp_id)] {
        if let Some(v) = value
            && !is_guid(v)
        {
            pending.push(Pending::value(
                field,
                format!("\"{v}\" is not a GUID (8-4-4-4-12 hex digits)"),
            ));
        }
    }
    if sp_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        pending.push(Pending::value(
            "service_principal.display_name",
            "must not be empty",
        ));
    }
    App::new(name, tenant_id, sp_id, sp_name)
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits of either case.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A job's name: its file's stem.
fn job_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "job".to_owned())
}

/// Reads and checks `path` and the directory and mapping files it names, going as far as each
/// file allows: every problem of every file, the job file's first, then the directory's, then the
/// mapping's (its target paths and expressions included). Fails only when the job file cannot be
/// read.
pub fn check_job(path: &Path) -> Result<JobCheck, ConfigError> {
    check_job_with(path, || None, None)
}

/// [`check_job`], reading a JSON-lines directory with line-level deltas against the source index
/// of the last clean cycle (see [`Directory::parse_delta`]): the directory may be partial, and
/// the problems and everything the cycle needs are as with every line read. `index` is asked for
/// only once the files are read (it may be loading meanwhile).
pub fn check_job_with(
    path: &Path,
    index: impl FnOnce() -> Option<LineIndex>,
    directory: Option<Preread>,
) -> Result<JobCheck, ConfigError> {
    let mut digest = Digest::default();
    let (text, raw) = match parse_job_file(path, &mut digest)? {
        Parsed::Job(text, raw) => (text, *raw),
        Parsed::Unusable(check) => return Ok(*check),
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let mut pending = Vec::new();
    let inputs = read_inputs(&raw, base, directory, index, &mut pending, &mut digest);
    Ok(check_inputs(path, &text, raw, inputs, pending, &digest))
}

/// A job file, read and parsed.
enum Parsed {
    /// Its text and fields.
    Job(String, Box<JobFile>),
    /// It could not be read or parsed: the check says why (and what else it found).
    Unusable(Box<JobCheck>),
}

/// The job file's text (added to `digest`) and its fields; when it cannot be parsed, the
/// check of what it names as far as that goes ([`check_named_files`]).
fn parse_job_file(path: &Path, digest: &mut Digest) -> Result<Parsed, ConfigError> {
    let file = path.display().to_string();
    let text = match read_job(path)? {
        Ok(text) => text,
        Err(problem) => {
            return Ok(Parsed::Unusable(Box::new(JobCheck {
                loaded: None,
                problems: Problems(vec![problem]),
                warnings: Vec::new(),
                files: vec![file],
            })));
        }
    };
    digest.part(text.as_bytes());
    match yaml::parse(&file, &text) {
        Ok(raw) => Ok(Parsed::Job(text, Box::new(raw))),
        Err(problem) => {
            let base = path.parent().unwrap_or(Path::new(""));
            let check = check_named_files(&file, &text, base, problem, digest);
            Ok(Parsed::Unusable(Box::new(check)))
        }
    }
}

/// A job file that does not parse: its problem, and those of the directory and mapping it
/// still names (read through [`JobInputs`]), so they are checked too.
fn check_named_files(
    file: &str,
    text: &str,
    base: &Path,
    problem: Problem,
    digest: &mut Digest,
) -> JobCheck {
    let mut problems = vec![problem];
    let mut warnings = Vec::new();
    let mut files = vec![file.to_owned()];
    if let Ok(inputs) = yaml::parse::<JobInputs>(file, text) {
        let mut pending = Vec::new();
        let mut others = Vec::new();
        if let Some(name) = inputs.directory {
            let input = normalize(&base.join(name));
            files.push(input.display().to_string());
            let directory = load_input(&input, "directory", &mut pending, digest, Directory::check);
            others.extend(directory.problems.0);
            if let Some(dir) = &directory.value {
                warnings.extend(dir.warnings().iter().cloned());
            }
        }
        if let Some(name) = inputs.mapping {
            let input = normalize(&base.join(name));
            files.push(input.display().to_string());
            let mapping = load_input(&input, "mapping", &mut pending, digest, check_mapping);
            others.extend(mapping.problems.0);
            if let Some((mapping, _)) = &mapping.value {
                warnings.extend(mapping.warnings());
            }
        }
        problems.extend(yaml::place(file, text, pending).0);
        problems.extend(others);
    }
    JobCheck {
        loaded: None,
        problems: Problems(problems),
        warnings,
        files,
    }
}

/// The directory and mapping files a job names, read and checked as far as each goes.
struct Inputs {
    directory_path: PathBuf,
    /// The directory's text, kept while users it left unread may still be read from it.
    directory_text: Option<String>,
    directory: Checked<Directory>,
    mapping_path: PathBuf,
    mapping: Checked<(Mapping, Option<CompiledMapping>)>,
}

/// Reads the job's directory (from `preread` when it was read already) and mapping, adding
/// their bytes to `digest`; a JSON-lines directory is read by line-level deltas against `index`
/// once the mapping is compiled. A file that cannot be read is a problem of the job's field.
fn read_inputs(
    raw: &JobFile,
    base: &Path,
    preread: Option<Preread>,
    index: impl FnOnce() -> Option<LineIndex>,
    pending: &mut Vec<Pending>,
    digest: &mut Digest,
) -> Inputs {
    let directory_path = normalize(&base.join(&raw.directory));
    let directory_file = directory_path.display().to_string();
    let directory_read = match preread.filter(|d| d.path == directory_path) {
        Some(read) => {
            digest.part_hashed(read.hash);
            Some(yaml::text_of(&directory_file, read.bytes))
        }
        None => read_input(&directory_path, "directory", pending, digest),
    };
    crate::stage!("directory read");
    let mapping_path = normalize(&base.join(&raw.mapping));
    let mapping = load_input(&mapping_path, "mapping", pending, digest, check_mapping);
    let compiled = mapping.value.as_ref().and_then(|(_, c)| c.as_ref());
    let (directory_text, directory) = match directory_read {
        None => (
            None,
            Checked {
                value: None,
                problems: Problems::default(),
            },
        ),
        Some(Err(problem)) => (None, Checked::unusable(problem)),
        Some(Ok(text)) => {
            let checked = match compiled {
                Some(compiled)
                    if raw.settings.line_deltas != Some(false)
                        && DirectoryFormat::for_path(&directory_file)
                            == DirectoryFormat::JsonLines =>
                {
                    let index = index();
                    crate::stage!("source index ready");
                    check_directory_delta(&directory_file, &text, index, compiled)
                }
                _ => Directory::check(&directory_file, &text),
            };
            (Some(text), checked)
        }
    };
    Inputs {
        directory_path,
        directory_text,
        directory,
        mapping_path,
        mapping,
    }
}

/// Checks the job file's own fields against what its inputs hold — target, app roles,
/// assignments (resolved in the directory), scope, settings, app — and builds the job when
/// every file could be read; every problem and warning in file order.
fn check_inputs(
    path: &Path,
    text: &str,
    raw: JobFile,
    mut inputs: Inputs,
    mut pending: Vec<Pending>,
    digest: &Digest,
) -> JobCheck {
    let file = path.display().to_string();
    let base = path.parent().unwrap_or(Path::new(""));
    let locator = Locator::new(text);
    let name = job_name(path);
    let (target, mut warnings) = target(&file, &name, raw.target, base, &locator, &mut pending);
    let app_roles = app_roles(raw.app_roles, &mut pending);
    let mut dropped = Vec::new();
    let assigned = Assigned {
        raw: raw.assignments,
        scope: raw.scope,
        app_roles: &app_roles,
    };
    let (assignments, assignment_index) = assigned.resolve(&mut inputs, &mut pending, &mut dropped);
    if let (ScopeMode::All, Some((mapping, _))) = (raw.scope, &inputs.mapping.value) {
        check_sync_all(mapping, &mut pending);
    }
    let settings = settings(raw.settings, base, &name, &mut pending);
    let app = app(&name, raw.tenant_id, raw.service_principal, &mut pending);

    let mut problems = yaml::place_with(&file, &locator, pending).0;
    // References naming no object are deleted objects' (dropped): warnings, in the order of
    // the problems (the job file's, the directory's, the mapping's).
    warnings.extend(yaml::place_with(&file, &locator, dropped).0);
    warnings.sort_by_key(|w| w.location);
    if let Some(dir) = &inputs.directory.value {
        warnings.extend(dir.warnings().iter().cloned());
    }
    if let Some((mapping, _)) = &inputs.mapping.value {
        warnings.extend(mapping.warnings());
    }
    let files = vec![
        file,
        inputs.directory_path.display().to_string(),
        inputs.mapping_path.display().to_string(),
    ];
    problems.extend(inputs.directory.problems.0);
    problems.extend(inputs.mapping.problems.0);
    let loaded = match (inputs.directory.value, inputs.mapping.value, target) {
        (Some(directory), Some((mapping, Some(compiled))), Some(target)) => Some((
            Job {
                // An inline token is part of the job file's bytes: no fingerprint of them is kept.
                source_digest: (!matches!(target.token, TokenSource::Inline(_)))
                    .then(|| digest.finish()),
                file: path.to_owned(),
                name,
                app,
                directory_path: inputs.directory_path,
                directory,
                mapping_path: inputs.mapping_path,
                mapping,
                target,
                scope: raw.scope,
                app_roles,
                assignments,
                settings,
                warnings: warnings.clone(),
                assignment_index,
            },
            compiled,
        )),
        _ => None,
    };
    JobCheck {
        loaded,
        problems: Problems(problems),
        warnings,
        files,
    }
}

/// The job file's assignments, to be resolved in its directory.
struct Assigned<'a> {
    raw: Vec<RawAssignment>,
    scope: ScopeMode,
    app_roles: &'a [AppRole],
}

impl Assigned<'_> {
    /// The assignments resolved to objectIds (a principal naming no object is a deleted one's:
    /// `dropped`) and expanded over the directory's groups. Users the directory left unread
    /// whose assignment changed are read after all: their fingerprint changed.
    fn resolve(
        self,
        inputs: &mut Inputs,
        pending: &mut Vec<Pending>,
        dropped: &mut Vec<Pending>,
    ) -> (Vec<AppAssignment>, AssignmentIndex) {
        let directory = &mut inputs.directory;
        let assignments = directory
            .value
            .as_ref()
            .map(|dir| assignments(self.raw, dir, self.app_roles, pending, dropped))
            .unwrap_or_default();
        let index = directory
            .value
            .as_ref()
            .map(|dir| AssignmentIndex::new(&assignments, dir))
            .unwrap_or_default();
        crate::stage!("directory parsed, assignments indexed");
        if let (Some(dir), Some(text)) = (directory.value.as_mut(), &inputs.directory_text)
            && dir.is_partial()
        {
            let file = inputs.directory_path.display().to_string();
            let read = dir.read_ghosts(&file, text, |id, before| {
                assignment_digest(index.user_parts(id, self.scope)) != before
            });
            if let Err(problems) = read {
                directory.problems.0.extend(problems.0);
            }
        }
        crate::stage!("unread users with a changed assignment read");
        inputs.directory_text = None;
        (assignments, index)
    }
}

/// Checks a mapping file and compiles what could be read of it, so its target paths and
/// expressions are checked along with the rest; the compiled mapping is there only when the
/// mapping could be compiled.
fn check_mapping(file: &str, text: &str) -> Checked<(Mapping, Option<CompiledMapping>)> {
    let Checked { value, problems } = Mapping::check(file, text);
    let Some(mapping) = value else {
        return Checked {
            value: None,
            problems,
        };
    };
    let mut problems = problems.0;
    let compiled = match desired::compile(&mapping) {
        Ok(compiled) => Some(compiled),
        Err(more) => {
            problems.extend(more.0);
            problems.sort_by_key(|p| p.location);
            None
        }
    };
    Checked {
        value: Some((mapping, compiled)),
        problems: Problems(problems),
    }
}

/// A JSON-lines directory read by line-level deltas against `index` (every line without one).
fn check_directory_delta(
    file: &str,
    text: &str,
    index: Option<LineIndex>,
    compiled: &CompiledMapping,
) -> Checked<Directory> {
    let Some(index) = index else {
        return Directory::check(file, text);
    };
    Checked::from_result(Directory::parse_delta(
        file,
        text,
        index,
        &compiled.fingerprint,
    ))
}

/// The job file's text; bytes that are not UTF-8 are a located problem of it.
fn read_job(path: &Path) -> Result<Result<String, Problem>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(yaml::text_of(&path.display().to_string(), bytes))
}

/// Reads a file the job names, adding its bytes to `digest`: `None` when it cannot be read (a
/// problem of the job's `field`), a problem of the file itself when it is not UTF-8.
fn read_input(
    path: &Path,
    field: &str,
    pending: &mut Vec<Pending>,
    digest: &mut Digest,
) -> Option<Result<String, Problem>> {
    match std::fs::read(path) {
        Err(err) => {
            pending.push(Pending::value(
                field,
                format!("cannot read {}: {err}", path.display()),
            ));
            None
        }
        Ok(bytes) => {
            digest.part(&bytes);
            Some(yaml::text_of(&path.display().to_string(), bytes))
        }
    }
}

/// Reads and checks a file the job names, adding its bytes to `digest`; an unreadable file is a
/// problem of the job's `field`.
fn load_input<T>(
    path: &Path,
    field: &str,
    pending: &mut Vec<Pending>,
    digest: &mut Digest,
    check: impl Fn(&str, &str) -> Checked<T>,
) -> Checked<T> {
    match read_input(path, field, pending, digest) {
        Some(Ok(text)) => check(&path.display().to_string(), &text),
        Some(Err(problem)) => Checked::unusable(problem),
        None => Checked {
            value: None,
            problems: Problems::default(),
        },
    }
}

/// Collapses `.` and `dir/..` without touching the filesystem, so messages name
/// `mappings/x.yaml` rather than `jobs/../mappings/x.yaml`.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn target(
    file: &str,
    job_name: &str,
    raw: RawTarget,
    base: &Path,
    locator: &Locator,
    pending: &mut Vec<Pending>,
) -> (Option<Target>, Vec<Problem>) {
    let mut warnings = Vec::new();
    let url = raw.url.trim_end_matches('/').to_owned();
    if let Err(err) = scim::split_tenant_url(&url) {
        pending.push(Pending::value("target.url", err.to_string()));
    }
    let given: Vec<&str> = [
        raw.token_env.as_ref().map(|_| "token_env"),
        raw.token_file.as_ref().map(|_| "token_file"),
        raw.token.as_ref().map(|_| "token"),
        raw.oauth.as_ref().map(|_| "oauth"),
        raw.entra_jwt.as_ref().map(|_| "entra_jwt"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() != 1 {
        let found = if given.is_empty() {
            "none".to_owned()
        } else {
            given.join(" and ")
        };
        pending.push(Pending::value(
            "target",
            format!(
                "exactly one of token_env, token_file, token, oauth or entra_jwt is required (found {found})"
            ),
        ));
        return (None, warnings);
    }
    let token = if let Some(name) = raw.token_env {
        TokenSource::Env(name)
    } else if let Some(token_file) = raw.token_file {
        TokenSource::File(normalize(&base.join(token_file)))
    } else if let Some(oauth) = raw.oauth {
        match oauth_client(oauth, base, pending) {
            Some(client) => TokenSource::OAuth(client),
            None => return (None, warnings),
        }
    } else if let Some(jwt) = raw.entra_jwt {
        TokenSource::EntraJwt(entra_jwt(jwt, job_name, pending))
    } else {
        warnings.push(Problem {
            file: file.to_owned(),
            location: locator.value("target.token"),
            field: "target.token".to_owned(),
            message: "inline token is stored in plain text; prefer token_env or token_file"
                .to_owned(),
        });
        TokenSource::Inline(Secret::new(raw.token.unwrap_or_default()))
    };
    (Some(Target { url, token }), warnings)
}

/// `target.oauth`, checked: an http(s) token URL, a client id, exactly one secret source.
fn oauth_client(raw: RawOAuth, base: &Path, pending: &mut Vec<Pending>) -> Option<OAuthClient> {
    let before = pending.len();
    let token_url = raw.token_url.trim().to_owned();
    if let Err(message) = token_url_problem(&token_url) {
        pending.push(Pending::value("target.oauth.token_url", message));
    }
    if raw.client_id.trim().is_empty() {
        pending.push(Pending::value(
            "target.oauth.client_id",
            "must not be empty",
        ));
    }
    if raw.scope.as_ref().is_some_and(|s| s.trim().is_empty()) {
        pending.push(Pending::value(
            "target.oauth.scope",
            "must not be empty (leave it out to send no scope)",
        ));
    }
    let client_secret = match (raw.client_secret_env, raw.client_secret_file) {
        (Some(name), None) => Some(SecretSource::Env(name)),
        (None, Some(file)) => Some(SecretSource::File(normalize(&base.join(file)))),
        (env, file) => {
            let found = if env.is_some() && file.is_some() {
                "both"
            } else {
                "none"
            };
            pending.push(Pending::value(
                "target.oauth",
                format!(
                    "exactly one of client_secret_env or client_secret_file is required (found {found})"
                ),
            ));
            None
        }
    };
    if pending.len() != before {
        return None;
    }
    Some(OAuthClient {
        token_url,
        client_id: raw.client_id,
        client_secret: client_secret?,
        scope: raw.scope,
        auth_method: raw.auth_method,
    })
}

/// Why `text` is no usable token endpoint: an absolute http or https URL with a host and no
/// fragment (RFC 6749 §3.2: "MUST NOT include a fragment component").
pub fn token_url_problem(text: &str) -> Result<(), String> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(format!("{text:?} is not an absolute http or https URL"));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("the scheme {scheme:?} is not http or https"));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) || rest.contains(char::is_whitespace) {
        return Err(format!("{text:?} has no valid host"));
    }
    if rest.contains('#') {
        return Err("a token endpoint URL must not have a fragment (RFC 6749 §3.2)".to_owned());
    }
    Ok(())
}

/// `target.entra_jwt`, its GUIDs checked; `appid` defaults to a stable GUID of the job's name.
fn entra_jwt(raw: RawEntraJwt, job_name: &str, pending: &mut Vec<Pending>) -> EntraJwt {
    for (field, value) in [
        ("target.entra_jwt.tenant_id", Some(&raw.tenant_id)),
        ("target.entra_jwt.app_id", raw.app_id.as_ref()),
    ] {
        if let Some(v) = value
            && !is_guid(v)
        {
            pending.push(Pending::value(
                field,
                format!("\"{v}\" is not a GUID (8-4-4-4-12 hex digits)"),
            ));
        }
    }
    if raw.claims.keys().any(|k| k.trim().is_empty()) {
        pending.push(Pending::value(
            "target.entra_jwt.claims",
            "a claim name must not be empty",
        ));
    }
    EntraJwt {
        app_id: raw
            .app_id
            .unwrap_or_else(|| crate::provlog::stable_guid("entra-sim jwt app", job_name)),
        tenant_id: raw.tenant_id,
        claims: raw.claims,
    }
}

fn app_roles(raw: Vec<RawAppRole>, pending: &mut Vec<Pending>) -> Vec<AppRole> {
    let mut values = HashSet::new();
    let mut ids = HashSet::new();
    let mut roles = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        for (key, text) in [
            ("id", &r.id),
            ("value", &r.value),
            ("display_name", &r.display_name),
        ] {
            if text.trim().is_empty() {
                pending.push(Pending::value(
                    format!("app_roles[{i}].{key}"),
                    "must not be empty",
                ));
            }
        }
        if !ids.insert(r.id.clone()) {
            pending.push(Pending::value(
                format!("app_roles[{i}].id"),
                format!("duplicate app role id \"{}\"", r.id),
            ));
        }
        if !values.insert(r.value.clone()) {
            pending.push(Pending::value(
                format!("app_roles[{i}].value"),
                format!("duplicate app role value \"{}\"", r.value),
            ));
        }
        roles.push(AppRole {
            id: r.id,
            value: r.value,
            display_name: r.display_name,
        });
    }
    roles
}

/// The job's assignments, principals resolved. A principal naming no object is a deleted one
/// (Entra removes a deleted object's app role assignments): the assignment is dropped with a
/// warning in `dropped`. An assignment naming no role grants [`DEFAULT_ROLE`]; roles are looked
/// up among the declared ones first, then Entra's [`built_in_roles`].
fn assignments(
    raw: Vec<RawAssignment>,
    directory: &Directory,
    roles: &[AppRole],
    pending: &mut Vec<Pending>,
    dropped: &mut Vec<Pending>,
) -> Vec<AppAssignment> {
    let built_in = built_in_roles();
    let known = || roles.iter().chain(&built_in);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, a) in raw.into_iter().enumerate() {
        let field = format!("assignments[{i}].principal");
        let principal = match directory.resolve(&a.principal) {
            Ok(p) => Some(p),
            Err(ResolveError::NotFound(_)) => {
                let message = directory.dropped_reference(&a.principal, dropped.len());
                dropped.push(Pending::value(field, message));
                None
            }
            // Reported at the duplicate, in the directory.
            Err(ResolveError::Duplicate(_)) => None,
            Err(err @ ResolveError::Ambiguous(_)) => {
                pending.push(Pending::value(field, format!("ambiguous principal: {err}")));
                None
            }
        };
        let value = a.role.as_deref().unwrap_or(DEFAULT_ROLE);
        let role = known().find(|r| r.value == value).cloned();
        if role.is_none() {
            let hint = yaml::did_you_mean(value, known().map(|r| r.value.as_str()))
                .map(|c| format!(" (did you mean \"{c}\"?)"))
                .unwrap_or_default();
            pending.push(Pending::value(
                format!("assignments[{i}].role"),
                format!(
                    "no app role with value \"{value}\" among app_roles and the built-in roles User, msiam_access and Default Access{hint}"
                ),
            ));
        }
        if let (Some(principal), Some(role)) = (principal, role) {
            if !seen.insert((principal.object_id.clone(), role.id.clone())) {
                pending.push(Pending::value(
                    format!("assignments[{i}]"),
                    "this assignment is repeated",
                ));
                continue;
            }
            out.push(AppAssignment { principal, role });
        }
    }
    out
}

fn check_sync_all(mapping: &Mapping, pending: &mut Vec<Pending>) {
    let uses_roles = mapping
        .users
        .attributes
        .iter()
        .find_map(|a| match &a.source {
            MappingSource::Expression(e) => ROLE_FUNCTIONS
                .iter()
                .find(|f| e.text.contains(*f))
                .map(|f| {
                    format!(
                        "{}:{} uses {}",
                        mapping.file,
                        e.location,
                        f.trim_end_matches('(')
                    )
                }),
            _ => None,
        });
    if let Some(usage) = uses_roles {
        pending.push(Pending::value(
            "scope",
            format!("scope `all` is incompatible with app-role mapping functions ({usage})"),
        ));
    }
}

fn settings(raw: RawSettings, base: &Path, name: &str, pending: &mut Vec<Pending>) -> Settings {
    let mut at_least_one = |key: &str, value: u64| {
        if value == 0 {
            pending.push(Pending::value(
                format!("settings.{key}"),
                "must be at least 1",
            ));
        }
    };
    let member_batch_size = raw.member_batch_size.unwrap_or(100);
    let concurrency = raw.concurrency.unwrap_or(1);
    let request_timeout_secs = raw.request_timeout_secs.unwrap_or(100);
    at_least_one("member_batch_size", u64::from(member_batch_size));
    at_least_one("concurrency", u64::from(concurrency));
    at_least_one("request_timeout_secs", request_timeout_secs);
    let max_response_bytes = raw.max_response_bytes.unwrap_or(16 * 1024 * 1024);
    at_least_one("max_response_bytes", max_response_bytes);
    if let Some(threshold) = raw.deletion_threshold {
        at_least_one("deletion_threshold", u64::from(threshold));
    }
    let log_retention_days = raw.log_retention_days.unwrap_or(30);
    at_least_one("log_retention_days", u64::from(log_retention_days));
    let policy = policy_settings(&raw, pending);
    let primary_email_types = raw
        .primary_email_types
        .unwrap_or_else(|| vec!["work".to_owned()]);
    for (i, t) in primary_email_types.iter().enumerate() {
        if t.trim().is_empty() {
            pending.push(Pending::value(
                format!("settings.primary_email_types[{i}]"),
                "must not be empty",
            ));
        }
    }
    if let Some(agent) = &raw.user_agent
        && (agent.trim().is_empty() || agent.chars().any(char::is_control))
    {
        pending.push(Pending::value(
            "settings.user_agent",
            "must be a non-empty header value without control characters",
        ));
    }
    let state_dir = state_dir(base, name, raw.state_dir.as_deref());
    Settings {
        skip_out_of_scope_deletions: raw.skip_out_of_scope_deletions.unwrap_or(false),
        deletion_threshold: raw.deletion_threshold,
        member_batch_size,
        concurrency,
        request_timeout_secs,
        primary_email_types,
        send_empty_roles: raw.send_empty_roles.unwrap_or(true),
        user_agent: raw.user_agent,
        max_response_bytes,
        delete_not_found_is_success: raw.delete_not_found_is_success.unwrap_or(true),
        line_deltas: raw.line_deltas.unwrap_or(true),
        log_retention_days,
        state_dir,
        policy,
    }
}

/// The state directory: `ENTRA_SIM_STATE_DIR` when set (every command then reads and writes that
/// state: how the copy a `run --virtual-time --keep-state` leaves is inspected), else
/// `settings.state_dir` relative to the job file, else `.entra-sim/<job>` beside it.
pub(super) fn state_dir(base: &Path, name: &str, given: Option<&str>) -> PathBuf {
    if let Some(dir) = std::env::var_os(STATE_DIR_ENV).filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    match given {
        Some(dir) => normalize(&base.join(dir)),
        None => normalize(&base.join(".entra-sim").join(name)),
    }
}

/// A ladder of hours (+6 h, +12 h, +24 h, then every last step) from a settings list.
fn ladder(hours: &[u32], key: &str, pending: &mut Vec<Pending>) -> RetryLadder {
    if hours.is_empty() || hours.contains(&0) || hours.windows(2).any(|w| w[0] >= w[1]) {
        pending.push(Pending::value(
            format!("settings.{key}"),
            "must be a non-empty list of increasing hours, each at least 1",
        ));
        return RetryLadder::documented();
    }
    let steps: Vec<Duration> = hours
        .iter()
        .map(|h| Duration::hours(i64::from(*h)))
        .collect();
    let then_every = match hours {
        [.., a, b] => Duration::hours(i64::from(b - a)),
        _ => Duration::hours(i64::from(hours.first().copied().unwrap_or(24))),
    };
    RetryLadder { steps, then_every }
}

fn policy_settings(raw: &RawSettings, pending: &mut Vec<Pending>) -> PolicySettings {
    let mut policy = PolicySettings::default();
    if let Some(minutes) = raw.interval_minutes {
        if minutes == 0 {
            pending.push(Pending::value(
                "settings.interval_minutes",
                "must be at least 1",
            ));
        }
        policy.schedule.interval = Duration::minutes(i64::from(minutes.max(1)));
    }
    if let Some(hours) = &raw.escrow_retry_hours {
        policy.escrow.ladder = ladder(hours, "escrow_retry_hours", pending);
    }
    if let Some(days) = raw.escrow_max_age_days {
        policy.escrow.max_age = Duration::days(i64::from(days));
    }
    if let Some(hours) = &raw.quarantine_retry_hours {
        policy.schedule.quarantine_ladder = ladder(hours, "quarantine_retry_hours", pending);
    }
    if let Some(t) = &raw.escrow_thresholds {
        let d = &mut policy.thresholds;
        d.min_failures = t.min_failures.unwrap_or(d.min_failures);
        d.max_failure_percent = t.max_failure_percent.unwrap_or(d.max_failure_percent);
        d.max_failures = t.max_failures.unwrap_or(d.max_failures);
        d.max_total_failures = t.max_total_failures.unwrap_or(d.max_total_failures);
    }
    if let Some(r) = &raw.retry_after {
        let d = &mut policy.retry_after;
        d.honour_within_cycle = r.honour_within_cycle.unwrap_or(d.honour_within_cycle);
        d.max_wait_secs = r.max_wait_secs.unwrap_or(d.max_wait_secs);
        d.max_retries = r.max_retries.unwrap_or(d.max_retries);
    }
    policy
}
