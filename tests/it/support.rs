//! Test support: a temp folder holding a job, its directory and a mapping; the built-in target
//! in-process; and cycles run through the library with a fake clock and seeded randomness.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use entra_sim::clock::FakeClock;
use entra_sim::commands::{Loaded, load};
use entra_sim::engine::{self, CycleEnv, CycleReport, EntrySink};
use entra_sim::plan::{Reply, Request};
use entra_sim::provlog::LogEntry;
use entra_sim::runner::Observer;
use entra_sim::target::{self, RunningTarget, TargetConfig};
use rand::SeedableRng;
use serde_json::Value;

pub const TOKEN: &str = "test-token-5e1f0c2a";

/// A repository file, e.g. `mappings/scim-default.yaml`.
/// Runs the `entra-sim` binary with `args` (it must succeed) and returns its standard output.
/// Not for commands that talk to an in-process target: this blocks the test's runtime.
pub fn run_bin(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_entra-sim"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `entra-sim target serve --port 0` with `extra` arguments, as a separate process: the child
/// and the Tenant URL from the line it prints once listening.
pub fn serve_target(token: &str, extra: &[&str]) -> (std::process::Child, String) {
    let mut target = std::process::Command::new(env!("CARGO_BIN_EXE_entra-sim"))
        .args(["target", "serve", "--port", "0", "--token", token])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(target.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (target, url)
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub target: RunningTarget,
    pub clock: FakeClock,
    mapping: PathBuf,
    seed: u64,
    /// Held open across cycles, as a long-running service would (sled releases its lock lazily).
    store: Option<entra_sim::store::Store>,
    /// Target ids seen so far and the names they stand for.
    known: std::cell::RefCell<std::collections::BTreeMap<String, String>>,
}

#[derive(Default)]
pub struct Collect {
    pub logs: Vec<LogEntry>,
}

impl Observer for Collect {
    fn exchange(&mut self, _request: &Request, _reply: &Reply) {}
}

impl EntrySink for Collect {
    fn entry(&mut self, log: &LogEntry) {
        self.logs.push(log.clone());
    }
}

/// [`engine::start`] for a job just loaded: the cycle recorded without reading the tenant, when
/// its files are the last clean cycle's.
pub fn unchanged(
    store: &entra_sim::store::Store,
    job: &entra_sim::config::Job,
    clock: &dyn entra_sim::clock::Clock,
    rng: &mut dyn rand::RngCore,
) -> Option<CycleReport> {
    let retention = || Ok::<_, entra_sim::store::StoreError>(job.settings.log_retention_days);
    let files = engine::Files::Loaded(job);
    match engine::start(Some(store), files, || None, retention, clock, rng).unwrap() {
        engine::Start::Unchanged(report) => Some(*report),
        engine::Start::Keep | engine::Start::Load(_) => None,
    }
}

pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

impl Harness {
    /// A target requiring [`TOKEN`], and a job (`job.yaml`) over `directory` with `mapping` (a
    /// repository path), `url_suffix` appended to the Tenant URL (e.g. `?aadOptscim062020`).
    pub async fn new(directory: &str, mapping: &str, job_extra: &str, url_suffix: &str) -> Harness {
        let target = target::spawn(TargetConfig {
            token: Some(TOKEN.into()),
            ..TargetConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), TOKEN).unwrap();
        std::fs::write(dir.path().join("directory.yaml"), directory).unwrap();
        let harness = Harness {
            dir,
            target,
            clock: FakeClock::new(start_time()),
            mapping: repo(mapping),
            seed: 1,
            store: None,
            known: Default::default(),
        };
        harness.set_job_extra(job_extra, url_suffix);
        harness
    }

    /// `n` generated users under Uni-tel's mapping with `scope: all`.
    pub async fn users(n: usize) -> Harness {
        Harness::new(
            &tenant(&users(n), &[]),
            "mappings/uni-tel.yaml",
            "scope: all\n",
            "",
        )
        .await
    }

    /// One user, Alice, under Uni-tel's mapping with `scope: all`.
    pub async fn alice() -> Harness {
        Harness::new(
            &tenant(&[user("a1", "alice", "Alice", "CEO", None, "")], &[]),
            "mappings/uni-tel.yaml",
            "scope: all\n",
            "",
        )
        .await
    }

    pub fn job_path(&self) -> PathBuf {
        self.dir.path().join("job.yaml")
    }

    pub fn set_directory(&self, directory: &str) {
        std::fs::write(self.dir.path().join("directory.yaml"), directory).unwrap();
    }

    pub fn loaded(&self) -> Loaded {
        load(&self.job_path()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs the engine once with `client` and `sink` on the harness's store and clock.
    async fn engine(
        &mut self,
        loaded: &Loaded,
        client: &entra_sim::http::ScimClient,
        dry_run: bool,
        seed: u64,
        sink: &mut dyn EntrySink,
    ) -> CycleReport {
        if self.store.is_none() {
            self.store = Some(loaded.store().unwrap());
        }
        let store = self.store.take().unwrap();
        let env = CycleEnv {
            job: &loaded.job,
            compiled: &loaded.compiled,
            store: &store,
            client,
            mode: loaded.mode,
            clock: &self.clock,
            dry_run,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        // As `cycle` and `run` do: a cycle over the last clean cycle's bytes reads nothing.
        let unchanged = (!dry_run).then(|| unchanged(&store, &loaded.job, &self.clock, &mut rng));
        let report = match unchanged.flatten() {
            Some(report) => report,
            None => engine::run_cycle(&env, &mut rng, sink).await.unwrap(),
        };
        self.store = Some(store);
        report
    }

    /// Runs one cycle and returns its report and log entries; the target's request log is cleared first.
    pub async fn cycle(&mut self) -> (CycleReport, Vec<LogEntry>) {
        self.target.clear_requests();
        let loaded = self.loaded();
        let token = loaded.token().unwrap();
        let client = loaded.client(&loaded.base_url, &token).unwrap();
        self.seed += 1;
        let mut sink = Collect::default();
        let report = self
            .engine(&loaded, &client, false, self.seed, &mut sink)
            .await;
        self.clock.advance(chrono::Duration::minutes(40));
        (report, sink.logs)
    }

    /// Plans the next cycle (reads sent, writes kept) and returns the planned writes as
    /// `METHOD path body`, with planned and real ids replaced by names.
    pub async fn plan(&mut self) -> Vec<String> {
        self.target.clear_requests();
        let loaded = self.loaded();
        let token = loaded.token().unwrap();
        let client = loaded.client(&loaded.base_url, &token).unwrap().planning();
        let mut planner = entra_sim::commands::plan::Planner::default();
        self.engine(&loaded, &client, true, 99, &mut planner).await;
        let planned: Vec<_> = planner
            .changes
            .iter()
            .flat_map(|c| c.requests.clone())
            .collect();
        assert_eq!(
            planned,
            client.planned(),
            "the planner saw every planned write"
        );
        self.render_planned(&planned)
    }

    /// Plans the next cycle with `plan --offline`'s planner: no request reaches the target.
    pub async fn plan_offline(&mut self) -> Vec<String> {
        self.target.clear_requests();
        let loaded = self.loaded();
        if self.store.is_none() {
            self.store = Some(loaded.store().unwrap());
        }
        let store = self.store.take().unwrap();
        let (_, planner) = entra_sim::commands::plan::offline_run(&loaded, &store)
            .await
            .unwrap();
        self.store = Some(store);
        assert!(
            self.target.requests().is_empty(),
            "offline planning sent {:?}",
            self.requests()
        );
        let planned: Vec<_> = planner
            .changes
            .iter()
            .flat_map(|c| c.requests.clone())
            .collect();
        self.render_planned(&planned)
    }

    fn render_planned(&self, planned: &[entra_sim::plan::Request]) -> Vec<String> {
        let mut out = Vec::new();
        for request in planned {
            let mut text = format!(
                "{} {} {}",
                request.method.as_str(),
                request.path,
                request
                    .body
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default()
            );
            for (i, earlier) in planned.iter().enumerate().rev() {
                if let Some(body) = &earlier.body {
                    let name = body
                        .get("userName")
                        .or_else(|| body.get("displayName"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    text = text.replace(&format!("planned-{}", i + 1), &format!("{{{name}}}"));
                }
            }
            out.push(self.names(&text));
        }
        out
    }

    /// Closes the state store so that a separate process (the binary) can open it.
    pub fn close_store(&mut self) {
        self.store = None;
    }

    /// The writes of the last cycle, as [`Harness::plan`] renders them.
    pub fn writes(&self) -> Vec<String> {
        self.target
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| {
                self.names(&format!(
                    "{} {} {}",
                    r.method,
                    r.path,
                    r.body.json().map(|b| b.to_string()).unwrap_or_default()
                ))
            })
            .collect()
    }

    /// The requests of the last cycle as `METHOD path` with `/scim/v2` removed and target ids
    /// replaced by `{userName}` / `{displayName}`.
    pub fn requests(&self) -> Vec<String> {
        self.target
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, self.names(&r.path)))
            .collect()
    }

    /// The bodies of the last cycle's requests (null when none), ids replaced as in [`requests`].
    pub fn bodies(&self) -> Vec<Value> {
        self.target
            .requests()
            .iter()
            .map(|r| {
                r.body.json().map_or(Value::Null, |b| {
                    serde_json::from_str(&self.names(&b.to_string())).unwrap()
                })
            })
            .collect()
    }

    /// Uses another mapping file from the next job rewrite on.
    pub fn set_mapping(&mut self, path: &Path) {
        self.mapping = path.to_path_buf();
    }

    /// Rewrites the job file's assignments/settings part (everything after `target`).
    pub fn set_job_extra(&self, job_extra: &str, url_suffix: &str) {
        let job = format!(
            "directory: directory.yaml\nmapping: {}\ntarget:\n  url: {}{url_suffix}\n  token_file: token\n{job_extra}",
            self.mapping.display(),
            self.target.base_url()
        );
        std::fs::write(self.dir.path().join("job.yaml"), job).unwrap();
    }

    /// `text` with every target id replaced by `{name}` — also ids of objects deleted since they
    /// were first seen.
    pub fn names(&self, text: &str) -> String {
        let mut known = self.known.borrow_mut();
        for user in self.target.users() {
            known.insert(
                user["id"].as_str().unwrap().to_string(),
                format!("{{{}}}", user["userName"].as_str().unwrap()),
            );
        }
        for group in self.target.groups() {
            known.insert(
                group["id"].as_str().unwrap().to_string(),
                format!("{{{}}}", group["displayName"].as_str().unwrap()),
            );
        }
        let mut out = text.replacen("/scim/v2", "", 1);
        for (id, name) in known.iter() {
            out = out.replace(id, name);
        }
        out
    }

    pub fn user(&self, user_name: &str) -> Option<Value> {
        self.target
            .users()
            .into_iter()
            .find(|u| u["userName"] == user_name)
    }

    pub fn group(&self, name: &str) -> Option<Value> {
        self.target
            .groups()
            .into_iter()
            .find(|g| g["displayName"] == name)
    }

    /// Members of a group as userNames, sorted.
    pub fn members(&self, name: &str) -> Vec<String> {
        let group = self.group(name).unwrap();
        let mut out: Vec<String> = group["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| self.names(m["value"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

impl Harness {
    /// A shipped job (`jobs/NAME.yaml`) pointed at an in-process target; its directory and
    /// mapping are the repository's files.
    pub async fn shipped(job: &str) -> Harness {
        Harness::shipped_with(job, 1).await
    }

    /// [`Harness::shipped`] with `settings.concurrency` set.
    pub async fn shipped_with(job: &str, concurrency: u32) -> Harness {
        let text = std::fs::read_to_string(repo(&format!("jobs/{job}.yaml"))).unwrap();
        let mut value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let directory =
            std::fs::read_to_string(repo("jobs").join(value["directory"].as_str().unwrap()))
                .unwrap();
        let mapping = value["mapping"]
            .as_str()
            .unwrap()
            .trim_start_matches("../")
            .to_string();
        let map = value.as_mapping_mut().unwrap();
        for key in ["directory", "mapping", "target"] {
            map.remove(key);
        }
        if concurrency > 1 {
            let settings = map
                .entry("settings".into())
                .or_insert(serde_yaml::Value::Mapping(Default::default()));
            settings["concurrency"] = serde_yaml::Value::from(concurrency);
        }
        let extra = if map.is_empty() {
            String::new()
        } else {
            serde_yaml::to_string(&value).unwrap()
        };
        Harness::new(&directory, &mapping, &extra, "").await
    }
}

/// `n` plain users `u0`… (`user0@contoso.com`, …), for tests that only count them.
pub fn users(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            user(
                &format!("u{i}"),
                &format!("user{i}"),
                "User",
                "Staff",
                None,
                "",
            )
        })
        .collect()
}

/// One user entry of a directory file.
pub fn user(
    id: &str,
    nick: &str,
    given: &str,
    title: &str,
    manager: Option<&str>,
    extra: &str,
) -> String {
    let manager = manager
        .map(|m| format!("    manager: {m}\n"))
        .unwrap_or_default();
    format!(
        "  - objectId: {id}\n    userPrincipalName: {nick}@contoso.com\n    mailNickname: {nick}\n    mail: {nick}@contoso.com\n    givenName: {given}\n    surname: Example\n    displayName: {given} Example\n    jobTitle: {title}\n{manager}{extra}"
    )
}

/// A directory file with `users` and one group `Team` (objectId g1) with `team` members.
pub fn tenant(users: &[String], team: &[&str]) -> String {
    let members = team
        .iter()
        .map(|m| format!("      - {m}\n"))
        .collect::<String>();
    format!(
        "users:\n{}groups:\n  - objectId: g1\n    displayName: Team\n    members:\n{members}",
        users.concat()
    )
}
