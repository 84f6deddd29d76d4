//! Issue 3: how server responses become Entra outcomes in a real cycle (§3) — entry-level failures
//! are logged with Entra's code and reason text and retried in the next cycle; credential and
//! SCIM-compliance failures stop the job. Faults come from the built-in target's fault injection.

use entra_sim::clock::Clock;
use entra_sim::provlog::{LogEntry, Status};
use entra_sim::target::parse_spec;

use crate::support::{Harness, JobFiles, tenant, user};

async fn two_users() -> Harness {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2").nick("bob").given("Bob").title("Engineer").yaml();
    Harness::new(JobFiles {
        directory: &tenant(&[a, b], &[]),
        ..JobFiles::default()
    })
    .await
}

fn failures(logs: &[LogEntry]) -> Vec<(String, String, String)> {
    logs.iter()
        .filter(|l| l.provisioning_status_info.status == Status::Failure)
        .map(|l| {
            let info = l
                .provisioning_status_info
                .error_information
                .clone()
                .unwrap();
            (
                l.source_identity.display_name.clone(),
                info.error_code,
                info.reason,
            )
        })
        .collect()
}

#[tokio::test]
async fn conflict_on_create_is_logged_and_retried_next_cycle() {
    let mut h = two_users().await;
    h.target
        .set_faults(parse_spec("POST /Users=409:times=1").unwrap());
    let (report, logs) = h.cycle().await;
    let failed = failures(&logs);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, "alice@contoso.com");
    assert_eq!(
        failed[0].1,
        "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"
    );
    assert!(
        failed[0].2.starts_with(
            "StatusCode: Conflict Message: Processing of the HTTP request resulted in an exception."
        ),
        "{}",
        failed[0].2
    );
    assert!(failed[0].2.contains("Web Response: {"), "{}", failed[0].2);
    assert!(failed[0].2.contains("This operation was retried 0 times. It will be retried again after this date: 2026-03-01T14:00:00.0000000Z UTC"), "{}", failed[0].2);
    assert_eq!(report.escrowed, 1);
    assert_eq!((report.counts.created, report.counts.failed), (1, 1));
    assert!(report.job_failure.is_none());

    // A conflict is escrowed on the ladder (+6 h): the next cycles leave it alone…
    h.cycle().await;
    assert!(h.requests().is_empty(), "{:?}", h.requests());
    // …until its retry time, when only the failed object is processed again, and succeeds.
    h.clock.advance(chrono::Duration::hours(6));
    let (report, _) = h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users?filter=userName+eq+%22alice%40contoso.com%22",
            "POST /Users"
        ]
    );
    assert_eq!(report.counts.created, 1);
    assert_eq!(h.target.users().len(), 2);
}

#[tokio::test]
async fn server_error_on_update_is_retried_next_cycle() {
    let mut h = two_users().await;
    h.cycle().await;
    h.set_directory(&tenant(
        &[
            user("a1").nick("alice").given("Alicia").title("CEO").yaml(),
            user("b2").nick("bob").given("Bob").title("Engineer").yaml(),
        ],
        &[],
    ));
    h.target
        .set_faults(parse_spec("PATCH /Users/*=500:times=1").unwrap());
    let (_, logs) = h.cycle().await;
    assert_eq!(failures(&logs)[0].1, "InternalServerError");
    h.cycle().await;
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{alice@contoso.com}",
            "PATCH /Users/{alice@contoso.com}"
        ]
    );
    assert_eq!(
        h.user("alice@contoso.com").unwrap()["name"]["givenName"],
        "Alicia"
    );
}

#[tokio::test]
async fn missing_connected_object_is_an_invalid_anchor() {
    let mut h = two_users().await;
    h.cycle().await;
    h.set_directory(&tenant(
        &[
            user("a1").nick("alice").given("Alicia").title("CEO").yaml(),
            user("b2").nick("bob").given("Bob").title("Engineer").yaml(),
        ],
        &[],
    ));
    h.target
        .set_faults(parse_spec("GET /Users/*=404:times=1").unwrap());
    let (_, logs) = h.cycle().await;
    assert_eq!(failures(&logs)[0].1, "InvalidAnchor");
}

#[tokio::test]
async fn dropped_connection_is_a_protocol_error() {
    let mut h = two_users().await;
    h.target
        .set_faults(parse_spec("POST /Users=drop:times=1").unwrap());
    let (_, logs) = h.cycle().await;
    assert_eq!(failures(&logs)[0].1, "WebExceptionProtocolError");
}

#[tokio::test]
async fn bad_credentials_stop_the_job() {
    let mut h = two_users().await;
    h.target.set_faults(parse_spec("* *=unauthorized").unwrap());
    let (report, logs) = h.cycle().await;
    assert!(report.job_failure.is_some());
    assert_eq!(
        logs.len(),
        1,
        "the job stops at the first credential failure"
    );
    assert_eq!(h.requests().len(), 1);
    // Nothing was watermarked: once the token works, everything is processed.
    h.target.set_faults(Vec::new());
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.created, 2);
}

#[tokio::test]
async fn not_found_instead_of_an_empty_list_is_a_compliance_failure() {
    let mut h = two_users().await;
    h.target.set_faults(parse_spec("GET /Users=404").unwrap());
    let (report, logs) = h.cycle().await;
    let reason = report.job_failure.unwrap();
    assert!(reason.contains("SCIM Compliance issue"), "{reason}");
    assert_eq!(
        failures(&logs)[0].1,
        "SystemForCrossDomainIdentityManagementServiceIncompatible"
    );
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after_within_the_cycle() {
    let mut h = two_users().await;
    h.target
        .set_faults(parse_spec("POST /Users=429:retry-after=5:times=2").unwrap());
    let before = h.clock.now();
    let (report, _) = h.cycle().await;
    assert_eq!((report.counts.created, report.counts.failed), (2, 0));
    let posts = h
        .requests()
        .iter()
        .filter(|r| r.as_str() == "POST /Users")
        .count();
    assert_eq!(posts, 4, "two 429s, then both creates");
    // Ten simulated seconds waited, plus the 40 minutes the harness moves between cycles.
    assert_eq!(
        h.clock.now() - before,
        chrono::Duration::seconds(10) + chrono::Duration::minutes(40)
    );
}

#[tokio::test]
async fn too_many_requests_without_retry_after_is_escrowed_and_retried_next_cycle() {
    let mut h = two_users().await;
    h.target
        .set_faults(parse_spec("POST /Users=429:times=1").unwrap());
    let (_, logs) = h.cycle().await;
    let failed = failures(&logs);
    assert_eq!(failed[0].1, "TooManyRequests");
    h.cycle().await;
    assert_eq!(h.target.users().len(), 2);
}
