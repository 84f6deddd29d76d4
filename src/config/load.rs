//! Loads a job file and everything it names, collecting every problem of the job, directory and
//! mapping files before failing.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use super::{ConfigError, Job, Secret, Settings, Target, TokenSource};
use crate::directory::Directory;
use crate::expr::AppRole;
use crate::mapping::{Mapping, MappingSource};
use crate::scope::{AppAssignment, ScopeMode};
use crate::yaml::{self, Locator, Pending, Problem, Problems};

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
    delete_not_found_is_success: Option<bool>,
    state_dir: Option<String>,
}

/// Role functions that Entra refuses under "sync all" (§1.5).
const ROLE_FUNCTIONS: [&str; 2] = ["SingleAppRoleAssignment(", "AppRoleAssignmentsComplex("];

/// Reads and validates `path` and the directory and mapping files it names (relative to it).
pub fn load_job(path: &Path) -> Result<Job, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file = path.display().to_string();
    let raw: JobFile =
        yaml::parse(&file, &text).map_err(|p| ConfigError::Invalid(Problems(vec![p])))?;
    let locator = Locator::new(&text);
    let base = path.parent().unwrap_or(Path::new(""));
    let mut pending = Vec::new();
    let mut others = Vec::new();

    let directory_path = normalize(&base.join(&raw.directory));
    let directory = load_input(
        &directory_path,
        "directory",
        &mut pending,
        &mut others,
        Directory::parse,
    );
    let mapping_path = normalize(&base.join(&raw.mapping));
    let mapping = load_input(
        &mapping_path,
        "mapping",
        &mut pending,
        &mut others,
        Mapping::parse,
    );

    let (target, warnings) = target(&file, raw.target, base, &locator, &mut pending);
    let app_roles = app_roles(raw.app_roles, &mut pending);
    let assignments = directory
        .as_ref()
        .map(|dir| assignments(raw.assignments, dir, &app_roles, &mut pending))
        .unwrap_or_default();
    if let (ScopeMode::All, Some(mapping)) = (raw.scope, &mapping) {
        check_sync_all(mapping, &mut pending);
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "job".to_owned());
    let settings = settings(raw.settings, base, &name, &mut pending);

    let mut problems = yaml::place_with(&file, &locator, pending).0;
    problems.extend(others);
    match (directory, mapping, target) {
        (Some(directory), Some(mapping), Some(target)) if problems.is_empty() => Ok(Job {
            file: path.to_owned(),
            name,
            directory_path,
            directory,
            mapping_path,
            mapping,
            target,
            scope: raw.scope,
            app_roles,
            assignments,
            settings,
            warnings,
        }),
        _ => Err(ConfigError::Invalid(Problems(problems))),
    }
}

/// Reads and parses a file the job names; an unreadable file is a problem of the job's field,
/// an invalid one brings its own located problems.
fn load_input<T>(
    path: &Path,
    field: &str,
    pending: &mut Vec<Pending>,
    others: &mut Vec<Problem>,
    parse: impl Fn(&str, &str) -> Result<T, Problems>,
) -> Option<T> {
    match std::fs::read_to_string(path) {
        Err(err) => {
            pending.push(Pending::value(
                field,
                format!("cannot read {}: {err}", path.display()),
            ));
            None
        }
        Ok(text) => match parse(&path.display().to_string(), &text) {
            Ok(value) => Some(value),
            Err(problems) => {
                others.extend(problems.0);
                None
            }
        },
    }
}

/// Collapses `.` and `dir/..` without touching the filesystem, so messages name
/// `mappings/x.yaml` rather than `jobs/../mappings/x.yaml`.
fn normalize(path: &Path) -> PathBuf {
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
    raw: RawTarget,
    base: &Path,
    locator: &Locator,
    pending: &mut Vec<Pending>,
) -> (Option<Target>, Vec<Problem>) {
    let mut warnings = Vec::new();
    let url = raw.url.trim_end_matches('/').to_owned();
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    if host.is_none_or(str::is_empty) {
        pending.push(Pending::value(
            "target.url",
            format!("\"{}\" is not an http:// or https:// URL", raw.url),
        ));
    }
    let given: Vec<&str> = [
        raw.token_env.as_ref().map(|_| "token_env"),
        raw.token_file.as_ref().map(|_| "token_file"),
        raw.token.as_ref().map(|_| "token"),
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
            format!("exactly one of token_env, token_file or token is required (found {found})"),
        ));
        return (None, warnings);
    }
    let token = if let Some(name) = raw.token_env {
        TokenSource::Env(name)
    } else if let Some(token_file) = raw.token_file {
        TokenSource::File(normalize(&base.join(token_file)))
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

fn assignments(
    raw: Vec<RawAssignment>,
    directory: &Directory,
    roles: &[AppRole],
    pending: &mut Vec<Pending>,
) -> Vec<AppAssignment> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, a) in raw.into_iter().enumerate() {
        let principal = match directory.resolve(&a.principal) {
            Ok(p) => Some(p),
            Err(err) => {
                pending.push(Pending::value(
                    format!("assignments[{i}].principal"),
                    format!("dangling principal: {err}"),
                ));
                None
            }
        };
        let role = match &a.role {
            None => Some(None),
            Some(value) => match roles.iter().find(|r| &r.value == value) {
                Some(role) => Some(Some(role.clone())),
                None => {
                    let hint = yaml::did_you_mean(value, roles.iter().map(|r| r.value.as_str()))
                        .map(|c| format!(" (did you mean \"{c}\"?)"))
                        .unwrap_or_default();
                    pending.push(Pending::value(
                        format!("assignments[{i}].role"),
                        format!("no app role with value \"{value}\" in app_roles{hint}"),
                    ));
                    None
                }
            },
        };
        if let (Some(principal), Some(role)) = (principal, role) {
            if !seen.insert((principal.object_id.clone(), a.role.clone())) {
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
    if let Some(threshold) = raw.deletion_threshold {
        at_least_one("deletion_threshold", u64::from(threshold));
    }
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
    let state_dir = match raw.state_dir {
        Some(dir) => normalize(&base.join(dir)),
        None => normalize(&base.join(".entra-sim").join(name)),
    };
    Settings {
        skip_out_of_scope_deletions: raw.skip_out_of_scope_deletions.unwrap_or(false),
        deletion_threshold: raw.deletion_threshold,
        member_batch_size,
        concurrency,
        request_timeout_secs,
        primary_email_types,
        send_empty_roles: raw.send_empty_roles.unwrap_or(true),
        delete_not_found_is_success: raw.delete_not_found_is_success.unwrap_or(true),
        state_dir,
    }
}
