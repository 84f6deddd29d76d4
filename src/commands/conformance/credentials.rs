//! `Validate_Credentials_Test`: the OAuth client Entra would authenticate as gets a token from
//! its endpoint (one client-credentials request by `auth::oauth`, the code jobs use), the
//! token's stated lifetime is between 60 and 360 minutes (3600 s when `expires_in` is absent),
//! and `GET /Users?startIndex=1&count=1` with it answers 2xx (through the runner, as every SCIM
//! request). Microsoft's gallery check requires all three. The token request shows in the
//! record with the client secret and the tokens redacted. Without an OAuth client the test is
//! SKIPPED: a bearer token has no endpoint to check.

use std::time::Duration;

use super::Interruptible;
use super::direct::success_then;
use super::suite::{self, Category, RequestRecord, TestDef, TestRecord, TestResult};
use crate::auth::oauth::{Grant, TokenCheck, TokenFailure};
use crate::http::ScimClient;
use crate::plan::Method;
use crate::plan::conformance::{Step, StepsFlow, StepsRun};
use crate::runner;
use crate::scim::ScimMode;

/// Why the test is skipped without an OAuth client.
pub const NO_OAUTH: &str = "no OAuth client: the server is called with a bearer token";

/// The lifetime assumed when the endpoint states none (as Microsoft's check assumes).
const ASSUMED_LIFETIME: Duration = Duration::from_secs(3600);
/// The shortest and longest lifetime, in whole minutes, that pass.
const MINUTES: std::ops::RangeInclusive<u64> = 60..=360;

const LIFETIME_HINT: &str = "issue tokens valid for 1 to 6 hours (expires_in from 3600 to 21600 seconds): Microsoft's gallery check requires it";

/// Why the test failed: which condition, the fix, and what Entra does.
struct Failed {
    details: String,
    hint: String,
    entra: Option<String>,
}

/// Runs the test with the token endpoint of `client`'s OAuth client; SKIPPED without one.
/// The read goes through `transport`'s interruption, with the new token.
pub async fn validate(
    test: &TestDef,
    mode: ScimMode,
    client: Option<&ScimClient>,
    transport: &Interruptible<'_>,
) -> TestRecord {
    let Some((client, cache)) = client.and_then(|c| c.oauth().map(|cache| (c, cache))) else {
        return suite::skipped(test, mode, NO_OAUTH);
    };
    let check = cache.check().await;
    let mut requests = vec![token_request(cache.token_url(), &check)];
    let verdict = match lifetime(check.grant).and_then(|grant| bearer_client(client, &grant)) {
        Ok(bearer) => {
            let run = read_users(&bearer, transport).await;
            requests.extend(run.exchanges.iter().cloned().map(RequestRecord::of));
            read_verdict(&run)
        }
        Err(failed) => Err(failed),
    };
    record(test, mode, verdict, requests)
}

/// The token request as the record shows it: the endpoint's full URL, the form with the secret
/// redacted, the answer with its tokens redacted.
fn token_request(token_url: &str, check: &TokenCheck) -> RequestRecord {
    let mut response = match (&check.grant, check.status) {
        (Err(failure), None) => failure.to_string(),
        _ => check.body.clone(),
    };
    suite::cut(&mut response, suite::RESPONSE_CUT);
    RequestRecord {
        step: "request a token".into(),
        method: Method::Post,
        path: token_url.to_owned(),
        body: Some(check.sent.clone()),
        status: check.status,
        response,
    }
}

/// The grant when its lifetime is within [`MINUTES`], or which condition failed.
fn lifetime(grant: Result<Grant, TokenFailure>) -> Result<Grant, Failed> {
    let grant = grant.map_err(no_token)?;
    let seconds = grant.expires_in.unwrap_or(ASSUMED_LIFETIME).as_secs();
    let minutes = seconds / 60;
    let stated = match grant.expires_in {
        Some(_) => format!("expires_in {seconds} s"),
        None => "no expires_in (taken as 3600 s)".into(),
    };
    let problem = if minutes < *MINUTES.start() {
        format!("{stated} is {minutes} minutes, less than 60 minutes")
    } else if minutes > *MINUTES.end() {
        format!("{stated} is {minutes} minutes, more than 360 minutes")
    } else {
        return Ok(grant);
    };
    Err(Failed {
        details: format!("the token's lifetime: {problem}"),
        hint: LIFETIME_HINT.into(),
        entra: None,
    })
}

/// No token: the endpoint refused the client, could not be reached, or answered no token.
fn no_token(failure: TokenFailure) -> Failed {
    let hint = match failure {
        TokenFailure::Refused { .. } => {
            "check the client id and secret, and that the token endpoint grants client_credentials to this client"
        }
        TokenFailure::Unreachable { .. } => "check that the token endpoint runs at the URL",
        TokenFailure::Unusable { .. } => {
            "answer a token request with 200 and a JSON token response: access_token, token_type Bearer, expires_in (RFC 6749 §5.1)"
        }
    };
    Failed {
        details: format!("request a token: {failure}"),
        hint: hint.into(),
        entra: Some(
            "Entra gets no token: Test Connection fails, and a running job goes into quarantine (a credential failure)"
                .into(),
        ),
    }
}

/// The Tenant URL's client sending the granted token.
fn bearer_client(client: &ScimClient, grant: &Grant) -> Result<ScimClient, Failed> {
    client.with_bearer(&grant.token).map_err(|_| {
        no_token(TokenFailure::Unusable {
            url: client
                .oauth()
                .map(|c| c.token_url().to_owned())
                .unwrap_or_default(),
            detail: "an access_token an HTTP header cannot carry".into(),
        })
    })
}

/// `GET /Users?startIndex=1&count=1` with the granted token, through the runner.
async fn read_users(bearer: &ScimClient, transport: &Interruptible<'_>) -> StepsRun {
    let step = Step {
        label: "read /Users with the token".into(),
        method: Method::Get,
        path: "/Users?startIndex=1&count=1".into(),
        body: None,
        capture: None,
        judge: success_then(|_, _| Ok::<(), String>(())),
    };
    let mut flow = StepsFlow::new("", vec![step], false);
    let interruptible = Interruptible {
        inner: bearer,
        stop: transport.stop.clone(),
    };
    runner::conclude(&mut flow, &interruptible).await
}

/// The read's verdict: which condition failed, with what Entra does with the answer.
fn read_verdict(run: &StepsRun) -> Result<(), Failed> {
    let Some(failure) = &run.failure else {
        return Ok(());
    };
    Err(Failed {
        details: format!("{}: {}", failure.label, failure.reason),
        hint: "accept the access tokens the token endpoint issues as Authorization: Bearer on the SCIM endpoint".into(),
        entra: super::hints::entra_reading(run),
    })
}

/// The test's record.
fn record(
    test: &TestDef,
    mode: ScimMode,
    verdict: Result<(), Failed>,
    requests: Vec<RequestRecord>,
) -> TestRecord {
    let mut record = suite::skipped(test, mode, "");
    record.requests = requests;
    match verdict {
        Ok(()) => record.test_result = TestResult::Passed,
        Err(Failed {
            details,
            hint,
            entra,
        }) => {
            record.test_result = match test.category {
                Category::Mandatory => TestResult::Failed,
                Category::Optional => TestResult::Warning,
            };
            record.details = details;
            record.hint = Some(hint);
            record.entra = entra;
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientAuthMethod, Credential, OAuthClient, Secret, SecretSource};
    use crate::http::ClientOptions;
    use crate::target::{self, OAuthClientConfig, RunningTarget, TargetConfig, parse_spec};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    const SECRET: &str = "conformance-client-secret";

    fn test_def() -> &'static TestDef {
        suite::TESTS
            .iter()
            .find(|t| t.name == "Validate_Credentials_Test")
            .unwrap()
    }

    /// A target whose token endpoint issues tokens living `lifetime`, and a client of it whose
    /// client secret is `secret`.
    async fn oauth(lifetime: Duration, secret: &str) -> (RunningTarget, ScimClient) {
        let target = target::spawn(TargetConfig {
            oauth: Some(OAuthClientConfig {
                client_id: "entra".into(),
                client_secret: SECRET.into(),
                token_lifetime: lifetime,
            }),
            ..TargetConfig::default()
        })
        .await
        .unwrap();
        let client = OAuthClient {
            token_url: format!("http://{}/oauth2/token", target.addr()),
            client_id: "entra".into(),
            client_secret: SecretSource::Env("UNUSED".into()),
            scope: None,
            auth_method: ClientAuthMethod::ClientSecretPost,
        };
        let options = ClientOptions {
            timeout: Duration::from_secs(10),
            user_agent: None,
            max_response_bytes: 1 << 20,
        };
        let credential = Credential::OAuth(client, Secret::new(secret));
        let client = ScimClient::new(target.base_url(), &credential, &options).unwrap();
        (target, client)
    }

    async fn run(client: &ScimClient) -> TestRecord {
        let transport = Interruptible {
            inner: client,
            stop: Arc::new(AtomicBool::new(false)),
        };
        validate(test_def(), ScimMode::Default, Some(client), &transport).await
    }

    fn grant(seconds: Option<u64>) -> Result<Grant, TokenFailure> {
        Ok(Grant {
            token: Secret::new("t"),
            expires_in: seconds.map(Duration::from_secs),
        })
    }

    /// 60 to 360 whole minutes pass; no expires_in counts as an hour.
    #[test]
    fn the_lifetime_is_one_to_six_hours() {
        for seconds in [Some(3600), Some(21_659), None] {
            assert!(lifetime(grant(seconds)).is_ok(), "{seconds:?}");
        }
        let short = lifetime(grant(Some(3599))).err().unwrap();
        assert_eq!(
            short.details,
            "the token's lifetime: expires_in 3599 s is 59 minutes, less than 60 minutes"
        );
        assert!(
            short
                .hint
                .starts_with("issue tokens valid for 1 to 6 hours")
        );
        let long = lifetime(grant(Some(21_660))).err().unwrap();
        assert!(long.details.ends_with("361 minutes, more than 360 minutes"));
    }

    /// The built-in target's hour-long tokens pass; the token request and the read are
    /// recorded, the secret and the token redacted.
    #[tokio::test]
    async fn the_built_in_token_endpoint_passes() {
        let (target, client) = oauth(Duration::from_secs(3600), SECRET).await;
        let record = run(&client).await;
        assert_eq!(record.test_result, TestResult::Passed, "{record:?}");
        let token = &record.requests[0];
        assert_eq!(token.method, Method::Post);
        assert!(token.path.ends_with("/oauth2/token"));
        assert_eq!(token.status, Some(200));
        assert_eq!(token.body.as_ref().unwrap()["client_secret"], "[redacted]");
        assert!(token.response.contains("\"access_token\":\"[redacted]\""));
        assert_eq!(record.requests[1].path, "/Users?startIndex=1&count=1");
        assert_eq!(record.requests[1].status, Some(200));
        let json = serde_json::to_string(&record).unwrap();
        for secret in target
            .tokens_issued()
            .iter()
            .map(String::as_str)
            .chain([SECRET])
        {
            assert!(!json.contains(secret));
        }
    }

    /// Ten-minute tokens fail, naming the condition.
    #[tokio::test]
    async fn short_lived_tokens_fail() {
        let (_target, client) = oauth(Duration::from_secs(600), SECRET).await;
        let record = run(&client).await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record
                .details
                .contains("600 s is 10 minutes, less than 60 minutes"),
            "{}",
            record.details
        );
        assert_eq!(record.requests.len(), 1, "no read with a refused token");
    }

    /// A wrong client secret: the endpoint's refusal, and what Entra does.
    #[tokio::test]
    async fn a_wrong_secret_fails() {
        let (_target, client) = oauth(Duration::from_secs(3600), "wrong").await;
        let record = run(&client).await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record
                .details
                .starts_with("request a token: the token endpoint"),
            "{}",
            record.details
        );
        assert!(
            record.details.contains("invalid_client"),
            "{}",
            record.details
        );
        assert!(
            record
                .hint
                .as_deref()
                .unwrap()
                .contains("client id and secret")
        );
        assert!(record.entra.as_deref().unwrap().contains("quarantine"));
        assert_eq!(record.requests[0].status, Some(401));
    }

    /// A token the SCIM endpoint refuses fails at the read, with Entra's reading of the 401.
    #[tokio::test]
    async fn a_token_the_server_refuses_fails() {
        let (target, client) = oauth(Duration::from_secs(3600), SECRET).await;
        target.set_faults(parse_spec("GET /Users=unauthorized").unwrap());
        let record = run(&client).await;
        assert_eq!(record.test_result, TestResult::Failed);
        assert!(
            record
                .details
                .starts_with("read /Users with the token: answered 401"),
            "{}",
            record.details
        );
        assert!(record.entra.is_some());
    }

    /// Without an OAuth client: SKIPPED, saying why.
    #[tokio::test]
    async fn a_bearer_token_skips() {
        let (_target, client) = oauth(Duration::from_secs(3600), SECRET).await;
        let transport = Interruptible {
            inner: &client,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let record = validate(test_def(), ScimMode::Default, None, &transport).await;
        assert_eq!(record.test_result, TestResult::Skipped);
        assert_eq!(record.details, NO_OAUTH);
    }
}
