//! Issue 18, items 18–20: the README as a newcomer runs it. Each recipe's `sh` blocks are read out
//! of README.md and run as written — in a scratch copy of the repository's jobs, directory samples
//! and mappings, with the binary under test as `entra-sim` on the PATH — and what the README says
//! they print is checked. A line `entra-sim target serve --port 8080 …` starts that server (on a
//! free port, which then stands in for 8080 in every later line and in the scratch job files); the
//! other lines run one at a time through `sh`, after the `export`s seen so far.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::Test;

const README: &str = include_str!("../../README.md");

/// The `sh` blocks of the README section whose heading starts with `heading`, up to the next
/// heading of the same level or above.
fn blocks(heading: &str) -> Vec<String> {
    let mut lines = README.lines();
    let level = lines
        .by_ref()
        .find_map(|l| {
            let hashes = l.chars().take_while(|c| *c == '#').count();
            (hashes > 0 && l[hashes..].trim_start().starts_with(heading)).then_some(hashes)
        })
        .unwrap_or_else(|| panic!("README.md has no heading {heading:?}"));
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in lines {
        match &mut current {
            None if line == "```sh" => current = Some(String::new()),
            None => {
                let hashes = line.chars().take_while(|c| *c == '#').count();
                if hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
                    break;
                }
            }
            Some(_) if line == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(!blocks.is_empty(), "no sh block under {heading:?}");
    blocks
}

/// Splits a command line as `sh` would for the simple forms the README uses: words, and
/// single-quoted strings.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            ' ' if !quoted => words.extend(word.take()),
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// One command run: the line as written, its exit code and what it printed (stdout, stderr).
struct Ran {
    line: String,
    code: i32,
    output: String,
}

/// A scratch copy of the repository's job files, a server, and the commands run so far.
struct Scratch {
    dir: tempfile::TempDir,
    bin: tempfile::TempDir,
    server: Option<Child>,
    port: Option<u16>,
    exports: Vec<String>,
    ran: Vec<Ran>,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            continue; // a developer's jobs/.entra-sim/ is not part of a fresh clone
        }
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["jobs", "directory-samples", "mappings", "schemas"] {
            copy_dir(&crate::support::repo(folder), &dir.path().join(folder));
        }
        let bin = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_entra-sim"),
            bin.path().join("entra-sim"),
        )
        .unwrap();
        Scratch {
            dir,
            bin,
            server: None,
            port: None,
            exports: Vec::new(),
            ran: Vec::new(),
        }
    }

    /// A scratch copy whose jobs point at `port` with no server there.
    fn without_server() -> Scratch {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut scratch = Scratch::new();
        scratch.port = Some(port);
        scratch.point_jobs();
        scratch
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// `8080` replaced by the server's port.
    fn local(&self, text: &str) -> String {
        match self.port {
            Some(port) => text.replace("8080", &port.to_string()),
            None => text.to_string(),
        }
    }

    /// Points every job file at the server (also the ones a recipe just generated).
    fn point_jobs(&self) {
        for entry in std::fs::read_dir(self.path("jobs")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("8080") {
                    std::fs::write(&path, self.local(&text)).unwrap();
                }
            }
        }
    }

    /// Starts (or restarts, on the same port, empty) the server a README line asks for.
    fn serve(&mut self, line: &str) {
        if let Some(mut old) = self.server.take() {
            old.kill().unwrap();
            old.wait().unwrap();
        }
        let mut args = words(line);
        assert_eq!(args[..3], ["entra-sim", "target", "serve"], "{line}");
        let port = args.iter().position(|a| a == "--port").unwrap() + 1;
        assert_eq!(args[port], "8080", "{line}");
        args[port] = self.port.unwrap_or(0).to_string();
        let mut child = Test::new()
            .args(&args[1..])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"));
        let port: u16 = url
            .trim_start_matches("http://127.0.0.1:")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        self.port = Some(port);
        self.server = Some(child);
        self.point_jobs();
    }

    /// Runs one command line through `sh`, after the exports so far.
    fn sh(&mut self, line: &str) {
        let script = format!("{}\n{}", self.exports.join("\n"), self.local(line));
        let path = format!(
            "{}:{}",
            self.bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("sh")
            .args(["-c", &script])
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env_remove("ENTRA_SIM_TOKEN")
            .env_remove("ENTRA_SIM_STATE_DIR")
            .output()
            .unwrap();
        self.ran.push(Ran {
            line: line.to_string(),
            code: out.status.code().unwrap_or(-1),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
        self.point_jobs();
    }

    /// Runs the `sh` blocks under `heading`, as written.
    fn recipe(heading: &str) -> Scratch {
        let mut scratch = Scratch::new();
        scratch.run(heading);
        scratch
    }

    fn run(&mut self, heading: &str) {
        for block in blocks(heading) {
            // A line ending in a backslash goes on on the next one.
            let joined = block.replace("\\\n", " ");
            for line in joined.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if line.starts_with("entra-sim target serve") {
                    self.serve(line);
                } else if line.starts_with("export ") {
                    self.exports.push(line.to_string());
                } else {
                    self.sh(line);
                }
            }
        }
    }

    /// The `n`th command run (0-based) whose line starts with `prefix`.
    fn nth(&self, prefix: &str, n: usize) -> &Ran {
        self.ran
            .iter()
            .filter(|r| r.line.starts_with(prefix))
            .nth(n)
            .unwrap_or_else(|| panic!("no run {n} of {prefix:?}:\n{}", self.transcript()))
    }

    /// Asserts the `n`th run of `prefix` exited with `code` and printed each of `says`.
    fn check(&self, prefix: &str, n: usize, code: i32, says: &[&str]) {
        let ran = self.nth(prefix, n);
        assert_eq!(ran.code, code, "{}:\n{}", ran.line, ran.output);
        for text in says {
            assert!(
                ran.output.contains(&self.local(text)),
                "{} does not say {text:?}:\n{}",
                ran.line,
                ran.output
            );
        }
    }

    fn transcript(&self) -> String {
        self.ran
            .iter()
            .map(|r| format!("$ {}\n{}[exit {}]\n", r.line, r.output, r.code))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

#[test]
fn examples_after_the_quickstart_use_the_installed_binary() {
    let install = README.find("cargo install --locked --path .").unwrap();
    assert!(README[..install].contains("cargo run --release -- cycle"));
    assert!(README.contains("~/.cargo/bin/entra-sim"));
    let after = &README[install..];
    assert!(
        !after.contains("cargo run"),
        "a `cargo run` after the install line"
    );
    // Links stay inside the repository, or are public URLs.
    for (i, _) in README.match_indices("](") {
        let target = &README[i + 2..];
        let target = &target[..target.find(')').unwrap()];
        let local = target.split('#').next().unwrap();
        assert!(
            target.starts_with("https://")
                || target.starts_with("http://")
                || target.starts_with('#')
                || crate::support::repo(local).exists(),
            "README links {target}"
        );
    }
}

#[test]
fn the_quickstart_cycles_twice_and_writes_the_report_beside_the_state() {
    // `cargo run --release -- cycle` is this binary's `cycle`; its state goes to
    // sample-builtin beside the state directory, here moved out of the repository.
    let scratch = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Test::new()
            .args(args)
            .current_dir(scratch.path())
            .env("ENTRA_SIM_STATE_DIR", scratch.path().join("state"))
            .run()
            .success()
            .stdout
            .clone()
    };
    assert!(run(&["cycle"]).contains("initial cycle"));
    assert!(run(&["cycle"]).contains("nothing sent"));
    let report = scratch.path().join("sample-builtin").join("report.html");
    assert!(run(&["report"]).contains(&report.display().to_string()));
    assert!(report.exists());
    assert!(!scratch.path().join("report.html").exists());
    // What `cycle --help` names is where the sample's state goes without the variable.
    let help = Test::new()
        .args(["cycle", "--help"])
        .run()
        .success()
        .stdout
        .clone();
    assert!(help.contains("jobs/.entra-sim/sample-builtin/"), "{help}");
    assert!(README.contains("jobs/.entra-sim/sample-builtin/report.html"));
}

#[test]
fn point_it_at_your_server_says_when_nothing_listens() {
    let mut scratch = Scratch::without_server();
    scratch.run("Point it at your server");
    scratch.check(
        "entra-sim test-connection",
        0,
        2,
        &["could not connect to http://127.0.0.1:8080/scim/v2; is the server running?"],
    );
    let out = &scratch.nth("entra-sim test-connection", 0).output;
    assert!(!out.contains("credentials"), "{out}");
    assert!(!out.contains("error sending request"), "{out}");
}

#[test]
fn the_walk_through_runs_as_written() {
    let s = Scratch::recipe("A walk through");
    let cycle = "entra-sim cycle --job jobs/sample.yaml";
    s.check("entra-sim validate", 0, 0, &["valid"]);
    s.check(
        "entra-sim test-connection",
        0,
        0,
        &["The supplied credentials are authorized to enable provisioning."],
    );
    s.check(
        "entra-sim plan",
        0,
        0,
        &["plan for the next (initial) cycle"],
    );
    s.check(
        "entra-sim compare-modes",
        0,
        0,
        &["your server accepts: default dialect yes, aadOptscim062020 yes"],
    );
    s.check(cycle, 0, 0, &["initial cycle", " 0 failed"]);
    s.check(cycle, 1, 0, &["nothing sent"]);
    s.check(cycle, 2, 1, &["3 failed"]);
    s.check(
        "entra-sim status",
        0,
        0,
        &[
            "3 escrowed (3 of them references)",
            "in escrow now: 3 (3 of them references)",
        ],
    );
    s.check("entra-sim logs", 0, 0, &["InternalServerError"]);
    s.check(
        "entra-sim report",
        0,
        0,
        &["jobs/.entra-sim/sample/report.html"],
    );
    assert!(s.path("jobs/.entra-sim/sample/report.html").exists());
    s.check("entra-sim run", 0, 0, &["3 updated"]);
    s.check("entra-sim drift", 0, 1, &[]);
    // The report is not left in the repository root.
    assert!(!s.path("report.html").exists());
}

#[test]
fn provision_on_demand_example_provisions_an_assigned_user() {
    let mut s = Scratch::new();
    s.serve("entra-sim target serve --port 8080 --token s3cret");
    s.run("Commands");
    s.check("entra-sim expr 'Join", 0, 0, &["John Doe"]);
    s.check(
        "entra-sim provision-on-demand",
        0,
        0,
        &[
            "User create   success",
            "IsSoftDeleted: False",
            "Assigned to application: true",
        ],
    );
}

#[test]
fn a_500_is_escrowed_and_created_by_the_next_scheduled_cycle() {
    let s = Scratch::recipe("A 500 on one user");
    s.check(
        "entra-sim cycle",
        0,
        1,
        &[
            "create   failure  User  megan.bowen@contoso.com",
            "InternalServerError",
            "This operation was retried 0 times. It will be retried again after this date:",
        ],
    );
    s.check("entra-sim run", 0, 0, &["incremental cycle: 1 created"]);
}

#[test]
fn bad_credentials_quarantine_then_disable_the_job_from_a_fresh_state() {
    let s = Scratch::recipe("Bad credentials");
    let run = s.nth("ENTRA_SIM_TOKEN=wrong entra-sim run", 0);
    assert_eq!(run.code, 2, "{}", run.output);
    let gaps: Vec<&str> = run
        .output
        .lines()
        .filter_map(|l| l.split("next cycle in ").nth(1))
        .take(5)
        .collect();
    assert_eq!(gaps, ["6h", "6h", "12h", "1d", "1d"], "{}", run.output);
    assert!(
        run.output
            .contains("job Quarantine (EncounteredQuarantineException)")
    );
    assert!(run.output.contains("job disabled"), "{}", run.output);
}

#[test]
fn a_404_for_a_query_quarantines_the_job() {
    let s = Scratch::recipe("A 404 instead of an empty list");
    s.check(
        "entra-sim cycle",
        0,
        2,
        &["SCIM Compliance issue: An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response."],
    );
    s.check("entra-sim status", 0, 0, &["job sample: Quarantine"]);
}

#[test]
fn a_429_with_retry_after_is_resent_within_the_cycle() {
    let s = Scratch::recipe("A 429 with `Retry-After`");
    s.check(
        "entra-sim cycle",
        0,
        0,
        &["POST /Users → 429", "POST /Users → 201", " 0 failed"],
    );
    let out = &s.nth("entra-sim cycle", 0).output;
    assert_eq!(out.matches("POST /Users → 429").count(), 2, "{out}");
}

#[test]
fn the_escrow_threshold_recipe_crosses_the_proportion_threshold() {
    let s = Scratch::recipe("Escrow thresholds");
    s.check("entra-sim cycle", 0, 0, &["initial cycle", " 0 failed"]);
    s.check(
        "entra-sim cycle",
        1,
        2,
        &[
            "incremental cycle",
            "12 failed",
            "quarantine (EncounteredEscrowProportionThreshold)",
        ],
    );
    s.check(
        "entra-sim status",
        0,
        0,
        &[
            "job small: Quarantine",
            "EncounteredEscrowProportionThreshold",
        ],
    );
}

#[test]
fn the_deletion_guard_recipe_stages_then_forces_the_deletes() {
    let s = Scratch::recipe("Accidental deletions");
    s.check("entra-sim cycle", 0, 0, &["initial cycle", " 0 failed"]);
    s.check(
        "entra-sim cycle",
        1,
        2,
        &["StagedDelete", " 0 deleted", "quarantine (TooManyDeletes)"],
    );
    let staged = &s.nth("entra-sim cycle", 1).output;
    assert_eq!(staged.matches("StagedDelete").count(), 2, "{staged}");
    s.check("entra-sim status", 0, 0, &["TooManyDeletes"]);
    s.check("entra-sim restart", 0, 0, &["ForceDeletes"]);
    s.check("entra-sim cycle", 2, 0, &[" 2 deleted"]);
}

#[test]
fn a_fault_changed_while_the_server_runs_fails_the_member_patches() {
    let s = Scratch::recipe("Change a fault while the server runs");
    s.check(
        "entra-sim cycle",
        0,
        1,
        &["update   failure  Group Engineering                                   SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"],
    );
}

#[test]
fn a_timeout_names_the_setting_that_bounds_it() {
    let mut s = Scratch::new();
    s.serve("entra-sim target serve --port 8080 --token s3cret --fault 'GET *=pass:latency=3000'");
    let job = s.path("jobs/sample.yaml");
    let text = std::fs::read_to_string(&job).unwrap();
    std::fs::write(
        &job,
        text.replace("settings:\n", "settings:\n  request_timeout_secs: 1\n"),
    )
    .unwrap();
    s.exports.push("export ENTRA_SIM_TOKEN=s3cret".into());
    s.sh("entra-sim test-connection --job jobs/sample.yaml");
    s.check(
        "entra-sim test-connection",
        0,
        2,
        &["the server did not answer within 1 s (settings.request_timeout_secs)"],
    );
    let out = &s.nth("entra-sim test-connection", 0).output;
    assert!(!out.contains("error sending request"), "{out}");
}

#[test]
fn the_probe_ends_with_a_verdict() {
    let mut s = Scratch::new();
    s.serve("entra-sim target serve --port 8080 --token s3cret --fault 'PATCH /Users/*=400'");
    s.exports.push("export ENTRA_SIM_TOKEN=s3cret".into());
    s.sh("entra-sim compare-modes --job jobs/sample.yaml --probe");
    s.sh("entra-sim compare-modes --job jobs/sample.yaml --probe --json");
    let human = &s.nth("entra-sim compare-modes", 0).output;
    assert_eq!(
        human.lines().last(),
        Some("your server accepts: default dialect no, aadOptscim062020 no"),
        "{human}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.nth("entra-sim compare-modes", 1).output).unwrap();
    assert_eq!(
        json["verdict"],
        serde_json::json!({"default": false, "aadOptscim062020": false})
    );
}
