//! The fix and Entra's reading for a failed `conformance` test: what the answer itself shows
//! first (credentials, no answer, throttling, a server error, a body that is not JSON), then the
//! judge's fix for exactly what it saw, then the test's own hint; and what Entra's provisioning
//! log would show for the same answer.

use serde_json::Value as Json;

use super::suite::TestDef;
use crate::plan::Method;
use crate::plan::conformance::{Exchange, NoAnswer, StepsRun};
use crate::plan::connection::ConnectionProbe;
use crate::scim::{self, OpKind, Outcome, RetryAfter, RetryClass};

/// The label of the cleanup's requests.
pub(super) const CLEAN_UP: &str = "clean up";

/// The hint for a failure: what the answer itself shows first (credentials, no answer,
/// throttling, a server error, a body that is not JSON), then the judge's fix for this failure,
/// then the test's own.
pub(super) fn hint_for(test: &TestDef, run: &StepsRun) -> String {
    let last = run.exchanges.iter().rev().find(|e| e.label != CLEAN_UP);
    let judged = run.failure.as_ref().and_then(|f| f.hint.clone());
    last.and_then(|e| answer_hint(e, test.hint))
        .or(judged)
        .unwrap_or_else(|| test.hint.into())
}

/// The fix a kind of answer calls for, whatever the test (a server error adds what the test
/// needs, `needs`).
fn answer_hint(last: &Exchange, needs: &str) -> Option<String> {
    let request = format!("{} {}", last.request.method.as_str(), last.request.path);
    match (last.status, last.no_answer) {
        (Some(401), _) => Some(CREDENTIALS.into()),
        (Some(403), _) => Some(format!("the server took the token but forbade {request} (403): give the token's client the right to read, create, change and delete users and groups")),
        (Some(429), _) => Some(format!("the server throttled {request} (429): Microsoft's validation does not retry, so let it through (a few dozen requests a second from one client); Entra's job waits the Retry-After and retries")),
        (Some(status @ 500..=599), _) => Some(format!("the server failed on {request} ({status}); its own log has the cause. What the test needs: {needs}")),
        (Some(200..=299), _) => not_json(&last.body).map(|what| format!("the answer to {request} {what}: answer with a complete JSON resource (Content-Type application/scim+json)")),
        (None, Some(no_answer)) => Some(silence_hint(no_answer, &request, &last.body)),
        _ => None,
    }
}

const CREDENTIALS: &str = "the server refused the token (401): check that --token-env or --token-file gives the token the server expects and that it has not expired";

/// Why a non-empty body is not JSON: `was cut off` or `is not JSON`.
fn not_json(body: &str) -> Option<&'static str> {
    if body.trim().is_empty() {
        return None;
    }
    match serde_json::from_str::<Json>(body) {
        Ok(_) => None,
        Err(e) if e.is_eof() => Some("was cut off"),
        Err(_) => Some("is not JSON"),
    }
}

fn silence_hint(no_answer: NoAnswer, request: &str, message: &str) -> String {
    match no_answer {
        _ if message == super::INTERRUPTED => "run the suite again to the end".into(),
        NoAnswer::Unreachable => "no connection could be made: check that the server runs and that --url has its scheme, host, port and path".into(),
        NoAnswer::TimedOut => format!("no answer to {request} within the timeout: find what makes the server hang on it (a lock, a slow query); Entra gives up on a request that hangs and retries the object later"),
        NoAnswer::Dropped => format!("the server closed the connection without answering {request}: look for a crash or a proxy limit in its log"),
        NoAnswer::NoToken => "no access token could be obtained: check the OAuth token endpoint, client id and secret".into(),
    }
}

/// What Entra does with the last answer of a failed test, when it was a refusal: the error code
/// its provisioning log shows and what happens next (the server's own words are in the details
/// and the requests).
pub(super) fn entra_reading(run: &StepsRun) -> Option<String> {
    let last = run.exchanges.iter().rev().find(|e| e.label != CLEAN_UP)?;
    let status = last.status?;
    let op = match last.request.method {
        Method::Post => OpKind::Create,
        Method::Patch => OpKind::Update,
        Method::Delete => OpKind::Delete,
        Method::Get if last.request.path.contains("filter=") => OpKind::Query,
        Method::Get => OpKind::GetById,
    };
    let retry_after = last.retry_after.as_deref();
    let Outcome::Failure(failure) = scim::classify(op, status, retry_after, last.body.as_bytes())
    else {
        return None;
    };
    let next = match failure.retry {
        RetryClass::Success => "nothing more".into(),
        RetryClass::NextCycle => "the object is retried in the next cycle".into(),
        RetryClass::Escrow => "the object is escrowed and retried on the escrow schedule".into(),
        RetryClass::Quarantine => "the job goes into quarantine".into(),
        RetryClass::AutoRetry(Some(RetryAfter::Seconds(secs))) => {
            format!("the request is retried after the server's Retry-After of {secs} s")
        }
        RetryClass::AutoRetry(Some(RetryAfter::At(at))) => {
            format!(
                "the request is retried at the server's Retry-After, {}",
                at.to_rfc3339()
            )
        }
        RetryClass::AutoRetry(None) => {
            "the request is retried after a wait of Entra's own (no readable Retry-After)"
                .to_string()
        }
    };
    Some(format!("Entra logs {}: {next}", failure.code.as_str()))
}

/// The fix for a failed Test Connection, from its first failed probe.
pub(super) fn connection_hint(probes: &[ConnectionProbe]) -> String {
    let failed = probes
        .iter()
        .find(|p| matches!(p.outcome, Outcome::Failure(_)));
    match failed.map(|p| (p.status, p.unreachable)) {
        Some((_, true)) => silence_hint(NoAnswer::Unreachable, "", ""),
        Some((Some(401), _)) => CREDENTIALS.into(),
        Some((Some(403), _)) => "the server took the token but forbade reading users (403): give the token's client the right to read, create, change and delete users and groups".into(),
        Some((None, false)) => "Test Connection's query got no answer: check that the server answers GET /Users?filter=… within the timeout".into(),
        _ => "make Test Connection pass first (entra-sim test-connection)".into(),
    }
}
