//! The unchanged-source cycle (issue "Scale", step 4): after a clean cycle, a cycle over the same
//! bytes (job, directory, mapping) is recorded without reading the tenant — and every condition
//! that needs a full cycle gets one.

use entra_sim::clock::SystemClock;
use entra_sim::engine;
use entra_sim::policy::JobCode;
use entra_sim::target::parse_spec;
use rand::SeedableRng;

use crate::support::{Harness, JobFiles, Test, tenant, user, users};

/// Whether the next cycle may skip reading the tenant, asked the way `cycle` asks it.
fn skippable(h: &mut Harness) -> bool {
    h.close_store();
    let sources = entra_sim::config::job_sources(&h.job_path()).expect("job sources");
    let loaded = h.loaded();
    assert_eq!(sources.state_dir, loaded.job.settings.state_dir);
    assert_eq!(
        Some(&sources.digest),
        loaded.job.source_digest.as_ref(),
        "same bytes, same digest"
    );
    let store = loaded.store().unwrap();
    // Asked on a copy of the state, so that asking records nothing.
    let copy = h.dir.path().join("state-copy");
    let _ = std::fs::remove_dir_all(&copy);
    drop(store);
    copy_dir(&loaded.job.settings.state_dir, &copy);
    let store = entra_sim::store::Store::open(&copy).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let report =
        engine::unchanged_cycle(&store, &sources.digest, 30, &SystemClock, &mut rng).unwrap();
    if let Some(r) = &report {
        assert_eq!(r.requests, 0);
        assert_eq!(r.kind, entra_sim::plan::CycleKind::Incremental);
        assert_eq!(r.job_status, JobCode::Active);
    }
    report.is_some()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &path);
        } else {
            std::fs::copy(entry.path(), path).unwrap();
        }
    }
}

const ALL: &str = "scope: all\n";

#[tokio::test]
async fn a_clean_cycle_lets_the_same_bytes_skip_and_any_change_reads_again() {
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users(3), &[]),
        extra: ALL,
        ..JobFiles::default()
    })
    .await;
    assert!(!skippable(&mut h), "no cycle yet");
    h.cycle().await;
    assert!(skippable(&mut h));
    // The engine takes the same path: nothing read, sent or logged.
    let (report, logs) = h.cycle().await;
    assert!(report.source_unchanged);
    assert_eq!((report.requests, logs.len()), (0, 0));
    assert!(skippable(&mut h), "a skipped cycle keeps the digest");

    // One byte of the directory: a full (incremental) cycle, which sends the change.
    let mut changed = users(3);
    changed[1] = user("u1").nick("user1").given("Renamed").yaml();
    h.set_directory(&tenant(&changed, &[]));
    assert!(!skippable(&mut h));
    let (report, _) = h.cycle().await;
    assert_eq!(report.kind, entra_sim::plan::CycleKind::Incremental);
    assert!(!report.source_unchanged);
    assert_eq!(report.counts.updated, 1);
    assert!(skippable(&mut h), "clean again");

    // The job file (a setting) and the mapping count too.
    h.set_job_extra("scope: all\nsettings:\n  member_batch_size: 50\n", "");
    assert!(!skippable(&mut h));
    h.cycle().await;
    assert!(skippable(&mut h));
}

#[tokio::test]
async fn failures_escrow_and_restarts_need_a_full_cycle() {
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users(4), &[]),
        extra: ALL,
        ..JobFiles::default()
    })
    .await;
    h.cycle().await;
    let mut changed = users(4);
    changed[0] = user("u0").nick("user0").given("Renamed").yaml();
    h.set_directory(&tenant(&changed, &[]));
    h.target
        .set_faults(parse_spec("PATCH /Users/*=500:times=1").unwrap());
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.failed, 1);
    assert_eq!(report.escrowed, 1);
    assert!(!skippable(&mut h), "an escrowed object waits for its retry");
    // The retry (same bytes) goes through the full cycle and succeeds.
    h.clock.advance(chrono::Duration::hours(7));
    let (report, _) = h.cycle().await;
    assert_eq!((report.counts.updated, report.escrowed), (1, 0));
    assert!(skippable(&mut h));

    // A restart forgets the digest: the next cycle is initial and reads everything.
    h.close_store();
    let job = h.job_path();
    Test::new()
        .args(["restart", "--job"])
        .arg(&job)
        .run()
        .success();
    assert!(!skippable(&mut h));
    let (report, _) = h.cycle().await;
    assert_eq!(report.kind, entra_sim::plan::CycleKind::Initial);
}

#[test]
fn the_cycle_command_skips_an_unchanged_tenant_without_loading_it() {
    // A clean cycle of the quickstart's job shape against a target served by the binary.
    let dir = tempfile::tempdir().unwrap();
    let (mut target, url) = crate::support::serve_target("t0k3n", &[]);
    std::fs::write(dir.path().join("dir.yaml"), tenant(&users(2), &[])).unwrap();
    std::fs::write(
        dir.path().join("job.yaml"),
        format!(
            "directory: dir.yaml\nmapping: {}\ntarget:\n  url: {url}\n  token_env: T\nscope: all\n",
            crate::support::repo("mappings/uni-tel.yaml").display()
        ),
    )
    .unwrap();
    let cycle = || {
        Test::new()
            .args(["cycle", "--json", "--quiet", "--job"])
            .arg(dir.path().join("job.yaml"))
            .env("T", "t0k3n")
            .run()
    };
    let first = cycle();
    first.success();
    let out: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(out["cycle"]["sourceUnchanged"], false);
    let _ = target.kill();
    let _ = target.wait();
    let second = cycle();
    second.success();
    let out: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(out["cycle"]["sourceUnchanged"], true);
    assert_eq!(out["cycle"]["requests"], 0);
    assert_eq!(out["cycle"]["kind"], "Incremental");
    // A changed directory needs the target again: the full cycle finds it gone (exit 2).
    std::fs::write(dir.path().join("dir.yaml"), tenant(&users(3), &[])).unwrap();
    cycle().status(2);
}

#[tokio::test]
async fn a_job_file_with_an_inline_token_is_never_fingerprinted() {
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users(2), &[]),
        extra: ALL,
        ..JobFiles::default()
    })
    .await;
    let job = std::fs::read_to_string(h.job_path()).unwrap();
    let inline = job.replace(
        "token_file: token",
        &format!("token: {}", crate::support::TOKEN),
    );
    assert_ne!(job, inline);
    std::fs::write(h.job_path(), inline).unwrap();
    assert!(h.loaded().job.source_digest.is_none());
    assert!(entra_sim::config::job_sources(&h.job_path()).is_none());
    h.cycle().await;
    let (report, _) = h.cycle().await;
    assert!(!report.source_unchanged, "the full cycle ran");
    h.close_store();
    let store = h.loaded().store().unwrap();
    assert_eq!(
        store.source_digest().unwrap(),
        None,
        "nothing derived from the token is stored"
    );
}
