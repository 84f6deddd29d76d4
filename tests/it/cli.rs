//! Issues 2 and 3: the binary as a user runs it — outputs, exit codes, located errors for bad input,
//! and the token never appearing in any output or in the state directory.

use std::path::Path;

use crate::support::{Harness, JobFiles, TOKEN, Test, tenant, user};

fn here() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn expr_prints_the_result_and_shows_a_caret_on_errors() {
    let ok = Test::new()
        .args([
            "expr",
            r#"Join(" ", [givenName], [surname])"#,
            "--attr",
            "givenName=John",
            "--attr",
            "surname=Doe",
        ])
        .run_async()
        .await;
    assert_eq!((ok.code, ok.stdout.as_str()), (0, "John Doe\n"));
    let bad = Test::new()
        .args(["expr", r#"Join(" ", [givenName] [surname])"#])
        .run_async()
        .await;
    assert_eq!(bad.code, 3);
    assert!(bad.stderr.contains("expected ',' or ')'"), "{}", bad.stderr);
    bad.stderr_contains("\n                        ^^^^^^^^^");
    let json = Test::new()
        .args([
            "expr",
            r#"Replace([preferredLanguage], "-", , , "_", , )"#,
            "--attr",
            "preferredLanguage=EN-US",
            "--json",
        ])
        .run_async()
        .await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["evaluationResult"], serde_json::json!(["EN_US"]));
    assert_eq!(v["parsingSucceeded"], true);
    let multi = Test::new()
        .args([
            "expr",
            "Join(\",\", [proxyAddresses])",
            "--attr",
            "proxyAddresses=a",
            "--attr",
            "proxyAddresses=b",
        ])
        .run_async()
        .await;
    assert_eq!(multi.stdout, "a,b\n");
    let user = Test::new()
        .args([
            "expr",
            "NormalizeDiacritics([displayName])",
            "--user",
            "bjorn.odegard@contoso.com",
            "--directory",
            "directory-samples/contoso.yaml",
        ])
        .run_async()
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
        &tenant(
            &[user("a1").nick("alice").given("Alice").title("CEO").yaml()],
            &[],
        ),
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
            &tenant(
                &[user("a1").nick("alice").given("Alice").title("CEO").yaml()],
                &[],
            ),
        );
        write(d, file, &text);
        let out = Test::new()
            .args(["cycle", "--job", "job.yaml"])
            .current_dir(d)
            .run_async()
            .await;
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
        &tenant(
            &[user("a1").nick("alice").given("Alice").title("CEO").yaml()],
            &[],
        ),
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
        let out = Test::new()
            .args([command, "--job", "job.yaml"])
            .current_dir(d)
            .run_async()
            .await;
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
    let out = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    out.status(2);
    assert!(
        out.stderr.contains("WebExceptionProtocolError") || out.stderr.contains("cycle stopped"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn commands_run_against_a_live_target_and_never_show_the_token() {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    let h = Harness::new(JobFiles {
        directory: &tenant(&[a, b], &["a1", "b2"]),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await;
    let d = h.dir.path();
    let mut transcript = String::new();

    let tc = Test::new()
        .args(["test-connection", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    tc.status(0);
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

    let pod = Test::new()
        .args([
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--user",
            "alice@contoso.com",
        ])
        .current_dir(d)
        .run_async()
        .await;
    pod.status(0);
    pod.stdout_contains("EntrySynchronizationScoping");
    pod.stdout_contains("EntryExportAdd");
    assert!(h.user("alice@contoso.com").is_some());
    transcript.push_str(&pod.stdout);

    let group = Test::new()
        .args([
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--group",
            "Team",
            "--member",
            "bob@contoso.com",
            "--json",
        ])
        .current_dir(d)
        .run_async()
        .await;
    group.status(0);
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

    let too_many = Test::new()
        .args([
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
        ])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(too_many.code, 3);

    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml", "--verbose"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(0);
    cycle.stdout_contains("initial cycle");
    assert_eq!(
        h.members("Team"),
        vec!["{alice@contoso.com}", "{bob@contoso.com}"]
    );
    transcript.push_str(&cycle.stdout);
    transcript.push_str(&cycle.stderr);

    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(d)
        .run_async()
        .await;
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
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
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
    let out = Test::new()
        .args([
            "cycle",
            "--job",
            "job.yaml",
            "--json",
            "--quiet",
            "--record-requests",
            "requests.jsonl",
        ])
        .current_dir(d)
        .run_async()
        .await;
    out.status(0);
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
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    cycle.status(0);
    // A directory that no longer loads (or a million users) is not read to show or change the
    // job's state; the cycle, which needs it, still says what is wrong with it.
    h.set_directory("users: [\n");
    let status = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(d)
        .run_async()
        .await;
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
        let out = Test::new().args(args).current_dir(d).run_async().await;
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains(says), "{args:?}: {}", out.stdout);
    }
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(cycle.code, 3);
    cycle.stderr_contains("directory.yaml:");
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
        let out = Test::new()
            .args([command, "--job", "job.yaml"])
            .current_dir(d)
            .run_async()
            .await;
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
    let out = Test::new()
        .args(["test-connection", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    out.status(3);
    assert!(
        out.stderr
            .contains("job.yaml:2:10: mapping: cannot read missing.yaml"),
        "{}",
        out.stderr
    );
    let out = Test::new()
        .args(["status", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
}
