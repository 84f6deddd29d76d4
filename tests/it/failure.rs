//! Issue 4: Entra's failure behaviour on a fake clock — quarantine and its back-off, escrow
//! thresholds, initial-cycle pruning, the accidental-deletion guard and restart scopes.

use entra_sim::policy::JobCode;
use entra_sim::target::parse_spec;

use crate::support::{Harness, JobFiles, Test, tenant, user, users};

fn state(h: &mut Harness) -> entra_sim::policy::JobState {
    h.close_store();
    let loaded = h.loaded();
    loaded.store().unwrap().job_state().unwrap()
}

#[tokio::test]
async fn bad_credentials_quarantine_and_a_good_cycle_lifts_it() {
    let mut h = Harness::users(2).await;
    h.target.set_faults(parse_spec("* *=unauthorized").unwrap());
    let (report, _) = h.cycle().await;
    assert_eq!(report.job_status, JobCode::Quarantine);
    assert_eq!(
        report.quarantine.as_deref(),
        Some("EncounteredQuarantineException")
    );
    let quarantined = state(&mut h);
    let q = quarantined.quarantine.clone().unwrap();
    assert_eq!(q.next_attempt - q.series_began, chrono::Duration::hours(6));
    h.target.set_faults(Vec::new());
    let (report, _) = h.cycle().await;
    assert_eq!(report.job_status, JobCode::Active);
    assert_eq!(report.counts.created, 2);
    assert!(state(&mut h).quarantine.is_none());
}

#[tokio::test]
async fn not_found_instead_of_an_empty_list_quarantines() {
    let mut h = Harness::users(1).await;
    h.target.set_faults(parse_spec("GET /Users=404").unwrap());
    let (report, _) = h.cycle().await;
    assert_eq!(report.job_status, JobCode::Quarantine);
    assert!(
        state(&mut h)
            .quarantine
            .unwrap()
            .error
            .message
            .contains("SCIM Compliance issue")
    );
}

#[tokio::test]
async fn the_quarantine_ladder_runs_to_daily_and_disables_the_job_after_four_weeks() {
    let h = Harness::users(1).await;
    h.target.set_faults(parse_spec("* *=unauthorized").unwrap());
    let out = Test::new()
        .args([
            "run",
            "--job",
            "job.yaml",
            "--virtual-time",
            "--until",
            "30d",
            "--keep-state",
        ])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    out.status(2);
    // The virtual month ran on a copy of the state (issue 18, item 4), kept where it says.
    let kept = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("the virtual run's state is kept in "))
        .and_then(|l| l.split("; ").next())
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let copy = std::path::Path::new(kept);
    let gaps: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split("next cycle in ").nth(1))
        .collect();
    assert_eq!(&gaps[..4], &["6h", "6h", "12h", "1d"], "{}", out.stdout);
    assert!(gaps[4..].iter().all(|g| *g == "1d"), "{gaps:?}");
    out.stdout_contains("job Disabled");
    assert!(
        out.stdout
            .lines()
            .rev()
            .nth(1)
            .unwrap()
            .contains("job disabled"),
        "{}",
        out.stdout
    );
    // The clock was simulated: four weeks of cycles, each a real request.
    assert!(
        h.target.requests().len() >= 25,
        "{}",
        h.target.requests().len()
    );
    let status = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .env("ENTRA_SIM_STATE_DIR", copy)
        .run_async()
        .await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["status"]["code"], "Quarantine");
    assert_eq!(json["schedule"]["state"], "Disabled");
    assert_eq!(
        json["status"]["quarantine"]["reason"],
        "EncounteredQuarantineException"
    );
    // A disabled job refuses to cycle until restarted.
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .env("ENTRA_SIM_STATE_DIR", copy)
        .run_async()
        .await;
    assert_eq!(cycle.code, 2);
    h.target.set_faults(Vec::new());
    assert_eq!(
        Test::new()
            .args(["restart", "--job", "job.yaml"])
            .current_dir(h.dir.path())
            .env("ENTRA_SIM_STATE_DIR", copy)
            .run_async()
            .await
            .code,
        0
    );
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .env("ENTRA_SIM_STATE_DIR", copy)
        .run_async()
        .await;
    cycle.status(0);
    let status = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .env("ENTRA_SIM_STATE_DIR", copy)
        .run_async()
        .await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["status"]["code"], "Active");
    std::fs::remove_dir_all(kept).unwrap();
}

const SMALL: &str = "scope: all\nsettings:\n  escrow_thresholds: { min_failures: 2, max_failure_percent: 40, max_failures: 100, max_total_failures: 100 }\n";

#[tokio::test]
async fn escrow_thresholds_quarantine_an_incremental_cycle() {
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users(4), &[]),
        extra: SMALL,
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    let renamed: Vec<String> = (0..4)
        .map(|i| {
            user(&format!("u{i}"))
                .nick(&format!("user{i}"))
                .given("Renamed")
                .yaml()
        })
        .collect();
    h.set_directory(&tenant(&renamed, &[]));
    h.target
        .set_faults(parse_spec("PATCH /Users/*=400:times=3").unwrap());
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.failed, 3);
    assert_eq!(report.job_status, JobCode::Quarantine);
    assert_eq!(
        report.quarantine.as_deref(),
        Some("EncounteredEscrowProportionThreshold")
    );
    assert_eq!(report.escrowed, 3);
}

#[tokio::test]
async fn an_initial_cycle_prunes_escrows_and_pauses() {
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users(4), &[]),
        extra: SMALL,
        ..JobFiles::default()
    })
    .await;
    h.target
        .set_faults(parse_spec("POST /Users=400:times=3").unwrap());
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.failed, 3);
    assert_eq!(report.job_status, JobCode::Paused);
    assert_eq!(report.escrowed, 0, "escrows were pruned");
    let st = state(&mut h);
    assert!(st.escrows_pruned);
    assert_eq!(st.code, JobCode::Paused);
}

#[tokio::test]
async fn the_deletion_guard_stages_deletes_until_force_deletes() {
    let extra = "scope: all\nsettings:\n  deletion_threshold: 1\n";
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users(3), &[]),
        extra,
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    h.set_directory(&tenant(&users(3)[..1], &[]));
    let (report, logs) = h.cycle().await;
    assert!(
        h.requests().is_empty(),
        "nothing is deleted: {:?}",
        h.requests()
    );
    assert_eq!(report.staged_deletes, 2);
    assert_eq!(report.quarantine.as_deref(), Some("TooManyDeletes"));
    assert!(
        logs.iter()
            .filter(
                |l| l.provisioning_action == entra_sim::provlog::ProvisioningAction::StagedDelete
            )
            .count()
            == 2
    );
    assert_eq!(h.target.users().len(), 3);
    // Allow deletes: the next cycle sends them.
    h.close_store();
    assert_eq!(
        Test::new()
            .args(["restart", "--job", "job.yaml", "--scope", "ForceDeletes"])
            .current_dir(h.dir.path())
            .run_async()
            .await
            .code,
        0
    );
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.deleted, 2);
    assert_eq!(h.target.users().len(), 1);
    assert_eq!(report.job_status, JobCode::Active);
}

#[tokio::test]
async fn restart_scopes_clear_what_they_name() {
    let mut h = Harness::users(2).await;
    h.cycle().await;
    h.close_store();
    let bad = Test::new()
        .args([
            "restart",
            "--job",
            "job.yaml",
            "--scope",
            "Watermark,Escrow",
        ])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(bad.code, 3);
    bad.stderr_contains("Escrow");
    // Watermark: everyone is re-evaluated (reads, no writes — nothing changed).
    assert_eq!(
        Test::new()
            .args(["restart", "--job", "job.yaml", "--scope", "Watermark"])
            .current_dir(h.dir.path())
            .run_async()
            .await
            .code,
        0
    );
    let (report, _) = h.cycle().await;
    assert_eq!(report.kind, entra_sim::plan::CycleKind::Initial);
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{user0@contoso.com}",
            "GET /Users/{user1@contoso.com}"
        ]
    );
    // Full: connections are forgotten; objects are matched again by filter.
    h.close_store();
    assert_eq!(
        Test::new()
            .args(["restart", "--job", "job.yaml", "--scope", "Full"])
            .current_dir(h.dir.path())
            .run_async()
            .await
            .code,
        0
    );
    h.cycle().await;
    assert!(
        h.requests()
            .iter()
            .all(|r| r.starts_with("GET /Users?filter=")),
        "{:?}",
        h.requests()
    );
}
