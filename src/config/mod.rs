//! Job files (`jobs/*.yaml`) → a validated [`Job`]: the directory and mapping it names loaded and
//! checked, the SCIM target and its token source, scope, app roles, resolved assignments and
//! typed settings. This is shell code: it reads files (and, on request, the token's environment
//! variable or file).

mod digest;
mod load;
mod secret;

use std::path::PathBuf;

pub use digest::{Digest, JobSources, Preread, job_sources, state_dir_of};
pub use load::{
    STATE_DIR_ENV, check_job, check_job_with, load_job, load_job_mapping, load_job_settings,
    token_url_problem,
};
pub use secret::{
    ClientAuthMethod, Credential, OAuthClient, REDACTED, Secret, SecretSource, TokenError,
    TokenSource, redact,
};

use crate::directory::Directory;
use crate::expr::AppRole;
use crate::mapping::Mapping;
use crate::plan::desired::CompiledMapping;
use crate::scope::{AppAssignment, AssignmentIndex, ScopeMode};
use crate::yaml::{Problem, Problems};

/// A loaded, validated provisioning job.
#[derive(Debug, Clone)]
pub struct Job {
    /// The job file as given.
    pub file: PathBuf,
    /// The job's name: the job file's stem.
    pub name: String,
    /// The enterprise app: its tenant, service principal and name (`tenant_id`,
    /// `service_principal`, or stable defaults derived from `name`).
    pub app: crate::provlog::App,
    /// The directory file, resolved relative to the job file.
    pub directory_path: PathBuf,
    /// The loaded directory.
    pub directory: Directory,
    /// The mapping file, resolved relative to the job file.
    pub mapping_path: PathBuf,
    /// The loaded mapping (scoping regexes compiled).
    pub mapping: Mapping,
    /// The SCIM endpoint.
    pub target: Target,
    /// Assigned only (default) or all users and groups.
    pub scope: ScopeMode,
    /// The app's roles.
    pub app_roles: Vec<AppRole>,
    /// App assignments with principals resolved to objectIds.
    pub assignments: Vec<AppAssignment>,
    /// Typed settings with defaults filled in.
    pub settings: Settings,
    /// Located warnings (e.g. an inline token) for the CLI to print; not errors.
    pub warnings: Vec<Problem>,
    /// The fingerprint of the bytes this job was loaded from (job file, directory, mapping) and
    /// of this build ([`Digest`]); none for a job file holding an inline token, so that no
    /// function of the secret is stored.
    pub source_digest: Option<String>,
    /// `assignments` expanded over the directory's groups, computed once at load.
    pub(crate) assignment_index: AssignmentIndex,
}

impl Job {
    /// The assignment index of this job's directory and assignments.
    pub fn assignment_index(&self) -> &AssignmentIndex {
        &self.assignment_index
    }
}

/// What a job file says by itself — name, settings, target — without its directory and mapping
/// ([`load_job_settings`]).
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// The job file as given.
    pub file: PathBuf,
    /// The job's name: the job file's stem.
    pub name: String,
    /// The enterprise app: its tenant, service principal and name (`tenant_id`,
    /// `service_principal`, or stable defaults derived from `name`).
    pub app: crate::provlog::App,
    /// Typed settings with defaults filled in.
    pub settings: Settings,
    /// The SCIM endpoint.
    pub target: Target,
    /// The mapping file, resolved relative to the job file.
    pub mapping_path: PathBuf,
    /// Located warnings (e.g. an inline token); not problems.
    pub warnings: Vec<Problem>,
}

/// What checking a job found: every problem of the job, directory and mapping files, and the
/// job with its compiled mapping when all three could be built.
#[derive(Debug)]
pub struct JobCheck {
    /// The job and its compiled mapping; only meaningful when `problems` is empty.
    pub loaded: Option<(Job, CompiledMapping)>,
    /// Every problem, located: the job file's, then the directory's, then the mapping's.
    pub problems: Problems,
    /// Located warnings (an inline token, a reference naming no object — a deleted one); not
    /// problems. In the same file order as `problems`.
    pub warnings: Vec<Problem>,
    /// The files problems are reported in, in that order: the job file, the directory, the
    /// mapping (as far as the job file names them).
    pub files: Vec<String>,
}

impl JobCheck {
    /// Makes every warning a problem (`validate --strict`), in file and line order.
    pub fn warnings_as_problems(&mut self) {
        let problems = &mut self.problems.0;
        problems.append(&mut self.warnings);
        let files = &self.files;
        problems.sort_by_key(|p| {
            let rank = files.iter().position(|f| *f == p.file);
            (rank.unwrap_or(files.len()), p.location)
        });
    }
}

/// The SCIM target ("Tenant URL" and "Secret Token").
#[derive(Debug, Clone)]
pub struct Target {
    /// The base URL, e.g. `http://127.0.0.1:8080/scim/v2`, without a trailing `/`.
    pub url: String,
    /// Where the bearer token comes from (a static token, or an OAuth client).
    pub token: TokenSource,
}

/// Job settings. Unknown keys are rejected; every key has a default.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `SkipOutOfScopeDeletions`: users leaving scope are not disabled (default false).
    pub skip_out_of_scope_deletions: bool,
    /// Accidental-deletion threshold (`QuarantineTooManyDeletesThreshold`); `None` = off (default).
    pub deletion_threshold: Option<u32>,
    /// Members per group-membership PATCH (default 100; Entra's value is UNCONFIRMED).
    pub member_batch_size: u32,
    /// Requests in flight at once (default 1).
    pub concurrency: u32,
    /// Per-request timeout in seconds (default 100, .NET HttpClient's default; Entra's value is
    /// UNCONFIRMED).
    pub request_timeout_secs: u64,
    /// Email types sent with `"primary": true` (default `["work"]`; the rule for other types is
    /// UNCONFIRMED).
    pub primary_email_types: Vec<String>,
    /// Send `roles: []` for users without roles (default true, as in the DOC POST sample).
    pub send_empty_roles: bool,
    /// A `User-Agent` header to send (default none: Entra sends none — see `http`).
    pub user_agent: Option<String>,
    /// The largest response body read (default 16 MiB); a larger one fails its entry unread.
    pub max_response_bytes: u64,
    /// A 404 answering a DELETE counts as success: the object is gone either way (default true;
    /// Entra's handling is UNCONFIRMED).
    pub delete_not_found_is_success: bool,
    /// Read a JSON-lines directory by line-level deltas: after a clean cycle, only the lines
    /// that changed are parsed (default true; false reads every line every cycle — the same
    /// result, slower; for comparing).
    pub line_deltas: bool,
    /// Days a provisioning-log record is kept (default 30, Entra's retention with P1/P2; 7 is
    /// Entra Free's). Older records are dropped when a cycle starts, at most about daily.
    pub log_retention_days: u32,
    /// Escrow ladder, 429 policy, escrow thresholds and schedule (spec §8, §9; mostly UNCONFIRMED
    /// timings, hence settings).
    pub policy: crate::policy::PolicySettings,
    /// Where the job's state lives (default `.entra-sim/<job file stem>` beside the job file;
    /// a relative value is taken relative to the job file).
    pub state_dir: PathBuf,
}

/// Why a job could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The job file itself could not be read.
    #[error("cannot read job file {path}: {source}")]
    Read {
        /// The job file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The job, directory or mapping file is invalid: every problem, located.
    #[error("{0}")]
    Invalid(Problems),
}

#[cfg(test)]
mod tests;
