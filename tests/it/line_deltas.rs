//! Line-level deltas (issue "Scale", step 3): after a clean cycle, `cycle` parses only the
//! directory lines that changed (plus every group line) and reads state for those objects only.
//! The same story run with `line_deltas: false` — every line read, every connection loaded — must
//! send the same requests, write the same logs and leave the same target.

use std::path::{Path, PathBuf};

use entra_sim::clock::FakeClock;
use entra_sim::commands::{Loaded, load_with};
use entra_sim::engine::{self, CycleEnv, CycleReport};
use entra_sim::store::Store;
use entra_sim::target::{self, RunningTarget, TargetConfig};
use rand::SeedableRng;
use serde_json::Value;

use crate::support::{Collect, Test, repo, start_time};

const TOKEN: &str = "delta-token";

/// One job over one target: the delta side or the every-line side.
struct Side {
    job: PathBuf,
    state: PathBuf,
    target: RunningTarget,
    deltas: bool,
}

impl Side {
    async fn new(dir: &Path, name: &str, deltas: bool) -> Side {
        let target = target::spawn(TargetConfig {
            token: Some(TOKEN.into()),
            ..TargetConfig::default()
        })
        .await
        .unwrap();
        // Same job name on both sides, so that their logs can be compared whole.
        let home = dir.join(name);
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("token"), TOKEN).unwrap();
        Side {
            job: home.join("job.yaml"),
            state: home.join("state"),
            target,
            deltas,
        }
    }

    /// Writes the job over `directory`, with the generated job's assignments whose principal is
    /// still in it (`drop` removes some more, by position) and its own target and state.
    fn write_job(&self, generated: &str, directory: &Path, mapping: &Path, drop: &[usize]) {
        let mut doc: serde_yaml::Value = serde_yaml::from_str(generated).unwrap();
        let map = doc.as_mapping_mut().unwrap();
        map.insert("directory".into(), directory.display().to_string().into());
        map.insert("mapping".into(), mapping.display().to_string().into());
        let text = std::fs::read_to_string(directory).unwrap();
        let strings: std::collections::HashSet<&str> = text.split('"').skip(1).step_by(2).collect();
        if let Some(serde_yaml::Value::Sequence(list)) = map.get_mut("assignments") {
            let mut i = 0;
            list.retain(|a| {
                i += 1;
                !drop.contains(&(i - 1))
                    && a.get("principal")
                        .and_then(serde_yaml::Value::as_str)
                        .is_none_or(|p| strings.contains(p))
            });
        }
        let mut target = serde_yaml::Mapping::new();
        target.insert("url".into(), self.target.base_url().into());
        target.insert("token_file".into(), "token".into());
        map.insert("target".into(), target.into());
        let mut settings = serde_yaml::Mapping::new();
        settings.insert("state_dir".into(), self.state.display().to_string().into());
        settings.insert("line_deltas".into(), self.deltas.into());
        map.insert("settings".into(), settings.into());
        std::fs::write(&self.job, serde_yaml::to_string(&doc).unwrap()).unwrap();
    }

    /// One cycle as `cycle` runs it: the store opened first, its source index handed to the
    /// loader. Returns the report, the log entries as JSON, and the loaded job.
    async fn cycle(&self, clock: &FakeClock, seed: u64) -> (CycleReport, Vec<Value>, Loaded) {
        self.target.clear_requests();
        let store = Store::open(&self.state).unwrap();
        let index = store.source_index().unwrap();
        assert!(
            self.deltas || index.is_none(),
            "no index without line_deltas"
        );
        let loaded =
            load_with(&self.job, || index.map(Into::into), None).unwrap_or_else(|e| panic!("{e}"));
        let token = loaded.token().unwrap();
        let client = loaded.client(&loaded.base_url, &token).unwrap();
        let env = CycleEnv {
            job: &loaded.job,
            compiled: &loaded.compiled,
            store: &store,
            client: &client,
            mode: loaded.mode,
            clock,
            dry_run: false,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut sink = Collect::default();
        let report = match crate::support::unchanged(&store, &loaded.job, clock, &mut rng) {
            Some(report) => report,
            None => engine::run_cycle(&env, &mut rng, &mut sink).await.unwrap(),
        };
        let logs = sink
            .logs
            .iter()
            .map(|l| serde_json::to_value(l).unwrap())
            .collect();
        (report, logs, loaded)
    }

    fn requests(&self) -> Vec<String> {
        self.target
            .requests()
            .iter()
            .map(|r| format!("{} {} {:?}", r.method, r.path, r.body))
            .collect()
    }

    /// What the target holds, without `meta` (its location names the port).
    fn held(&self) -> Vec<Value> {
        let mut snapshot = self.target.snapshot();
        snapshot
            .users
            .iter_mut()
            .chain(snapshot.groups.iter_mut())
            .for_each(|o| {
                if let Some(o) = o.as_object_mut() {
                    o.remove("meta");
                }
            });
        snapshot.users.into_iter().chain(snapshot.groups).collect()
    }
}

#[tokio::test]
async fn reading_only_changed_lines_gives_the_cycles_of_reading_every_line() {
    story(true).await;
}

/// With the users' Delete action off, hard-deleted users keep their connections: every cycle
/// logs them as skipped again, from the index's orphans on the delta side.
#[tokio::test]
async fn deleted_users_without_the_delete_action_are_handled_alike() {
    story(false).await;
}

async fn story(delete_users: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut directory = dir.join("tenant-0.jsonl");
    let generated = dir.join("generated.yaml");
    let shipped = repo("mappings/scim-default.yaml");
    let mapping = if delete_users {
        shipped.clone()
    } else {
        let text = std::fs::read_to_string(&shipped).unwrap();
        let users_actions = "users:\n  actions: [create, update, delete]\n";
        assert!(text.contains(users_actions));
        let changed = text.replacen(users_actions, "users:\n  actions: [create, update]\n", 1);
        let path = dir.join("no-user-delete.yaml");
        std::fs::write(&path, changed).unwrap();
        path
    };
    Test::new()
        .args([
            "directory",
            "generate",
            "--users",
            "600",
            "--groups",
            "12",
            "--seed",
            "5",
            "--out",
            directory.to_str().unwrap(),
            "--job-out",
            generated.to_str().unwrap(),
            "--mapping",
            shipped.to_str().unwrap(),
        ])
        .run()
        .success();
    let generated = std::fs::read_to_string(&generated).unwrap();
    let delta = Side::new(dir, "delta", true).await;
    let every = Side::new(dir, "every", false).await;
    let clock = FakeClock::new(start_time());
    // Round 0 is the initial cycle; each later round applies `directory mutate` (edits, disables,
    // soft and hard deletes, manager and membership changes); round 3 also unassigns two
    // assignments, so users whose lines did not change change scope.
    for round in 0..6u64 {
        let drop: &[usize] = if round >= 3 { &[0, 2] } else { &[] };
        if round > 0 {
            let next = dir.join(format!("tenant-{round}.jsonl"));
            Test::new()
                .args([
                    "directory",
                    "mutate",
                    "--in",
                    directory.to_str().unwrap(),
                    "--changes",
                    "25",
                    "--seed",
                    &round.to_string(),
                    "--out",
                    next.to_str().unwrap(),
                ])
                .run()
                .success();
            directory = next;
        }
        delta.write_job(&generated, &directory, &mapping, drop);
        every.write_job(&generated, &directory, &mapping, drop);
        let (delta_report, delta_logs, delta_loaded) = delta.cycle(&clock, round).await;
        let (every_report, every_logs, every_loaded) = every.cycle(&clock, round).await;
        clock.advance(chrono::Duration::minutes(40));

        let all_users = every_loaded.job.directory.users().len();
        assert!(!every_loaded.job.directory.is_partial());
        if round == 0 {
            assert!(!delta_loaded.job.directory.is_partial(), "no index yet");
        } else {
            // Only the changed lines (and those of users whose scope changed) were read.
            let read = delta_loaded.job.directory.users().len();
            assert!(delta_loaded.job.directory.is_partial(), "round {round}");
            // Round 3's unassignments change the scope of a group's worth of users.
            let bound = if round == 3 {
                all_users / 2
            } else {
                all_users / 3
            };
            assert!(
                read > 0 && read < bound,
                "round {round}: read {read} of {all_users} users"
            );
            assert_eq!(
                read + delta_loaded.job.directory.ghost_ids().len(),
                all_users,
                "round {round}"
            );
        }
        assert_eq!(
            serde_json::to_value(&delta_report).unwrap(),
            serde_json::to_value(&every_report).unwrap(),
            "round {round}"
        );
        assert!(
            delta_report.counts.failed == 0 && delta_report.requests > 0,
            "round {round}: {delta_report:?}"
        );
        same(&delta_logs, &every_logs, &format!("round {round}: logs"));
        same(
            &delta.requests(),
            &every.requests(),
            &format!("round {round}: requests"),
        );
        same(
            &delta.held(),
            &every.held(),
            &format!("round {round}: target"),
        );
    }
}

/// Equal lists, or the first difference.
fn same<T: PartialEq + std::fmt::Debug>(a: &[T], b: &[T], what: &str) {
    if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
        panic!(
            "{what}: {} vs {} items, first difference at {i}:\n{:?}\n{:?}",
            a.len(),
            b.len(),
            a.get(i),
            b.get(i)
        );
    }
}

/// `cycle` says when it read by line-level deltas, and how much: in its summary, and in
/// `--json` under `process.lineDeltas`.
#[tokio::test]
async fn cycle_reports_the_lines_it_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = dir.join("tenant-0.jsonl");
    let second = dir.join("tenant-1.jsonl");
    let generated = dir.join("generated.yaml");
    let mapping = repo("mappings/scim-default.yaml");
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
            first.to_str().unwrap(),
            "--job-out",
            generated.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
        ])
        .run()
        .success();
    Test::new()
        .args([
            "directory",
            "mutate",
            "--in",
            first.to_str().unwrap(),
            "--changes",
            "5",
            "--seed",
            "2",
            "--out",
            second.to_str().unwrap(),
        ])
        .run()
        .success();
    let generated = std::fs::read_to_string(&generated).unwrap();
    let side = Side::new(dir, "cli", true).await;
    side.write_job(&generated, &first, &mapping, &[]);
    let out = cli_cycle(&side.job, false).await;
    assert!(!out.contains("line-level deltas"), "no index yet:\n{out}");
    side.write_job(&generated, &second, &mapping, &[]);
    let out = cli_cycle(&side.job, true).await;
    let report: Value = serde_json::from_str(&out).unwrap();
    let lines = &report["process"]["lineDeltas"];
    let read = lines["usersRead"].as_u64().unwrap();
    let unread = lines["usersUnread"].as_u64().unwrap();
    assert!(read > 0 && read < 20 && read + unread >= 290, "{lines}");
    // And in words, back to the first file.
    side.write_job(&generated, &first, &mapping, &[]);
    let out = cli_cycle(&side.job, false).await;
    assert!(
        out.contains(" user lines; the rest are unchanged since the last clean cycle"),
        "{out}"
    );

    // Without line deltas: every line, and no such line.
    let every = Side::new(dir, "cli-every", false).await;
    for directory in [&first, &second] {
        every.write_job(&generated, directory, &mapping, &[]);
        let out = cli_cycle(&every.job, false).await;
        assert!(!out.contains("line-level deltas"), "{out}");
    }
}

/// `entra-sim cycle --quiet --job JOB` (and `--json`), without blocking the in-process target.
async fn cli_cycle(job: &Path, json: bool) -> String {
    let mut test = Test::new().args(["cycle", "--quiet", "--job"]).arg(job);
    if json {
        test = test.arg("--json");
    }
    test.run_async().await.success().stdout.clone()
}

/// Issue 15: a user deleted from the file while a group line and another user's manager still
/// name it — the references are dropped with warnings, as with every line read, and the next
/// cycles give the same requests, logs and target on both sides.
#[tokio::test]
async fn a_deleted_user_still_named_elsewhere_is_handled_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = dir.join("tenant-0.jsonl");
    let generated = dir.join("generated.yaml");
    let mapping = repo("mappings/scim-default.yaml");
    Test::new()
        .args([
            "directory",
            "generate",
            "--users",
            "200",
            "--groups",
            "4",
            "--seed",
            "11",
            "--out",
            first.to_str().unwrap(),
            "--job-out",
            generated.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
        ])
        .run()
        .success();
    let generated = std::fs::read_to_string(&generated).unwrap();
    let text = std::fs::read_to_string(&first).unwrap();
    // A user who manages someone and is a member of a group.
    let id_of = |line: &str| {
        let value: Value = serde_json::from_str(line).unwrap();
        value["user"]["objectId"].as_str().map(str::to_owned)
    };
    let named = |id: &str, key: &str| {
        text.lines()
            .any(|l| l.contains(&format!("\"{key}\":")) && l.contains(&format!("\"{id}\"")))
    };
    let gone = text
        .lines()
        .filter_map(id_of)
        .find(|id| named(id, "manager") && named(id, "members"))
        .expect("a manager in a group");
    let second = dir.join("tenant-1.jsonl");
    let kept: String = text
        .split_inclusive('\n')
        .filter(|l| id_of(l).as_deref() != Some(gone.as_str()))
        .collect();
    std::fs::write(&second, kept).unwrap();

    let delta = Side::new(dir, "delta", true).await;
    let every = Side::new(dir, "every", false).await;
    let clock = FakeClock::new(start_time());
    for (round, file) in [&first, &second, &second].into_iter().enumerate() {
        delta.write_job(&generated, file, &mapping, &[]);
        every.write_job(&generated, file, &mapping, &[]);
        let seed = round as u64;
        let (delta_report, delta_logs, delta_loaded) = delta.cycle(&clock, seed).await;
        let (every_report, every_logs, every_loaded) = every.cycle(&clock, seed).await;
        clock.advance(chrono::Duration::minutes(40));
        let warnings = |loaded: &Loaded| {
            loaded
                .job
                .directory
                .warnings()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            warnings(&delta_loaded),
            warnings(&every_loaded),
            "round {round}"
        );
        if round > 0 {
            let found = warnings(&every_loaded);
            assert!(
                found.len() >= 2
                    && found
                        .iter()
                        .all(|w| w.contains(&format!("\"{gone}\" names no user or group"))),
                "round {round}: {found:?}"
            );
        }
        assert_eq!(
            serde_json::to_value(&delta_report).unwrap(),
            serde_json::to_value(&every_report).unwrap(),
            "round {round}"
        );
        assert_eq!(delta_report.counts.failed, 0, "round {round}");
        if round == 1 {
            assert_eq!(delta_report.counts.deleted, 1, "{delta_report:?}");
        }
        same(&delta_logs, &every_logs, &format!("round {round}: logs"));
        same(
            &delta.requests(),
            &every.requests(),
            &format!("round {round}: requests"),
        );
        same(
            &delta.held(),
            &every.held(),
            &format!("round {round}: target"),
        );
    }
}
