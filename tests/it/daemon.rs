//! Issue 4: the `run` daemon — cron schedules on simulated time, SIGTERM ending a real-time
//! daemon between cycles with everything persisted, and the job's files read again when they
//! change under it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use entra_sim::target::{self, TargetConfig};

use crate::cli::run;
use crate::support::{Harness, TOKEN, repo, run_bin};

#[tokio::test]
async fn a_cron_schedule_decides_when_healthy_cycles_run() {
    let h = Harness::alice().await;
    let out = run(
        &[
            "run",
            "--job",
            "job.yaml",
            "--virtual-time",
            "--until",
            "1h",
            "--cron",
            "0 */10 * * * *",
        ],
        h.dir.path(),
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let cycles = out
        .stdout
        .lines()
        .filter(|l| l.contains(" cycle: "))
        .count();
    assert!((6..=7).contains(&cycles), "{}", out.stdout);
    for line in out
        .stdout
        .lines()
        .filter_map(|l| l.split("next cycle in ").nth(1))
    {
        let minutes: i64 = line.trim_end_matches('m').parse().unwrap_or(99);
        assert!(minutes <= 10, "{}", out.stdout);
    }
    assert_eq!(h.target.users().len(), 1);
    let bad = run(
        &["run", "--job", "job.yaml", "--cron", "every day"],
        h.dir.path(),
    )
    .await;
    assert_eq!(bad.code, 3, "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_daemon_after_its_cycle() {
    let h = Harness::alice().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_entra-sim"))
        .args(["run", "--job", "job.yaml", "--interval", "1h"])
        .current_dir(h.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Wait (off the runtime, so the target keeps serving) until the daemon is between cycles.
    let first_lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let sleeping = line.contains("next cycle in");
            lines.push(line);
            if sleeping {
                break;
            }
        }
        lines
    });
    let lines = tokio::time::timeout(std::time::Duration::from_secs(60), first_lines)
        .await
        .unwrap()
        .unwrap();
    assert!(
        lines.iter().any(|l| l.contains("initial cycle")),
        "{lines:?}"
    );
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait().unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(h.target.users().len(), 1);
    let status = run(&["status", "--job", "job.yaml", "--json"], h.dir.path()).await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["status"]["code"], "Active");
    assert_eq!(json["status"]["lastExecution"]["state"], "Succeeded");
}

/// One job over a JSON-lines `tenant.jsonl` in `home`, against `url`.
fn jsonl_job(home: &Path, url: &str) -> PathBuf {
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(home.join("token"), TOKEN).unwrap();
    let job = home.join("job.yaml");
    std::fs::write(
        &job,
        format!(
            "directory: tenant.jsonl\nmapping: {}\ntarget:\n  url: {url}\n  token_file: token\nscope: all\n",
            repo("mappings/uni-tel.yaml").display()
        ),
    )
    .unwrap();
    job
}

/// Puts `version` in place as `home`'s tenant in one step (a rename), so that no reader sees
/// half a file.
fn install(version: &Path, home: &Path) {
    let next = home.join("tenant.next");
    std::fs::copy(version, &next).unwrap();
    std::fs::rename(&next, home.join("tenant.jsonl")).unwrap();
}

/// A tenant edited while the daemon runs is what its next cycle provisions: three versions put in
/// place under a running `run` (each read by line deltas) give the requests and the target that
/// `cycle` run once per version gives; a version that does not load stops nothing and sends
/// nothing, and the daemon goes on once it loads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_reads_the_job_files_again_when_they_change() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let versions: Vec<PathBuf> = (0..4)
        .map(|r| dir.join(format!("tenant-{r}.jsonl")))
        .collect();
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    run_bin(&[
        "directory",
        "generate",
        "--users",
        "300",
        "--groups",
        "6",
        "--seed",
        "7",
        "--out",
        &s(&versions[0]),
    ]);
    for r in 1..versions.len() {
        run_bin(&[
            "directory",
            "mutate",
            "--in",
            &s(&versions[r - 1]),
            "--changes",
            "20",
            "--seed",
            &r.to_string(),
            "--out",
            &s(&versions[r]),
        ]);
    }
    let spawn = || {
        target::spawn(TargetConfig {
            token: Some(TOKEN.into()),
            ..TargetConfig::default()
        })
    };
    // The reference: `cycle` once per version.
    let reference = spawn().await.unwrap();
    let home = dir.join("reference");
    let job = jsonl_job(&home, reference.base_url());
    for version in &versions {
        install(version, &home);
        let out = crate::cli::run(&["cycle", "--job", &s(&job)], dir).await;
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    }
    // The daemon, every second, with each version put in place once it has run two cycles
    // since the last (the second began after the change).
    let live = spawn().await.unwrap();
    let home = dir.join("live");
    let job = jsonl_job(&home, live.base_url());
    install(&versions[0], &home);
    let mut child = Command::new(env!("CARGO_BIN_EXE_entra-sim"))
        .args(["run", "--job", &s(&job), "--interval", "1s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = async |what: &str, times: usize| {
        let mut found = 0;
        while found < times {
            let line = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what:?} within a minute: {seen:#?}"))
                .unwrap_or_else(|| panic!("the daemon ended: {seen:#?}"));
            if line.contains(what) {
                found += 1;
            }
            seen.push(line);
        }
    };
    wait_for("initial cycle", 1).await;
    for version in &versions[1..] {
        install(version, &home);
        wait_for("incremental cycle", 2).await;
        if version == &versions[2] {
            std::fs::write(home.join("tenant.next"), "{\"kind\": \"user\"\n").unwrap();
            std::fs::rename(home.join("tenant.next"), home.join("tenant.jsonl")).unwrap();
            let before = live.requests().len();
            wait_for("do not load", 2).await;
            assert_eq!(live.requests().len(), before, "nothing sent");
            install(version, &home);
            wait_for("incremental cycle", 2).await;
        }
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let sent = |t: &target::RunningTarget| -> Vec<String> {
        t.requests()
            .iter()
            .map(|r| format!("{} {} {:?}", r.method, r.path, r.body))
            .collect()
    };
    assert_eq!(sent(&live), sent(&reference));
    // What each target holds, without `meta` (times, and the port in its location).
    let held = |t: &target::RunningTarget| -> Vec<serde_json::Value> {
        let mut all = t.users();
        all.extend(t.groups());
        for o in &mut all {
            o.as_object_mut().unwrap().remove("meta");
        }
        all
    };
    assert!(held(&live) == held(&reference), "the targets differ");
}
