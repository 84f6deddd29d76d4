//! Issue 4: the `run` daemon — cron schedules on simulated time, and SIGTERM ending a real-time
//! daemon between cycles with everything persisted.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::cli::run;
use crate::support::{Harness, tenant, user};

#[tokio::test]
async fn a_cron_schedule_decides_when_healthy_cycles_run() {
    let h = Harness::new(
        &tenant(&[user("a1", "alice", "Alice", "CEO", None, "")], &[]),
        "mappings/uni-tel.yaml",
        "scope: all\n",
        "",
    )
    .await;
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
    let h = Harness::new(
        &tenant(&[user("a1", "alice", "Alice", "CEO", None, "")], &[]),
        "mappings/uni-tel.yaml",
        "scope: all\n",
        "",
    )
    .await;
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
