//! Issues 2 and 3: the binary as a user runs it — outputs, exit codes, located errors for bad input,
//! and the token never appearing in any output or in the state directory.

use std::path::Path;
use std::process::Command;

use crate::support::{Harness, TOKEN, tenant, user};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary (off the async runtime, so an in-process target keeps serving).
pub async fn run(args: &[&str], cwd: &Path) -> Run {
    run_with(args, cwd, None).await
}

/// [`run`] on the state in `state_dir` (`ENTRA_SIM_STATE_DIR`) instead of the job's own.
pub async fn run_with(args: &[&str], cwd: &Path, state_dir: Option<&Path>) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let cwd = cwd.to_path_buf();
    let state_dir = state_dir.map(Path::to_path_buf);
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_entra-sim"));
        command
            .args(&args)
            .current_dir(&cwd)
            .env_remove("ENTRA_SIM_TOKEN")
            .env_remove("ENTRA_SIM_STATE_DIR");
        if let Some(dir) = &state_dir {
            command.env("ENTRA_SIM_STATE_DIR", dir);
        }
        let out = command.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

fn here() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn expr_prints_the_result_and_shows_a_caret_on_errors() {
    let ok = run(
        &[
            "expr",
            r#"Join(" ", [givenName], [surname])"#,
            "--attr",
            "givenName=John",
            "--attr",
            "surname=Doe",
        ],
        here(),
    )
    .await;
    assert_eq!((ok.code, ok.stdout.as_str()), (0, "John Doe\n"));
    let bad = run(&["expr", r#"Join(" ", [givenName] [surname])"#], here()).await;
    assert_eq!(bad.code, 3);
    assert!(bad.stderr.contains("expected ',' or ')'"), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("\n                        ^^^^^^^^^"),
        "{}",
        bad.stderr
    );
    let json = run(
        &[
            "expr",
            r#"Replace([preferredLanguage], "-", , , "_", , )"#,
            "--attr",
            "preferredLanguage=EN-US",
            "--json",
        ],
        here(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["evaluationResult"], serde_json::json!(["EN_US"]));
    assert_eq!(v["parsingSucceeded"], true);
    let multi = run(
        &[
            "expr",
            "Join(\",\", [proxyAddresses])",
            "--attr",
            "proxyAddresses=a",
            "--attr",
            "proxyAddresses=b",
        ],
        here(),
    )
    .await;
    assert_eq!(multi.stdout, "a,b\n");
    let user = run(
        &[
            "expr",
            "NormalizeDiacritics([displayName])",
            "--user",
            "bjorn.odegard@contoso.com",
            "--directory",
            "directory-samples/contoso.yaml",
        ],
        here(),
    )
    .await;
    assert_eq!(user.stdout, "Bjorn OEdegard\n", "{}", user.stderr);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test]
async fn bad_input_names_file_line_and_field_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mapping = std::fs::read_to_string(here().join("mappings/uni-tel.yaml")).unwrap();
    write(d, "token", TOKEN);
    write(
        d,
        "directory.yaml",
        &tenant(&[user("a1", "alice", "Alice", "CEO", None, "")], &[]),
    );
    let job = "directory: directory.yaml\nmapping: mapping.yaml\ntarget:\n  url: http://127.0.0.1:9/scim/v2\n  token_file: token\nscope: all\n";
    write(d, "job.yaml", job);
    let cases: Vec<(&str, String, &str)> = vec![
        ("mapping.yaml", mapping.replace("source: displayName", "source: dispayName"), "mapping.yaml:11:15: users.attributes[2].source: unknown source attribute \"dispayName\""),
        ("mapping.yaml", mapping.replace("Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")", "Swich([IsSoftDeleted])"), "mapping.yaml:9:19: users.attributes[1].expression: unknown function 'Swich'; did you mean 'Switch'?"),
        ("mapping.yaml", mapping.replace("target: displayName", "target: emails[type eq \"work\".value"), "users.attributes[2]"),
        ("mapping.yaml", format!("{mapping}  scoping:\n    - clauses:\n        - {{ attribute: department, operator: REGEX MATCH, value: \"([\" }}\n"), "mapping.yaml:18:66: users.scoping[0].clauses[0].value: invalid regular expression"),
        ("directory.yaml", "users:\n  - objectId: a1\n    userPrincipalName: alice@contoso.com\n  - objectId: a1\n    userPrincipalName: bob@contoso.com\n".to_string(), "directory.yaml:4:15: users[1].objectId: duplicate objectId \"a1\""),
        ("directory.yaml", "users:\n  - objectId: a1\n    userPrincipalName: [oops\n".to_string(), "directory.yaml:4:1: malformed YAML"),
    ];
    for (file, text, expected) in cases {
        write(d, "mapping.yaml", &mapping);
        write(
            d,
            "directory.yaml",
            &tenant(&[user("a1", "alice", "Alice", "CEO", None, "")], &[]),
        );
        write(d, file, &text);
        let out = run(&["cycle", "--job", "job.yaml"], d).await;
        assert_eq!(out.code, 3, "{expected}: {}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "expected {expected:?} in:\n{}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

/// A one-user job in `d` whose target (port 9) is unreachable, with `token` in its token file.
fn one_user_job(d: &Path, token: &str) {
    write(d, "token", token);
    write(
        d,
        "directory.yaml",
        &tenant(&[user("a1", "alice", "Alice", "CEO", None, "")], &[]),
    );
    write(
        d,
        "job.yaml",
        &format!(
            "directory: directory.yaml\nmapping: {}\ntarget:\n  url: http://127.0.0.1:9/scim/v2\n  token_file: token\nscope: all\n",
            here().join("mappings/uni-tel.yaml").display()
        ),
    );
}

#[tokio::test]
async fn a_token_no_header_can_carry_is_bad_input_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    one_user_job(d, "secret-\u{1}-part\n");
    for command in ["cycle", "test-connection"] {
        let out = run(&[command, "--job", "job.yaml"], d).await;
        assert_eq!(out.code, 3, "{command}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains("job.yaml: target: the bearer token holds a character"),
            "{command}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("secret-"), "{}", out.stderr);
        assert!(!out.stdout.contains("secret-"), "{}", out.stdout);
    }
}

#[tokio::test]
async fn unreachable_target_is_a_job_failure() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    one_user_job(d, TOKEN);
    let out = run(&["cycle", "--job", "job.yaml"], d).await;
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("WebExceptionProtocolError") || out.stderr.contains("cycle stopped"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn commands_run_against_a_live_target_and_never_show_the_token() {
    let a = user("a1", "alice", "Alice", "CEO", None, "");
    let b = user("b2", "bob", "Bob", "Engineer", Some("a1"), "");
    let h = Harness::new(
        &tenant(&[a, b], &["a1", "b2"]),
        "mappings/scim-default.yaml",
        "assignments:\n  - principal: Team\n",
        "",
    )
    .await;
    let d = h.dir.path();
    let mut transcript = String::new();

    let tc = run(&["test-connection", "--job", "job.yaml"], d).await;
    assert_eq!(tc.code, 0, "{}{}", tc.stdout, tc.stderr);
    assert!(
        tc.stdout
            .contains("The supplied credentials are authorized")
    );
    let probes: Vec<String> = h.target.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(probes.len(), 2, "user and group probes: {probes:?}");
    assert!(probes[0].starts_with("/scim/v2/Users?filter=userName+eq+%22"));
    assert!(
        probes[1]
            .starts_with("/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22")
    );
    transcript.push_str(&tc.stdout);

    let pod = run(
        &[
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--user",
            "alice@contoso.com",
        ],
        d,
    )
    .await;
    assert_eq!(pod.code, 0, "{}{}", pod.stdout, pod.stderr);
    assert!(
        pod.stdout.contains("EntrySynchronizationScoping"),
        "{}",
        pod.stdout
    );
    assert!(pod.stdout.contains("EntryExportAdd"), "{}", pod.stdout);
    assert!(h.user("alice@contoso.com").is_some());
    transcript.push_str(&pod.stdout);

    let group = run(
        &[
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--group",
            "Team",
            "--member",
            "bob@contoso.com",
            "--json",
        ],
        d,
    )
    .await;
    assert_eq!(group.code, 0, "{}{}", group.stdout, group.stderr);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&group.stdout).unwrap();
    let first: serde_json::Value =
        serde_json::from_str(entries[0]["key"].as_str().unwrap()).unwrap();
    assert_eq!(first["result"], "Success");
    assert_eq!(
        h.members("Team"),
        vec!["{bob@contoso.com}"],
        "only the listed member is added on demand"
    );
    transcript.push_str(&group.stdout);

    let too_many = run(
        &[
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--group",
            "Team",
            "--member",
            "a",
            "--member",
            "b",
            "--member",
            "c",
            "--member",
            "d",
            "--member",
            "e",
            "--member",
            "f",
        ],
        d,
    )
    .await;
    assert_eq!(too_many.code, 3);

    let cycle = run(&["cycle", "--job", "job.yaml", "--verbose"], d).await;
    assert_eq!(cycle.code, 0, "{}{}", cycle.stdout, cycle.stderr);
    assert!(cycle.stdout.contains("initial cycle"), "{}", cycle.stdout);
    assert_eq!(
        h.members("Team"),
        vec!["{alice@contoso.com}", "{bob@contoso.com}"]
    );
    transcript.push_str(&cycle.stdout);
    transcript.push_str(&cycle.stderr);

    let logs = run(&["logs", "--job", "job.yaml", "--json"], d).await;
    let records: Vec<serde_json::Value> = serde_json::from_str(&logs.stdout).unwrap();
    assert!(records.len() >= 4);
    assert!(
        records
            .iter()
            .all(|r| r["cycleId"].is_string() && r["provisioningSteps"].is_array())
    );
    transcript.push_str(&logs.stdout);

    // The token appears in no output and nowhere in the state directory.
    assert!(!transcript.contains(TOKEN));
    for entry in walk(&d.join(".entra-sim")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "token found in {}",
            entry.display()
        );
    }
}

pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.push(p)
            }
        }
    }
    assert!(!out.is_empty());
    out
}

#[tokio::test]
async fn record_requests_writes_every_request_sent_for_the_scale_bench() {
    let server = entra_sim::target::spawn(entra_sim::target::TargetConfig {
        token: Some(TOKEN.to_string()),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "token", TOKEN);
    let a = user("a1", "alice", "Alice", "CEO", None, "");
    let b = user("b2", "bob", "Bob", "Engineer", Some("a1"), "");
    write(d, "directory.yaml", &tenant(&[a, b], &[]));
    write(
        d,
        "job.yaml",
        &format!(
            "directory: directory.yaml\nmapping: {}\ntarget:\n  url: {}\n  token_file: token\nscope: all\n",
            here().join("mappings/scim-default.yaml").display(),
            server.base_url()
        ),
    );
    let out = run(
        &[
            "cycle",
            "--job",
            "job.yaml",
            "--json",
            "--quiet",
            "--record-requests",
            "requests.jsonl",
        ],
        d,
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(d.join("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["phase"], "users");
    let sent: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("flow").is_some()).collect();
    assert_eq!(
        sent.len() as u64,
        report["cycle"]["requests"].as_u64().unwrap()
    );
    // What the file says was sent is what the target received, in order (concurrency 1).
    let received: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path.trim_start_matches("/scim/v2").to_string(),
            )
        })
        .collect();
    let recorded: Vec<(String, String)> = sent
        .iter()
        .map(|l| {
            (
                l["method"].as_str().unwrap().to_string(),
                l["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(recorded, received);
    let posts: Vec<&&serde_json::Value> = sent.iter().filter(|l| l["method"] == "POST").collect();
    assert!(posts.len() >= 2, "{posts:?}");
    assert!(
        posts
            .iter()
            .all(|p| p["created"].is_string() && p["body"].is_object())
    );
}

/// The scheduling policy of each thread of a process (field 41 of `/proc/PID/task/TID/stat`).
#[cfg(target_os = "linux")]
fn thread_policies(pid: u32) -> Vec<u32> {
    let mut policies = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let stat = std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap();
        // Fields after the command name, which ends at the last ')': state is field 3.
        let after = &stat[stat.rfind(')').unwrap() + 1..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        policies.push(fields[41 - 3].parse().unwrap());
    }
    policies
}

#[cfg(target_os = "linux")]
#[test]
fn target_serve_threads_are_batch_unless_asked_to_be_normal() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    for (flag, want) in [(None, SCHED_BATCH), (Some("normal"), SCHED_OTHER)] {
        let extra: Vec<&str> = flag.iter().flat_map(|f| ["--scheduling", f]).collect();
        let (mut target, _) = crate::support::serve_target("t", &extra);
        // A worker thread sets its policy as it starts: give a slow machine a moment.
        let mut policies = thread_policies(target.id());
        for _ in 0..100 {
            if policies.iter().all(|p| *p == want) {
                break;
            }
            entra_sim::clock::pause(std::time::Duration::from_millis(20));
            policies = thread_policies(target.id());
        }
        let _ = target.kill();
        let _ = target.wait();
        assert!(policies.len() >= 2, "{flag:?}: {policies:?}");
        assert!(
            policies.iter().all(|p| *p == want),
            "{flag:?}: {policies:?}"
        );
    }
}

#[tokio::test]
async fn state_commands_and_test_connection_do_not_read_the_directory() {
    let h = Harness::alice().await;
    let d = h.dir.path();
    let cycle = run(&["cycle", "--job", "job.yaml"], d).await;
    assert_eq!(cycle.code, 0, "{}{}", cycle.stdout, cycle.stderr);
    // A directory that no longer loads (or a million users) is not read to show or change the
    // job's state; the cycle, which needs it, still says what is wrong with it.
    h.set_directory("users: [\n");
    let status = run(&["status", "--job", "job.yaml", "--json"], d).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["status"]["lastExecution"]["state"], "Succeeded");
    for (args, says) in [
        (&["pause", "--job", "job.yaml"][..], "job job: Paused"),
        (&["start", "--job", "job.yaml"][..], "job job: Active"),
        (&["restart", "--job", "job.yaml"][..], "job job restarted"),
        (
            &["report", "--job", "job.yaml", "--out", "report.html"][..],
            "report of 1 log entries",
        ),
        // Entra's test of the connection reads the job and its mapping, not the tenant.
        (
            &["test-connection", "--job", "job.yaml"][..],
            "The supplied credentials are authorized",
        ),
    ] {
        let out = run(args, d).await;
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains(says), "{args:?}: {}", out.stdout);
    }
    let cycle = run(&["cycle", "--job", "job.yaml"], d).await;
    assert_eq!(cycle.code, 3);
    assert!(cycle.stderr.contains("directory.yaml:"), "{}", cycle.stderr);
    // The job file's own settings are still checked, and located.
    h.set_job_extra("scope: all\nsettings:\n  concurrency: 0\n", "");
    for command in [
        "status",
        "pause",
        "start",
        "restart",
        "report",
        "test-connection",
    ] {
        let out = run(&[command, "--job", "job.yaml"], d).await;
        assert_eq!(out.code, 3, "{command}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains("job.yaml:8:16: settings.concurrency: must be at least 1"),
            "{command}: {}",
            out.stderr
        );
    }
    // test-connection reads the mapping (its matching attributes), so a mapping that does not
    // load is named; the state commands do not read it.
    let job = std::fs::read_to_string(d.join("job.yaml")).unwrap();
    let mapping = job.lines().nth(1).unwrap().trim_start_matches("mapping: ");
    std::fs::write(
        d.join("job.yaml"),
        job.replace(mapping, "missing.yaml")
            .replace("settings:\n  concurrency: 0\n", ""),
    )
    .unwrap();
    let out = run(&["test-connection", "--job", "job.yaml"], d).await;
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("job.yaml:2:10: mapping: cannot read missing.yaml"),
        "{}",
        out.stderr
    );
    let out = run(&["status", "--job", "job.yaml"], d).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
}
