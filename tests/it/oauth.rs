//! Issue 16, parts 1 and 2: OAuth 2.0 client credentials through the built-in target's token
//! endpoint — tokens that expire mid-cycle are replaced before they are sent, a refused client or
//! an unreachable endpoint is Entra's credential failure (exit 2, quarantine), a 401 gets one
//! fresh token and one retry, and neither the client secret nor any access token appears in any
//! output or in the state directory.

use std::path::Path;
use std::time::Duration;

use entra_sim::target::{
    self, AuthSeen, OAuthClientConfig, RunningTarget, TargetConfig, parse_spec,
};

use crate::cli::walk;
use crate::support::{TOKEN, Test, repo, serve_target, tenant, users};

const CLIENT_SECRET: &str = "client-secret-9d41b7";

async fn oauth_target(secret: &str, lifetime: Duration) -> RunningTarget {
    target::spawn(TargetConfig {
        oauth: Some(OAuthClientConfig {
            client_id: "entra-provisioning".into(),
            client_secret: secret.into(),
            token_lifetime: lifetime,
        }),
        ..TargetConfig::default()
    })
    .await
    .unwrap()
}

/// A job over `users` generated users whose target (`url`) authenticates with an OAuth client;
/// `oauth` is the rest of the `oauth` block after its `token_url` and client id.
struct OauthJob<'a> {
    users: usize,
    url: &'a str,
    token_url: &'a str,
    oauth: &'a str,
}

impl OauthJob<'_> {
    /// Writes the job, its directory and the client secret into `d`.
    fn write(&self, d: &Path) {
        let OauthJob {
            users: n,
            url,
            token_url,
            oauth,
        } = self;
        std::fs::write(d.join("client-secret"), format!("{CLIENT_SECRET}\n")).unwrap();
        std::fs::write(d.join("directory.yaml"), tenant(&users(*n), &[])).unwrap();
        std::fs::write(
            d.join("job.yaml"),
            format!(
                "directory: directory.yaml\nmapping: {}\ntarget:\n  url: {url}\n  oauth:\n    token_url: {token_url}\n    client_id: entra-provisioning\n{oauth}scope: all\n",
                repo("mappings/scim-default.yaml").display()
            ),
        )
        .unwrap();
    }
}

fn token_url(target: &RunningTarget) -> String {
    format!("http://{}/oauth2/token", target.addr())
}

/// Neither the client secret nor any token the target issued in `outputs` or under `d/.entra-sim`.
fn assert_no_secret(outputs: &str, d: &Path, tokens: &[String]) {
    let mut secrets = vec![CLIENT_SECRET.to_owned()];
    secrets.extend(tokens.iter().cloned());
    let files = walk(&d.join(".entra-sim"));
    for secret in &secrets {
        assert!(!outputs.contains(secret.as_str()), "a secret in the output");
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret in {}",
                file.display()
            );
        }
    }
}

async fn status_json(d: &Path) -> serde_json::Value {
    let status = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(d)
        .run_async()
        .await;
    serde_json::from_str(&status.stdout).unwrap()
}

#[tokio::test]
async fn a_cycle_that_outlives_several_tokens_never_sends_an_expired_one() {
    let target = oauth_target(CLIENT_SECRET, Duration::from_secs(2)).await;
    // Every SCIM request takes 300 ms: 30 users (a query and a create each), three at a time,
    // take over 6 s, the life of several 2-second tokens, refreshed while flows run concurrently.
    target.set_faults(parse_spec("* *=pass:latency=300").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    OauthJob {
        users: 30,
        url: target.base_url(),
        token_url: &token_url(&target),
        oauth: "    client_secret_file: client-secret\n    auth_method: client_secret_basic\n    scope: scim\nsettings:\n  concurrency: 3\n",
    }
    .write(d);
    let mut outputs = String::new();
    let tc = Test::new()
        .args(["test-connection", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    tc.status(0);
    outputs.push_str(&(tc.stdout + &tc.stderr));
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml", "--verbose"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(0);
    outputs.push_str(&(cycle.stdout + &cycle.stderr));
    assert_eq!(target.users().len(), 30);
    let requests = target.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.auth == AuthSeen::Valid && r.status != Some(401)),
        "{:?}",
        requests
            .iter()
            .map(|r| (r.auth, r.status))
            .collect::<Vec<_>>()
    );
    let tokens = target.tokens_issued().len();
    assert!(tokens >= 4, "{tokens} tokens");
    // Every other command that talks to the target authenticates the same way.
    target.set_faults(Vec::new());
    for args in [
        &["plan", "--job", "job.yaml"][..],
        &["drift", "--job", "job.yaml"],
        &["compare-modes", "--job", "job.yaml", "--probe"],
        &[
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--user",
            "user0@contoso.com",
        ],
        &["logs", "--job", "job.yaml", "--json"],
    ] {
        let out = Test::new().args(args).current_dir(d).run_async().await;
        assert!(
            out.code == 0 || args[0] == "drift",
            "{args:?}: {}{}",
            out.stdout,
            out.stderr
        );
        outputs.push_str(&(out.stdout + &out.stderr));
    }
    assert!(
        target.requests().iter().all(|r| r.auth == AuthSeen::Valid),
        "every command sent a live token"
    );
    assert_no_secret(&outputs, d, &target.tokens_issued());
}

#[tokio::test]
async fn a_wrong_client_secret_quarantines_the_job_as_a_credential_failure() {
    let target = oauth_target("another-secret", Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    OauthJob {
        users: 2,
        url: target.base_url(),
        token_url: &token_url(&target),
        oauth: "    client_secret_file: client-secret\n",
    }
    .write(d);
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(2);
    let text = format!("{}{}", cycle.stdout, cycle.stderr);
    assert!(
        text.contains("refused the client id \"entra-provisioning\": invalid_client"),
        "{text}"
    );
    assert!(target.requests().is_empty(), "no SCIM request was sent");
    let status = status_json(d).await;
    let quarantine = &status["status"]["quarantine"];
    assert_eq!(quarantine["reason"], "EncounteredQuarantineException");
    assert_eq!(
        quarantine["error"]["code"],
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    );
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(d)
        .run_async()
        .await;
    assert_no_secret(&format!("{text}{}{status}", logs.stdout), d, &[]);
    let tc = Test::new()
        .args(["test-connection", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    tc.status(2);
    tc.stdout_contains("invalid_client");
}

#[tokio::test]
async fn an_unreachable_token_endpoint_quarantines_the_job_and_says_so() {
    let target = oauth_target(CLIENT_SECRET, Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    OauthJob {
        users: 2,
        url: target.base_url(),
        token_url: "http://127.0.0.1:9/oauth2/token",
        oauth: "    client_secret_file: client-secret\n",
    }
    .write(d);
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(2);
    let text = format!("{}{}", cycle.stdout, cycle.stderr);
    assert!(
        text.contains("the token endpoint http://127.0.0.1:9/oauth2/token could not be reached"),
        "{text}"
    );
    assert!(target.requests().is_empty());
    let status = status_json(d).await;
    assert_eq!(
        status["status"]["quarantine"]["reason"],
        "EncounteredQuarantineException"
    );
    assert_no_secret(&format!("{text}{status}"), d, &[]);
}

#[tokio::test]
async fn a_refused_token_gets_one_fresh_token_and_one_retry() {
    let target = oauth_target(CLIENT_SECRET, Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    OauthJob {
        users: 2,
        url: target.base_url(),
        token_url: &token_url(&target),
        oauth: "    client_secret_file: client-secret\n",
    }
    .write(d);
    // The first request is refused although its token is live: a fresh token, the same request.
    target.set_faults(parse_spec("GET /Users=unauthorized:times=1").unwrap());
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(0);
    assert_eq!(target.users().len(), 2);
    assert_eq!(target.tokens_issued().len(), 2);
    let statuses: Vec<_> = target.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses[0], Some(401));
    assert!(
        statuses[1..].iter().all(|s| matches!(s, Some(200 | 201))),
        "{statuses:?}"
    );
    // A server that refuses every token: one retry each, then the SCIM server's refusal fails
    // the job.
    target.set_faults(parse_spec("* *=unauthorized").unwrap());
    target.clear_requests();
    std::fs::write(d.join("directory.yaml"), tenant(&users(3), &[])).unwrap();
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(2);
    assert_eq!(target.requests().len(), 2, "one request and its one retry");
    assert_eq!(target.tokens_issued().len(), 4);
    let status = status_json(d).await;
    assert_eq!(
        status["status"]["quarantine"]["error"]["code"],
        "Unauthorized"
    );
}

#[tokio::test]
async fn target_serve_issues_tokens_to_its_oauth_client() {
    let (mut child, url) = serve_target(
        TOKEN,
        &["--oauth-client", "entra:s3cret", "--token-lifetime", "90s"],
    );
    let root = url.trim_end_matches("/scim/v2");
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(format!("{root}/oauth2/token"))
        .basic_auth("entra", Some("s3cret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["expires_in"], 90);
    let token = answer["access_token"].as_str().unwrap();
    let users = |token: String| {
        let http = http.clone();
        let url = format!("{url}/Users");
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(users(token.to_owned()).await, 200);
    assert_eq!(users(TOKEN.to_owned()).await, 200);
    assert_eq!(users("made-up".to_owned()).await, 401);
    child.kill().unwrap();
    child.wait().unwrap();
    let bad = Test::new()
        .args([
            "target",
            "serve",
            "--port",
            "0",
            "--oauth-client",
            ":s3cret",
        ])
        .current_dir(Path::new("."))
        .run_async()
        .await;
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    bad.stderr_contains("ID:SECRET");
    assert!(!bad.stderr.contains("s3cret"), "{}", bad.stderr);
}

#[tokio::test]
async fn a_token_endpoint_that_answers_no_token_response_is_a_credential_failure() {
    let target = oauth_target(CLIENT_SECRET, Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A SCIM endpoint is no token endpoint: its answer is neither §5.1 nor §5.2.
    let not_a_token_endpoint = format!("{}/ServiceProviderConfig", target.base_url());
    OauthJob {
        users: 1,
        url: target.base_url(),
        token_url: &not_a_token_endpoint,
        oauth: "    client_secret_file: client-secret\n",
    }
    .write(d);
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(2);
    let text = format!("{}{}", cycle.stdout, cycle.stderr);
    assert!(
        text.contains(&format!(
            "the token endpoint {not_a_token_endpoint} answered HTTP "
        )) && text.contains("no access token was obtained"),
        "{text}"
    );
    let status = status_json(d).await;
    assert_eq!(
        status["status"]["quarantine"]["error"]["code"],
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    );
    assert_no_secret(&format!("{text}{status}"), d, &[]);
}
