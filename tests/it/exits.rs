//! Issue 18 (exit codes and state): a cycle that ends in quarantine fails (exit 2) and is not
//! recorded as a success; the unchanged-source cycle checks the token source first; a cycle with
//! nothing to do says what waits in escrow and when.
//!
//! Issue 19: a reader that closes standard output early (`entra-sim status | head -1`) is no
//! failure: the command exits 0 and says nothing, as ripgrep does.

use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;

use crate::support::{Harness, JobFiles, TOKEN, Test, repo, serve_target, tenant, user, users};

#[tokio::test]
async fn a_cycle_that_ends_in_quarantine_exits_2_and_is_no_success() {
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&users(3), &[]),
        extra: "scope: all\nsettings:\n  deletion_threshold: 1\n",
        ..JobFiles::default()
    })
    .await;
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.created, 3);
    h.close_store();
    h.set_directory(&tenant(&users(1), &[]));
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    cycle.status(2);
    cycle.stderr_contains("quarantine (TooManyDeletes)");
    let status = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let last = &json["status"]["lastExecution"];
    assert_eq!(last["state"], "Failed", "{last}");
    assert_eq!(last["error"]["code"], "TooManyDeletes", "{last}");
}

#[tokio::test]
async fn an_unchanged_source_still_needs_a_token_source_that_resolves() {
    let mut h = Harness::users(1).await;
    h.cycle().await;
    h.close_store();
    let again = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    again.status(0);
    again.stdout_contains("byte for byte");
    std::fs::remove_file(h.dir.path().join("token")).unwrap();
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    cycle.status(3);
    cycle.stderr_contains("token");
    assert!(!cycle.stdout.contains("byte for byte"), "{}", cycle.stdout);
}

#[tokio::test]
async fn a_cycle_with_nothing_to_do_says_what_waits_in_escrow() {
    let (mut target, url) = serve_target(TOKEN, &["--fault", "POST /Users=400:times=1"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    std::fs::write(
        dir.path().join("directory.yaml"),
        tenant(
            &[user("a1").nick("alice").given("Alice").title("CEO").yaml()],
            &[],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("job.yaml"),
        format!(
            "directory: directory.yaml\nmapping: {}\ntarget:\n  url: {url}\n  token_file: token\nscope: all\n",
            repo("mappings/uni-tel.yaml").display()
        ),
    )
    .unwrap();
    let first = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(dir.path())
        .run_async()
        .await;
    first.status(1);
    let second = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(dir.path())
        .run_async()
        .await;
    let _ = target.kill();
    second.status(0);
    second.stdout_contains(
        "nothing changed since the last cycle; 1 object waits in escrow, the first due for a retry at ",
    );
}

/// The binary's exit code and standard error when its standard output is a pipe whose reader
/// reads `lines` lines and closes it; with 0 it is closed before the command writes anything.
async fn into_a_closed_pipe(args: &[&str], cwd: &Path, lines: usize) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let cwd = cwd.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut child = Test::new()
            .args(&args)
            .current_dir(&cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        for _ in 0..lines {
            let mut line = String::new();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "a line to read");
        }
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// A job with `n` users, provisioned once, its state closed.
async fn provisioned(n: usize) -> Harness {
    let mut h = Harness::users(n).await;
    h.cycle().await;
    h.close_store();
    h
}

#[tokio::test]
async fn status_into_a_closed_pipe_exits_0_quietly() {
    let h = provisioned(1).await;
    let (code, stderr) =
        into_a_closed_pipe(&["status", "--job", "job.yaml"], h.dir.path(), 0).await;
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[tokio::test]
async fn logs_json_into_a_pipe_closed_after_one_line_exits_0_quietly() {
    // 300 records are some hundred kilobytes of JSON: more than a pipe holds.
    let h = provisioned(300).await;
    let args = ["logs", "--job", "job.yaml", "--json"];
    let (code, stderr) = into_a_closed_pipe(&args, h.dir.path(), 1).await;
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[tokio::test]
async fn logs_into_a_pipe_closed_after_one_line_exits_0_quietly() {
    let h = provisioned(300).await;
    let args = ["logs", "--job", "job.yaml"];
    let (code, stderr) = into_a_closed_pipe(&args, h.dir.path(), 1).await;
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[tokio::test]
async fn cycle_json_into_a_closed_pipe_exits_0_quietly() {
    let h = Harness::users(3).await;
    let args = ["cycle", "--job", "job.yaml", "--json"];
    let (code, stderr) = into_a_closed_pipe(&args, h.dir.path(), 0).await;
    assert_eq!((code, stderr.as_str()), (0, ""));
}
