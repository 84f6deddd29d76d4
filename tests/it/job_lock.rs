//! Issue 18, item 3: a running daemon no longer locks everyone out of the job. Between cycles it
//! holds nothing; `pause` reaches it at its next tick; while a cycle holds the state, `status`,
//! `logs` and `report` read around it and the commands that need the state say who holds it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use entra_sim::store::Store;

use crate::support::{Harness, Output, Test, tenant, user};

/// A spawned daemon and the lines it prints, killed if the test ends before it does.
struct Daemon {
    child: Option<Child>,
    lines: Option<mpsc::Receiver<String>>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Daemon {
    /// `entra-sim run --job job.yaml` with `extra` arguments in the harness's folder.
    fn spawn(h: &Harness, extra: &[&str]) -> Daemon {
        let mut child = Test::new()
            .args(["run", "--job", "job.yaml"])
            .args(extra)
            .current_dir(h.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if send.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Daemon {
            child: Some(child),
            lines: Some(lines),
        }
    }

    /// The lines it prints up to the first that contains `needle` (waited for off the runtime,
    /// so that the in-process target keeps serving).
    async fn until(&mut self, needle: &'static str) -> Vec<String> {
        let lines = self.lines.take().unwrap();
        let (lines, seen) = tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            while let Ok(line) = lines.recv_timeout(Duration::from_secs(60)) {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    break;
                }
            }
            (lines, seen)
        })
        .await
        .unwrap();
        self.lines = Some(lines);
        assert!(
            seen.last().is_some_and(|l| l.contains(needle)),
            "no {needle:?} in {seen:?}"
        );
        seen
    }

    fn pid(&self) -> String {
        self.child.as_ref().unwrap().id().to_string()
    }

    /// Waits (off the runtime) for the daemon to end.
    async fn exit_code(mut self) -> Option<i32> {
        let mut child = self.child.take().unwrap();
        tokio::time::timeout(
            Duration::from_secs(60),
            tokio::task::spawn_blocking(move || child.wait().unwrap()),
        )
        .await
        .expect("the daemon ends")
        .unwrap()
        .code()
    }
}

/// [`Daemon::spawn`], once it has finished its first cycle and waits for the next.
async fn daemon_between_cycles(h: &Harness, extra: &[&str]) -> Daemon {
    let mut daemon = Daemon::spawn(h, extra);
    let lines = daemon.until("next cycle in").await;
    assert!(
        lines.iter().any(|l| l.contains("initial cycle")),
        "{lines:?}"
    );
    daemon
}

fn no_raw_lock_text(out: &Output) {
    for text in [&out.stdout, &out.stderr] {
        for raw in ["Os {", "WouldBlock", "could not acquire lock", "IO error"] {
            assert!(!text.contains(raw), "{raw:?} in {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_a_daemon_waiting_for_its_next_cycle_locks_nobody_out() {
    let h = Harness::alice().await;
    let d = h.dir.path();
    let daemon = daemon_between_cycles(&h, &["--interval", "1h"]).await;
    let report = d.join("out").join("report.html");
    let report_arg = report.to_str().unwrap();
    for args in [
        &["status", "--job", "job.yaml"][..],
        &["logs", "--job", "job.yaml"],
        &["report", "--job", "job.yaml", "--out", report_arg],
        &["plan", "--job", "job.yaml"],
        &["drift", "--job", "job.yaml"],
        &["cycle", "--job", "job.yaml"],
        &["restart", "--job", "job.yaml"],
        &["pause", "--job", "job.yaml"],
        &["start", "--job", "job.yaml"],
    ] {
        let out = Test::new().args(args).current_dir(d).run_async().await;
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
        // The state was free: nothing is read from a snapshot.
        assert!(
            !out.stderr.contains("holds the job's state"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert!(report.exists());
    let pid = daemon.pid();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(daemon.exit_code().await, Some(0));
    assert_eq!(h.target.users().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_pause_reaches_a_running_daemon_at_its_next_tick() {
    let h = Harness::alice().await;
    let d = h.dir.path();
    let daemon = daemon_between_cycles(&h, &["--interval", "3s"]).await;
    let pause = Test::new()
        .args(["pause", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    pause.status(0);
    // The daemon reads the job's state before its next cycle, finds it paused and ends.
    assert_eq!(daemon.exit_code().await, Some(0));
    let status = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(d)
        .run_async()
        .await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["status"]["code"], "Paused", "{}", status.stdout);
    let start = Test::new()
        .args(["start", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(start.code, 0, "{}", start.stderr);
}

#[tokio::test]
async fn issue_18_while_a_cycle_holds_the_state_readers_read_around_it_and_writers_name_it() {
    let h = Harness::alice().await;
    let d = h.dir.path();
    let first = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    first.status(0);
    // A user to create, so a cycle that got in would create her.
    h.set_directory(&tenant(
        &[
            user("a1").nick("alice").given("Alice").title("CEO").yaml(),
            user("b2").nick("bob").given("Bob").title("CFO").yaml(),
        ],
        &[],
    ));
    let state_dir = entra_sim::config::state_dir_of(&h.job_path()).unwrap();
    // This process holds the state as a running cycle would.
    let holding = Store::open(&state_dir).unwrap();
    let pid = std::process::id().to_string();

    let status = Test::new()
        .args(["status", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    status.stdout_contains("last cycle");
    assert!(
        status.stderr.contains(&format!("note: process {pid} (")),
        "{}",
        status.stderr
    );
    let json = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["status"]["code"], "Active");
    assert!(
        json.to_string()
            .contains(r#"{"key":"user to User","value":1}"#),
        "{json}"
    );
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    logs.stdout_contains("alice");
    let report = d.join("report.html");
    let out = Test::new()
        .args([
            "report",
            "--job",
            "job.yaml",
            "--out",
            report.to_str().unwrap(),
        ])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);

    // What needs the state says who holds it and what to do, in words, and changes nothing.
    for args in [
        &["cycle", "--job", "job.yaml"][..],
        &["pause", "--job", "job.yaml"],
        &["restart", "--job", "job.yaml"],
        &["plan", "--job", "job.yaml"],
    ] {
        let out = Test::new().args(args).current_dir(d).run_async().await;
        assert_eq!(out.code, 4, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains(&format!("the job's state is in use by process {pid} (")),
            "{args:?}: {}",
            out.stderr
        );
        out.stderr_contains("wait for its cycle to end, or stop it");
        no_raw_lock_text(&out);
    }
    assert_eq!(
        h.target.users().len(),
        1,
        "the refused cycle created nobody"
    );
    assert_eq!(
        holding.job_state().unwrap().code,
        entra_sim::policy::JobCode::Active
    );
    drop(holding);
    let second = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    second.status(0);
    assert_eq!(h.target.users().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_a_daemon_whose_tick_finds_the_state_held_waits_for_it_and_says_for_whom() {
    let h = Harness::alice().await;
    let state_dir = entra_sim::config::state_dir_of(&h.job_path()).unwrap();
    let holding = Store::open(&state_dir).unwrap();
    let mut daemon = Daemon::spawn(&h, &["--interval", "1h"]);
    let waiting = daemon.until("to release the job's state").await;
    assert!(
        waiting[0].contains(&format!("waiting for process {} (", std::process::id())),
        "{waiting:?}"
    );
    assert!(h.target.users().is_empty());
    drop(holding);
    let lines = daemon.until("next cycle in").await;
    assert!(
        lines.iter().any(|l| l.contains("initial cycle")),
        "{lines:?}"
    );
    assert_eq!(h.target.users().len(), 1);
    let pid = daemon.pid();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(daemon.exit_code().await, Some(0));
}
