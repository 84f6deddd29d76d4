//! Job loading: every shipped job, defaults, the token source and secret, and every class of bad
//! job input with its exact location.

use std::path::{Path, PathBuf};

use super::*;
use crate::scope::ScopeMode;

fn load_ok(path: &Path) -> Job {
    match load_job(path) {
        Ok(job) => job,
        Err(err) => panic!("{err}"),
    }
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_shipped_job_loads() {
    let mut count = 0;
    for entry in std::fs::read_dir(manifest().join("jobs")).expect("jobs dir") {
        let path = entry.expect("entry").path();
        // The quickstart keeps its state in jobs/.entra-sim/.
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let job = load_ok(&path);
        assert!(job.warnings.is_empty(), "{}", path.display());
        assert!(!job.assignments.is_empty());
        count += 1;
    }
    assert_eq!(count, 5);
}

#[test]
fn sample_job_defaults_and_scope() {
    let jobs = manifest().join("jobs");
    let job = load_ok(&jobs.join("sample.yaml"));
    assert_eq!(job.name, "sample");
    assert_eq!(
        job.mapping_path,
        manifest().join("mappings/scim-default.yaml")
    );
    assert_eq!(job.target.url, "http://127.0.0.1:8080/scim/v2");
    assert_eq!(
        job.target.token,
        TokenSource::Env("ENTRA_SIM_TOKEN".to_owned())
    );
    assert_eq!(job.scope, ScopeMode::Assigned);
    assert_eq!(
        job.settings,
        Settings {
            skip_out_of_scope_deletions: false,
            deletion_threshold: None,
            member_batch_size: 100,
            concurrency: 1,
            request_timeout_secs: 100,
            primary_email_types: vec!["work".to_owned()],
            send_empty_roles: true,
            user_agent: None,
            max_response_bytes: 16 * 1024 * 1024,
            delete_not_found_is_success: true,
            line_deltas: true,
            log_retention_days: 30,
            policy: crate::policy::PolicySettings::default(),
            state_dir: jobs.join(".entra-sim/sample"),
        }
    );
    let index = job.assignment_index();
    let id = |upn: &str| {
        job.directory
            .user_by_upn(upn)
            .map(|u| u.object_id.clone())
            .expect(upn)
    };
    let roles = |upn: &str| {
        let a = index.user(&id(upn), job.scope);
        (
            a.assigned,
            a.roles.into_iter().map(|r| r.value).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        roles("megan.bowen@contoso.com"),
        (true, vec!["Admin".to_owned()])
    );
    assert_eq!(
        roles("mateo.rossi@contoso.com"),
        (true, vec!["User".to_owned(), "Admin".to_owned()]),
        "App Users + App Admins"
    );
    assert_eq!(
        roles("sam_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
        (true, vec!["User".to_owned()]),
        "direct, no role: the User role (the job declares one named so)"
    );
    assert_eq!(
        roles("kai_adatum.net#EXT#@contoso.onmicrosoft.com"),
        (false, vec![]),
        "only in the nested Contractors group"
    );
    assert_eq!(roles("wei.zhang@contoso.com"), (false, vec![]));
}

/// A long secret is replaced wherever it occurs; a short one only where it stands alone, so a
/// token `x` does not garble "WebException".
#[test]
fn secrets_are_redacted_without_garbling_the_text() {
    let long = Secret::new("0123456789abcdef");
    assert_eq!(
        long.redact("Bearer 0123456789abcdef; id=a0123456789abcdefz"),
        "Bearer [redacted]; id=a[redacted]z"
    );
    let short = Secret::new("x");
    assert_eq!(
        short.redact("WebException: token x rejected (x)"),
        "WebException: token [redacted] rejected ([redacted])"
    );
    assert_eq!(Secret::new("s3cret").redact("s3cret"), "[redacted]");
    assert_eq!(Secret::new("ab").redact("ababab ab"), "ababab [redacted]");
    assert_eq!(Secret::new("").redact("text"), "text");
}

#[test]
fn secret_never_prints_and_sources_resolve() {
    let secret = Secret::new("s3cr3t");
    assert_eq!(format!("{secret} {secret:?}"), "[redacted] [redacted]");
    assert_eq!(
        format!("{:?}", TokenSource::Inline(secret.clone())),
        "Inline([redacted])"
    );
    let env = |k: &str| (k == "TOKEN").then(|| "abc".to_owned());
    let bearer = |c: Result<Credential, TokenError>| match c {
        Ok(Credential::Bearer(s)) => Some(s.expose().to_owned()),
        _ => None,
    };
    assert_eq!(
        bearer(TokenSource::Env("TOKEN".to_owned()).resolve(env, Path::new("no-state"), 0)),
        Some("abc".to_owned())
    );
    assert!(matches!(
        TokenSource::Env("NOPE".to_owned()).resolve(env, Path::new("no-state"), 0),
        Err(TokenError::EnvMissing(..))
    ));
    let dir = Scratch::new("token");
    let file = dir.write("token.txt", "from-file\n");
    assert_eq!(
        bearer(TokenSource::File(file.clone()).resolve(env, Path::new("no-state"), 0)),
        Some("from-file".to_owned())
    );
    let empty = dir.write("empty.txt", "\n");
    assert!(matches!(
        TokenSource::File(empty.clone()).resolve(env, Path::new("no-state"), 0),
        Err(TokenError::Empty(_))
    ));
    // An OAuth client's secret resolves from its own source, and never prints.
    let client = |source| OAuthClient {
        token_url: "https://idp.example/token".to_owned(),
        client_id: "entra".to_owned(),
        client_secret: source,
        scope: None,
        auth_method: ClientAuthMethod::ClientSecretPost,
    };
    match TokenSource::OAuth(client(SecretSource::File(file))).resolve(
        env,
        Path::new("no-state"),
        0,
    ) {
        Ok(credential @ Credential::OAuth(_, _)) => {
            let Credential::OAuth(_, secret) = &credential else {
                unreachable!()
            };
            assert_eq!(secret.expose(), "from-file");
            assert!(!format!("{credential:?}").contains("from-file"));
        }
        other => panic!("{other:?}"),
    }
    let missing = TokenSource::OAuth(client(SecretSource::Env("NOPE".to_owned())))
        .resolve(env, Path::new("no-state"), 0)
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "environment variable NOPE (client_secret_env) is not set"
    );
    assert!(matches!(
        TokenSource::OAuth(client(SecretSource::File(empty))).resolve(
            env,
            Path::new("no-state"),
            0
        ),
        Err(TokenError::Empty(_))
    ));
}

/// A per-test directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("inputs-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const DIRECTORY: &str = "users:\n  - {objectId: u1, userPrincipalName: a@x.com}\ngroups:\n  - {objectId: g1, displayName: Team, members: [u1]}\n";
const MAPPING: &str = "users:\n  attributes:\n    - {target: userName, source: userPrincipalName, matching: 1}\n    - {target: roles, expression: \"AppRoleAssignmentsComplex([appRoleAssignments])\"}\n";
const JOB_HEAD: &str = "directory: dir.yaml\nmapping: map.yaml\n";

#[test]
fn inline_token_warns() {
    let dir = Scratch::new("inline");
    dir.write("dir.yaml", DIRECTORY);
    dir.write("map.yaml", MAPPING);
    let job = load_ok(&dir.write(
        "job.yaml",
        &format!("{JOB_HEAD}target:\n  url: https://scim.example/v2/\n  token: abc\n"),
    ));
    assert_eq!(job.target.url, "https://scim.example/v2");
    let warnings: Vec<String> = job.warnings.iter().map(ToString::to_string).collect();
    let file = dir.0.join("job.yaml").display().to_string();
    assert_eq!(
        warnings,
        [format!(
            "{file}:5:10: target.token: inline token is stored in plain text; prefer token_env or token_file"
        )]
    );
}

/// `target.entra_jwt` (issue 16): no secret, Entra's own JWT; `app_id` defaults to a GUID
/// derived from the job's name; `claims` are kept as given (YAML values as JSON).
#[test]
fn entra_jwt_is_a_token_source() {
    let dir = Scratch::new("entra-jwt");
    dir.write("dir.yaml", DIRECTORY);
    dir.write("map.yaml", MAPPING);
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let job = load_ok(&dir.write(
        "job.yaml",
        &format!("{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  entra_jwt:\n    tenant_id: {tenant}\n    claims: {{aud: api://other, exp: 1000000000}}\n"),
    ));
    let TokenSource::EntraJwt(jwt) = &job.target.token else {
        panic!("{:?}", job.target.token)
    };
    assert_eq!(jwt.tenant_id, tenant);
    assert_eq!(jwt.app_id.len(), 36);
    assert_eq!(
        jwt.app_id,
        crate::provlog::stable_guid("entra-sim jwt app", "job")
    );
    assert_eq!(jwt.claims["aud"], "api://other");
    assert_eq!(jwt.claims["exp"], 1_000_000_000);
    assert!(job.warnings.is_empty());
    assert!(job.source_digest.is_some(), "no secret in the job file");
}

/// `tenant_id` and `service_principal` (issue 15): given ids are kept; missing ones are GUIDs
/// derived from the job's name, the same on every load and different between jobs.
#[test]
fn app_ids_are_given_or_stable() {
    let dir = Scratch::new("app");
    dir.write("dir.yaml", DIRECTORY);
    dir.write("map.yaml", MAPPING);
    let target = "target:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: T\n";
    let plain = format!("{JOB_HEAD}{target}");
    let first = load_ok(&dir.write("job.yaml", &plain)).app;
    let again = load_ok(&dir.write("job.yaml", &plain)).app;
    let other = load_ok(&dir.write("other.yaml", &plain)).app;
    assert_eq!(first, again, "defaults are stable");
    assert_ne!(first.tenant_id, other.tenant_id);
    assert_ne!(first.service_principal_id, other.service_principal_id);
    for id in [
        &first.tenant_id,
        &first.service_principal_id,
        &first.application_id,
    ] {
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.as_bytes()[14], b'8', "version-8 GUID: {id}");
    }
    assert_eq!(first.display_name, "job");
    assert_eq!(first.job_id, "scim.entrasim.job");
    let given = load_ok(&dir.write(
        "job.yaml",
        &format!("{plain}tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47\nservice_principal:\n  id: 3e916d82-dd59-4944-824d-93092908fd8d\n  display_name: Contoso SCIM\n"),
    ))
    .app;
    assert_eq!(given.tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_eq!(
        given.service_principal_id,
        "3e916d82-dd59-4944-824d-93092908fd8d"
    );
    assert_eq!(given.display_name, "Contoso SCIM");
    assert_eq!(given.job_id, "scim.entrasim.job");
}

#[test]
fn bad_jobs_are_located() {
    let target = "target:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: T\n";
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "two token sources",
            format!("{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: T\n  token_file: t.txt\n"),
            vec!["job.yaml:4:3: target: exactly one of token_env, token_file, token, oauth or entra_jwt is required (found token_env and token_file)".to_owned()],
        ),
        (
            "an OAuth client with a bad token URL, no client id and two secret sources",
            format!("{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  oauth:\n    token_url: ftp://idp/token\n    client_id: ''\n    client_secret_env: S\n    client_secret_file: s.txt\n"),
            vec![
                "job.yaml:6:5: target.oauth: exactly one of client_secret_env or client_secret_file is required (found both)".to_owned(),
                "job.yaml:6:16: target.oauth.token_url: the scheme \"ftp\" is not http or https".to_owned(),
                "job.yaml:7:16: target.oauth.client_id: must not be empty".to_owned(),
            ],
        ),
        (
            "an OAuth client with an unknown auth method",
            format!("{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  oauth:\n    token_url: https://idp/token\n    client_id: c\n    client_secret_env: S\n    auth_method: private_key_jwt\n"),
            vec!["job.yaml:9:18: target.oauth.auth_method: unknown variant `private_key_jwt`, expected `client_secret_post` or `client_secret_basic`".to_owned()],
        ),
        (
            "a secret token and entra_jwt",
            format!("{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: T\n  entra_jwt: {{tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47}}\n"),
            vec!["job.yaml:4:3: target: exactly one of token_env, token_file, token, oauth or entra_jwt is required (found token_env and entra_jwt)".to_owned()],
        ),
        (
            "entra_jwt ids that are not GUIDs and an empty claim name",
            format!("{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  entra_jwt:\n    tenant_id: contoso\n    app_id: 12\n    claims: {{'': 1}}\n"),
            vec![
                "job.yaml:6:16: target.entra_jwt.tenant_id: \"contoso\" is not a GUID (8-4-4-4-12 hex digits)".to_owned(),
                "job.yaml:7:13: target.entra_jwt.app_id: \"12\" is not a GUID (8-4-4-4-12 hex digits)".to_owned(),
                "job.yaml:8:14: target.entra_jwt.claims: a claim name must not be empty".to_owned(),
            ],
        ),
        (
            "entra_jwt without a tenant",
            format!("{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  entra_jwt: {{app_id: 72f988bf-86f1-41af-91ab-2d7cd011db47}}\n"),
            vec!["job.yaml:5:14: target.entra_jwt: missing field `tenant_id`".to_owned()],
        ),
        (
            "unknown roles: declared and built-in ones suggested",
            format!("{JOB_HEAD}{target}app_roles:\n  - {{id: r1, value: Admin, display_name: Admin}}\nassignments:\n  - principal: Team\n    role: admin\n  - principal: Team\n    role: msiam_acess\n"),
            vec![
                "job.yaml:10:11: assignments[0].role: no app role with value \"admin\" among app_roles and the built-in roles User, msiam_access and Default Access (did you mean \"Admin\"?)".to_owned(),
                "job.yaml:12:11: assignments[1].role: no app role with value \"msiam_acess\" among app_roles and the built-in roles User, msiam_access and Default Access (did you mean \"msiam_access\"?)".to_owned(),
            ],
        ),
        (
            "unknown settings key",
            format!("{JOB_HEAD}{target}settings:\n  concurrenc: 2\n"),
            vec!["job.yaml:7:3: settings: unknown field `concurrenc`, expected one of `skip_out_of_scope_deletions`, `deletion_threshold`, `member_batch_size`, `concurrency`, `request_timeout_secs`, `primary_email_types`, `send_empty_roles`, `user_agent`, `max_response_bytes`, `delete_not_found_is_success`, `line_deltas`, `log_retention_days`, `state_dir`, `interval_minutes`, `escrow_retry_hours`, `escrow_max_age_days`, `quarantine_retry_hours`, `escrow_thresholds`, `retry_after`".to_owned()],
        ),
        (
            "a user agent no header can carry, and no room for a reply",
            format!("{JOB_HEAD}{target}settings:\n  user_agent: \"a\\nb\"\n  max_response_bytes: 0\n"),
            vec![
                "job.yaml:7:15: settings.user_agent: must be a non-empty header value without control characters".to_owned(),
                "job.yaml:8:23: settings.max_response_bytes: must be at least 1".to_owned(),
            ],
        ),
        (
            "sync all with role functions",
            format!("{JOB_HEAD}{target}scope: all\n"),
            vec!["job.yaml:6:8: scope: scope `all` is incompatible with app-role mapping functions (map.yaml:4:36 uses AppRoleAssignmentsComplex)".to_owned()],
        ),
        (
            "missing directory and settings out of range",
            format!("directory: nowhere.yaml\nmapping: map.yaml\n{target}settings:\n  concurrency: 0\n"),
            vec![
                "job.yaml:1:12: directory: cannot read nowhere.yaml: No such file or directory (os error 2)".to_owned(),
                "job.yaml:7:16: settings.concurrency: must be at least 1".to_owned(),
            ],
        ),
        (
            "ids that are not GUIDs and an empty app name",
            format!("{JOB_HEAD}{target}tenant_id: contoso.onmicrosoft.com\nservice_principal:\n  id: 3e916d82\n  display_name: ''\n"),
            vec![
                "job.yaml:6:12: tenant_id: \"contoso.onmicrosoft.com\" is not a GUID (8-4-4-4-12 hex digits)".to_owned(),
                "job.yaml:8:7: service_principal.id: \"3e916d82\" is not a GUID (8-4-4-4-12 hex digits)".to_owned(),
                "job.yaml:9:17: service_principal.display_name: must not be empty".to_owned(),
            ],
        ),
        (
            "problems of the referenced files",
            format!("directory: dir.yaml\nmapping: bad.yaml\n{target}"),
            vec!["bad.yaml:1:8: users: missing field `attributes`".to_owned()],
        ),
    ];
    let dir = Scratch::new("bad");
    dir.write("dir.yaml", DIRECTORY);
    dir.write("map.yaml", MAPPING);
    dir.write("bad.yaml", "users: {}\n");
    let prefix = format!("{}/", dir.0.display());
    for (name, text, expected) in cases {
        let path = dir.write("job.yaml", &text);
        let problems = match load_job(&path) {
            Err(ConfigError::Invalid(p)) => p,
            Err(other) => panic!("{name}: {other}"),
            Ok(_) => panic!("{name}: accepted"),
        };
        let got: Vec<String> = problems
            .0
            .iter()
            .map(|p| p.to_string().replace(&prefix, ""))
            .collect();
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn a_directory_read_for_the_fingerprint_loads_as_the_file_would() {
    let dir = Scratch::new("preread");
    dir.write("dir.yaml", DIRECTORY);
    dir.write("map.yaml", MAPPING);
    let job = dir.write(
        "job.yaml",
        &format!("{JOB_HEAD}target:\n  url: https://scim.example/v2/\n  token_env: T\n"),
    );
    let sources = super::job_sources(&job).expect("job sources");
    let check = check_job_with(&job, || None, Some(sources.directory.clone())).expect("check");
    let (loaded, _) = check.loaded.expect("loads");
    assert_eq!(loaded.source_digest.as_ref(), Some(&sources.digest));
    assert_eq!(load_ok(&job).source_digest, loaded.source_digest);

    // Bytes that are not UTF-8: the same problem as reading the file, at the first bad byte.
    let bad = dir.0.join("dir.yaml");
    std::fs::write(&bad, b"users: [\xff]\n").expect("write");
    let read = super::Preread::read(bad.clone()).expect("read");
    let with = check_job_with(&job, || None, Some(read)).expect("check");
    let without = check_job(&job).expect("check");
    assert_eq!(with.problems.to_string(), without.problems.to_string());
    assert_eq!(
        with.problems.to_string(),
        format!(
            "{}:1:9: the file is not UTF-8: invalid byte 0xFF",
            bad.display()
        )
    );
}

/// Every enterprise app has roles nobody declared ("User", "msiam_access", "Default Access"),
/// and a role-less assignment is the "User" one; a declared role of the same value wins.
#[test]
fn built_in_app_roles_need_no_declaration() {
    let dir = Scratch::new("builtin-roles");
    dir.write("dir.yaml", DIRECTORY);
    dir.write("map.yaml", MAPPING);
    let target = "target:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: T\n";
    let roles_of = |extra: &str| {
        let job = load_ok(&dir.write("job.yaml", &format!("{JOB_HEAD}{target}{extra}")));
        job.assignments
            .iter()
            .map(|a| (a.role.id.clone(), a.role.value.clone()))
            .collect::<Vec<_>>()
    };
    let user = (
        "18d14569-c3bd-439b-9a66-3a2aee01d14f".to_owned(),
        "User".to_owned(),
    );
    assert_eq!(
        roles_of("assignments:\n  - principal: u1\n    role: User\n"),
        std::slice::from_ref(&user)
    );
    assert_eq!(roles_of("assignments:\n  - principal: u1\n"), [user]);
    assert_eq!(
        roles_of(
            "assignments:\n  - {principal: u1, role: msiam_access}\n  - {principal: Team, role: Default Access}\n"
        ),
        [
            (
                "b9632174-c057-4f7e-951b-be3adc52bfe6".to_owned(),
                "msiam_access".to_owned()
            ),
            (
                "00000000-0000-0000-0000-000000000000".to_owned(),
                "Default Access".to_owned()
            ),
        ]
    );
    assert_eq!(
        roles_of(
            "app_roles:\n  - {id: r1, value: User, display_name: Member}\nassignments:\n  - principal: u1\n"
        ),
        [("r1".to_owned(), "User".to_owned())],
        "declared first"
    );
}

/// Entra removes a deleted object's app role assignments: a principal naming no object drops its
/// assignment with a located warning, and the job loads.
#[test]
fn an_assignment_of_a_deleted_object_is_dropped_with_a_warning() {
    let dir = Scratch::new("deleted-principal");
    dir.write("dir.yaml", DIRECTORY);
    dir.write("map.yaml", MAPPING);
    let path = dir.write(
        "job.yaml",
        &format!(
            "{JOB_HEAD}target:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: T\nassignments:\n  - principal: gone@x.com\n  - principal: Teem\n  - principal: Team\n"
        ),
    );
    let job = load_ok(&path);
    assert_eq!(job.assignments.len(), 1);
    let prefix = format!("{}/", dir.0.display());
    let warnings: Vec<String> = job
        .warnings
        .iter()
        .map(|w| w.to_string().replace(&prefix, ""))
        .collect();
    assert_eq!(
        warnings,
        [
            "job.yaml:7:16: assignments[0].principal: \"gone@x.com\" names no user or group; treated as deleted",
            "job.yaml:8:16: assignments[1].principal: \"Teem\" names no user or group (did you mean \"Team\"?)",
        ]
    );
}
