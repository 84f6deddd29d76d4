//! Issues 4 and 18: the `run` daemon — cron schedules on simulated time, SIGTERM ending a
//! real-time daemon between cycles with everything persisted, the job's files read again when they
//! change under it; a schedule that never fires, files that break under it, virtual time kept off
//! the real state, durations out of range.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use entra_sim::target::{self, TargetConfig};

use crate::support::{Harness, TOKEN, Test, repo};

#[tokio::test]
async fn a_cron_schedule_decides_when_healthy_cycles_run() {
    let h = Harness::alice().await;
    let out = Test::new()
        .args([
            "run",
            "--job",
            "job.yaml",
            "--virtual-time",
            "--until",
            "1h",
            "--cron",
            "0 */10 * * * *",
        ])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    out.status(0);
    let cycles = out
        .stdout
        .lines()
        .filter(|l| l.contains(" cycle: "))
        .count();
    assert!((6..=7).contains(&cycles), "{}", out.stdout);
    for gap in out
        .stdout
        .lines()
        .filter_map(|l| l.split("next cycle in ").nth(1))
    {
        assert!(seconds(gap) <= 600, "{}", out.stdout);
    }
    assert_eq!(h.target.users().len(), 1);
    let bad = Test::new()
        .args(["run", "--job", "job.yaml", "--cron", "every day"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(bad.code, 3, "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_daemon_after_its_cycle() {
    let h = Harness::alice().await;
    let mut child = Test::new()
        .args(["run", "--job", "job.yaml", "--interval", "1h"])
        .current_dir(h.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
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
    let status = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
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
    Test::new()
        .args([
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
        ])
        .run()
        .success();
    for r in 1..versions.len() {
        Test::new()
            .args([
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
            ])
            .run()
            .success();
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
        let out = Test::new()
            .args(["cycle", "--job", &s(&job)])
            .current_dir(dir)
            .run_async()
            .await;
        out.status(0);
    }
    // The daemon, every second, with each version put in place once it has run two cycles
    // since the last (the second began after the change).
    let live = spawn().await.unwrap();
    let home = dir.join("live");
    let job = jsonl_job(&home, live.base_url());
    install(&versions[0], &home);
    let mut child = Test::new()
        .args(["run", "--job", &s(&job), "--interval", "1s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
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

/// The seconds in a gap as `run` prints it (`9m42s`, `6h`, `1d`).
fn seconds(gap: &str) -> i64 {
    let mut total = 0;
    let mut n = 0;
    for c in gap.chars() {
        match c.to_digit(10) {
            Some(d) => n = n * 10 + i64::from(d),
            None => {
                total += n * match c {
                    's' => 1,
                    'm' => 60,
                    'h' => 3600,
                    'd' => 86_400,
                    _ => panic!("{gap:?}"),
                };
                n = 0;
            }
        }
    }
    total
}

/// The time stamp a `run` line starts with.
fn stamp_of(line: &str) -> chrono::DateTime<chrono::Utc> {
    let stamp = line.split_whitespace().next().unwrap_or_default();
    chrono::DateTime::parse_from_rfc3339(stamp)
        .unwrap_or_else(|_| panic!("no time stamp: {line:?}"))
        .to_utc()
}

/// `entra-sim run` as a spawned process in `dir`, its standard output read line by line on a
/// thread of its own (so that a daemon printing fast never blocks on a full pipe).
struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Daemon {
    fn spawn(dir: &Path, args: &[&str]) -> Daemon {
        let mut child = Test::new()
            .arg("run")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Daemon {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line (off the runtime, so an in-process target keeps serving).
    async fn line(&mut self) -> String {
        let lines = std::mem::replace(&mut self.lines, mpsc::channel().1);
        let (lines, line) = tokio::task::spawn_blocking(move || {
            let line = lines.recv_timeout(Duration::from_secs(60));
            (lines, line)
        })
        .await
        .unwrap();
        self.lines = lines;
        let line = line.unwrap_or_else(|_| {
            let _ = self.child.kill();
            panic!("no line within a minute: {:#?}", self.seen)
        });
        // The last lines, for a failure's message (a runaway daemon prints millions).
        if self.seen.len() == 50 {
            self.seen.remove(0);
        }
        self.seen.push(line.clone());
        line
    }

    /// Lines up to and including the `times`-th that contains `what`, which must come within a
    /// minute (a daemon printing other lines forever fails the test, not hangs it).
    async fn until(&mut self, what: &str, times: usize) -> Vec<String> {
        let lines = tokio::time::timeout(Duration::from_secs(60), async {
            let mut lines = Vec::new();
            let mut found = 0;
            while found < times {
                let line = self.line().await;
                found += usize::from(line.contains(what));
                lines.push(line);
            }
            lines
        })
        .await;
        lines.unwrap_or_else(|_| {
            let _ = self.child.kill();
            panic!("no {what:?} within a minute: {:#?}", self.seen)
        })
    }

    /// Sends SIGTERM; the exit code, which must come within a second.
    async fn terminate(self) -> Option<i32> {
        assert!(
            Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        self.exit(Duration::from_secs(1)).await
    }

    /// The exit code, once the process ends; it is killed, and the test fails, if it has not
    /// ended within `limit`.
    async fn exit(self, limit: Duration) -> Option<i32> {
        let Daemon {
            mut child, seen, ..
        } = self;
        let pid = child.id().to_string();
        let waiting = tokio::task::spawn_blocking(move || child.wait().unwrap());
        match tokio::time::timeout(limit, waiting).await {
            Ok(status) => status.unwrap().code(),
            Err(_) => {
                Command::new("kill").args(["-KILL", &pid]).status().unwrap();
                panic!("still running after {limit:?}: {seen:#?}")
            }
        }
    }
}

/// Issue 18, item 1: a cron schedule with no next time made `run` loop back to back at full CPU,
/// deaf to signals. It is bad input, named, before any cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_a_cron_schedule_that_never_fires_is_refused_at_start() {
    let h = Harness::alice().await;
    for cron in ["0 0 0 31 2 *", "0 0 0 1 1 * 2020"] {
        for virtual_time in [false, true] {
            let mut args = vec!["--job", "job.yaml", "--cron", cron];
            if virtual_time {
                args.extend(["--virtual-time", "--until", "1d"]);
            }
            let status = Daemon::spawn(h.dir.path(), &args)
                .exit(Duration::from_secs(10))
                .await;
            assert_eq!(status, Some(3), "{cron} (virtual time: {virtual_time})");
        }
    }
    let out = Test::new()
        .args(["run", "--job", "job.yaml", "--cron", "0 0 0 31 2 *"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert!(
        out.stderr.contains("--cron \"0 0 0 31 2 *\"") && out.stderr.contains("no time after"),
        "{}",
        out.stderr
    );
    assert!(h.target.requests().is_empty(), "no cycle ran");
}

/// Issue 18, item 1: whatever the loop is doing, SIGTERM ends it within a second. A virtual run
/// of unchanged cycles never waits for real (each tick is instant): it used to never look at the
/// signal, and only SIGKILL ended it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_sigterm_ends_a_virtual_run_whose_ticks_are_instant() {
    let h = Harness::alice().await;
    let mut daemon = Daemon::spawn(
        h.dir.path(),
        &["--job", "job.yaml", "--virtual-time", "--interval", "1m"],
    );
    daemon.until(" cycle: ", 20).await;
    assert_eq!(daemon.terminate().await, Some(0));
}

/// Issue 18, item 2: files that break under a running daemon were reported, with "next cycle in
/// 0m", hundreds of times a second. They are reported once; the daemon says when it tries again,
/// waits for that tick (one interval), and reports at each try only that they still do not load.
/// On the simulated clock each tick is instant, so the gaps are read from the time stamps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_files_that_break_under_the_daemon_are_tried_again_each_tick() {
    let h = Harness::alice().await;
    let mut daemon = Daemon::spawn(
        h.dir.path(),
        &["--job", "job.yaml", "--virtual-time", "--interval", "3s"],
    );
    daemon.until("next cycle in 3s", 1).await;
    std::fs::write(h.dir.path().join("directory.yaml"), "users: [\n").unwrap();
    let reported = daemon.until("do not load, so no cycle runs", 1).await;
    let lines = daemon.until("do not load", 4).await;
    assert_eq!(daemon.terminate().await, Some(0));
    let problem = |l: &String| l.starts_with("directory.yaml:2:1: malformed YAML");
    assert!(!reported.iter().any(problem), "{reported:#?}");
    assert_eq!(
        lines.iter().filter(|l| problem(l)).count(),
        1,
        "reported once: {lines:#?}"
    );
    // The report's own lines (file, line, what) carry no time stamp.
    let lines: Vec<String> = lines.into_iter().filter(|l| !problem(l)).collect();
    let reports: Vec<&String> = lines.iter().filter(|l| l.contains("do not load")).collect();
    assert!(
        reports
            .iter()
            .all(|l| l.contains("still do not load (as reported above)")),
        "{lines:#?}"
    );
    for pair in reports.windows(2) {
        assert_eq!(
            stamp_of(pair[1]) - stamp_of(pair[0]),
            chrono::TimeDelta::seconds(3),
            "{lines:#?}"
        );
    }
    assert!(
        lines
            .iter()
            .filter(|l| !l.contains("do not load"))
            .all(|l| l.ends_with("next try in 3s")),
        "{lines:#?}"
    );
}

/// Issue 18, item 4: `run --virtual-time --until 30d` wrote cycles and logs stamped a month ahead
/// into the job's real state. It works on a copy: the real state is as it was, the copy is gone
/// at the end, and with --keep-state it stays where the run says, readable by `status` through
/// ENTRA_SIM_STATE_DIR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_a_virtual_run_leaves_the_real_state_untouched() {
    let h = Harness::alice().await;
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    cycle.status(0);
    let status = || async {
        let out = Test::new()
            .args(["status", "--job", "job.yaml", "--json"])
            .current_dir(h.dir.path())
            .run_async()
            .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()
    };
    let logs = || async {
        Test::new()
            .args(["logs", "--job", "job.yaml", "--json"])
            .current_dir(h.dir.path())
            .run_async()
            .await
            .stdout
    };
    let (before, logged) = (status().await, logs().await);
    let args = [
        "run",
        "--job",
        "job.yaml",
        "--virtual-time",
        "--until",
        "30d",
    ];
    let out = Test::new()
        .args(args)
        .current_dir(h.dir.path())
        .run_async()
        .await;
    out.status(0);
    assert!(
        out.stdout
            .lines()
            .filter(|l| l.contains(" cycle: "))
            .count()
            > 1000
    );
    assert_eq!(status().await, before, "the real state moved");
    assert_eq!(logs().await, logged, "the real logs moved");
    let copy = |stdout: &str| -> PathBuf {
        let line = stdout
            .lines()
            .find(|l| l.starts_with("virtual time: working on a copy"))
            .unwrap_or_else(|| panic!("{stdout}"));
        let path = line
            .split(" in ")
            .nth(1)
            .unwrap()
            .split(" (")
            .next()
            .unwrap();
        PathBuf::from(path)
    };
    assert!(!copy(&out.stdout).exists(), "the copy was removed");

    let mut kept_args = args.to_vec();
    kept_args.push("--keep-state");
    let kept = Test::new()
        .args(&kept_args)
        .current_dir(h.dir.path())
        .run_async()
        .await;
    kept.status(0);
    let dir = copy(&kept.stdout);
    assert!(
        kept.stdout.lines().last().unwrap().contains(&format!(
            "ENTRA_SIM_STATE_DIR={} entra-sim status --job job.yaml",
            dir.display()
        )),
        "{}",
        kept.stdout
    );
    let out = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .env("ENTRA_SIM_STATE_DIR", &dir)
        .run();
    let virtual_status: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let ended = |s: &serde_json::Value| {
        s["status"]["lastExecution"]["timeEnded"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert!(
        ended(&virtual_status) - ended(&before) > chrono::TimeDelta::days(29),
        "{virtual_status}"
    );
    assert_eq!(status().await, before, "the real state moved");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 18, item 5: `--interval 99999999999999d` panicked in chrono (exit 101); `1ms` and a
/// number too long for an integer read "expected a number before …". Each is refused by the
/// command line (exit 3) with the allowed range and units.
#[tokio::test]
async fn issue_18_durations_out_of_range_are_refused_with_the_range() {
    let h = Harness::alice().await;
    for (flag, value, wanted) in [
        ("--interval", "99999999999999d", "longer than 365d"),
        ("--interval", "9999999999999h", "longer than 365d"),
        ("--until", "99999999999999d", "longer than 3650d"),
        ("--until", "999999999999999999999d", "longer than 3650d"),
        ("--interval", "1ms", "unknown unit 'ms'"),
        ("--interval", "0s", "shorter than 1s"),
    ] {
        let out = Test::new()
            .args(["run", "--job", "job.yaml", flag, value])
            .current_dir(h.dir.path())
            .run_async()
            .await;
        assert_eq!(out.code, 3, "{flag} {value}: {}", out.stderr);
        assert!(
            out.stderr.contains(wanted) && out.stderr.contains("s, m, h or d"),
            "{flag} {value}: {}",
            out.stderr
        );
    }
    assert!(h.target.requests().is_empty(), "no cycle ran");
}
