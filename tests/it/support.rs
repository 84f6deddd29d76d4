//! Test support.
//!
//! - [`Test`]: the one way tests run the `entra-sim` binary, in the style of just's test harness.
//!   Build a command, run it, then assert on (or read) what it produced:
//!
//!   ```ignore
//!   Test::new()
//!       .args(["cycle", "--job", "job.yaml"])
//!       .current_dir(h.dir.path())        // default: the crate root
//!       .env("ENTRA_SIM_STATE_DIR", &dir) // ENTRA_SIM_TOKEN/ENTRA_SIM_STATE_DIR start unset
//!       .run()                            // or `.run_async().await` beside an in-process target
//!       .status(2)                        // or `.success()`
//!       .stdout_contains("initial cycle")
//!       .stderr_contains("quarantine");
//!   ```
//!
//!   `run`/`run_async` return an [`Output`] (`code`, `stdout`, `stderr`, public) whose assertion
//!   methods print the whole output on failure. A test that needs the child itself (a daemon, a
//!   served target, a process to kill) sets `.stdout(Stdio::piped())`/`.stderr(..)` and calls
//!   `.spawn()`; [`serve_target`] is that for `target serve`.
//! - [`Harness`]: a temp folder holding a job, its directory and a mapping ([`JobFiles`]); the
//!   built-in target in-process; and cycles run through the library with a fake clock and seeded
//!   randomness.
//! - Directory fixtures with named fields: [`user`]`("a1").nick("alice").title("CEO")`, [`users`],
//!   [`tenant`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{DateTime, Utc};
use entra_sim::clock::FakeClock;
use entra_sim::commands::{Loaded, load};
use entra_sim::engine::{self, CycleEnv, CycleReport, EntrySink};
use entra_sim::plan::{Reply, Request};
use entra_sim::provlog::LogEntry;
use entra_sim::runner::{Observer, Planning};
use entra_sim::target::{self, RunningTarget, TargetConfig};
use rand::SeedableRng;
use serde_json::Value;

pub const TOKEN: &str = "test-token-5e1f0c2a";

/// One run of the `entra-sim` binary, built up before it runs: in the crate root, with
/// `ENTRA_SIM_TOKEN` and `ENTRA_SIM_STATE_DIR` removed from the environment.
#[must_use]
pub struct Test {
    command: Command,
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    pub fn new() -> Test {
        let mut command = Command::new(env!("CARGO_BIN_EXE_entra-sim"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("ENTRA_SIM_TOKEN")
            .env_remove("ENTRA_SIM_STATE_DIR");
        Test { command }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Test {
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Test {
        self.command.current_dir(dir);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Test {
        self.command.env(key, value);
        self
    }

    /// Where a spawned child's standard output goes (`run` always captures it).
    pub fn stdout(mut self, to: Stdio) -> Test {
        self.command.stdout(to);
        self
    }

    /// Where a spawned child's standard error goes (`run` always captures it).
    pub fn stderr(mut self, to: Stdio) -> Test {
        self.command.stderr(to);
        self
    }

    /// Runs the binary to its end and captures its exit code, stdout and stderr. Blocks: in a
    /// test serving an in-process target use [`Test::run_async`].
    pub fn run(mut self) -> Output {
        let out = self.command.output().unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// [`Test::run`] off the async runtime, so that an in-process target keeps serving.
    pub async fn run_async(self) -> Output {
        tokio::task::spawn_blocking(move || self.run())
            .await
            .unwrap()
    }

    /// Starts the binary and returns the child (standard streams as set, else inherited).
    pub fn spawn(mut self) -> Child {
        self.command.spawn().unwrap()
    }
}

/// What a finished run of the binary produced. The assertion methods panic with the whole
/// output and return it, so they chain.
#[derive(Debug)]
pub struct Output {
    /// The exit code, -1 when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code.
    #[track_caller]
    pub fn status(&self, code: i32) -> &Output {
        assert_eq!(self.code, code, "{}{}", self.stdout, self.stderr);
        self
    }

    /// Asserts exit code 0.
    #[track_caller]
    pub fn success(&self) -> &Output {
        self.status(0)
    }

    #[track_caller]
    pub fn stdout_contains(&self, text: &str) -> &Output {
        assert!(
            self.stdout.contains(text),
            "{text:?} not in\n{}",
            self.stdout
        );
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, text: &str) -> &Output {
        assert!(
            self.stderr.contains(text),
            "{text:?} not in\n{}",
            self.stderr
        );
        self
    }
}

/// `entra-sim target serve --port 0` with `extra` arguments, as a separate process: the child
/// and the Tenant URL from the line it prints once listening.
pub fn serve_target(token: &str, extra: &[&str]) -> (Child, String) {
    let mut target = Test::new()
        .args(["target", "serve", "--port", "0", "--token", token])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
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

/// A repository file, e.g. `mappings/scim-default.yaml`.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// What a [`Harness`]'s job is made of, field by field: `JobFiles { directory: &tenant(..),
/// mapping: "mappings/scim-default.yaml", ..JobFiles::default() }`.
pub struct JobFiles<'a> {
    /// The directory file's text (no default).
    pub directory: &'a str,
    /// A repository path (default `mappings/uni-tel.yaml`).
    pub mapping: &'a str,
    /// The job file's lines after `target` (default `scope: all`).
    pub extra: &'a str,
    /// Appended to the Tenant URL, e.g. `?aadOptscim062020` (default none).
    pub url_suffix: &'a str,
}

impl Default for JobFiles<'_> {
    fn default() -> Self {
        JobFiles {
            directory: "",
            mapping: "mappings/uni-tel.yaml",
            extra: "scope: all\n",
            url_suffix: "",
        }
    }
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
    /// A target requiring [`TOKEN`], and a job (`job.yaml`) made of `job`'s files.
    pub async fn new(job: JobFiles<'_>) -> Harness {
        let JobFiles {
            directory,
            mapping,
            extra: job_extra,
            url_suffix,
        } = job;
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
        Harness::new(JobFiles {
            directory: &tenant(&users(n), &[]),
            ..JobFiles::default()
        })
        .await
    }

    /// One user, Alice, under Uni-tel's mapping with `scope: all`.
    pub async fn alice() -> Harness {
        Harness::new(JobFiles {
            directory: &tenant(
                &[user("a1").nick("alice").given("Alice").title("CEO").yaml()],
                &[],
            ),
            ..JobFiles::default()
        })
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
        client: &dyn entra_sim::runner::Transport,
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
        let client = Planning::new(loaded.client(&loaded.base_url, &token).unwrap());
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
        Harness::new(JobFiles {
            directory: &directory,
            mapping: &mapping,
            extra: &extra,
            ..JobFiles::default()
        })
        .await
    }
}

/// `n` plain users `u0`… (`user0@contoso.com`, …), for tests that only count them.
pub fn users(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| user(&format!("u{i}")).nick(&format!("user{i}")).yaml())
        .collect()
}

/// One user entry of a directory file: `user("a1").nick("alice").given("Alice").title("CEO")`,
/// then `.yaml()` for its text.
pub fn user(id: &str) -> UserEntry {
    UserEntry {
        id: id.to_string(),
        nick: String::new(),
        given: "User".to_string(),
        title: "Staff".to_string(),
        manager: None,
        extra: String::new(),
    }
}

/// A user of a directory file, field by field. Its `userPrincipalName` and `mail` are
/// `NICK@contoso.com`, its surname `Example`.
#[must_use]
pub struct UserEntry {
    id: String,
    nick: String,
    given: String,
    title: String,
    manager: Option<String>,
    extra: String,
}

impl UserEntry {
    /// The `mailNickname` (always set it).
    pub fn nick(mut self, nick: &str) -> Self {
        self.nick = nick.to_string();
        self
    }

    /// The `givenName` (default `User`); the `displayName` is `GIVEN Example`.
    pub fn given(mut self, given: &str) -> Self {
        self.given = given.to_string();
        self
    }

    /// The `jobTitle` (default `Staff`).
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    /// The manager's objectId (`"a1"`, or an `Option`; default none).
    pub fn manager<'a>(mut self, manager: impl Into<Option<&'a str>>) -> Self {
        self.manager = manager.into().map(str::to_string);
        self
    }

    /// Further YAML lines (indented by four spaces, each ending in a newline).
    pub fn extra(mut self, extra: &str) -> Self {
        self.extra = extra.to_string();
        self
    }

    /// The entry as the lines of a directory file's `users:` list.
    pub fn yaml(&self) -> String {
        let UserEntry {
            id,
            nick,
            given,
            title,
            manager,
            extra,
        } = self;
        let manager = manager
            .as_ref()
            .map(|m| format!("    manager: {m}\n"))
            .unwrap_or_default();
        format!(
            "  - objectId: {id}\n    userPrincipalName: {nick}@contoso.com\n    mailNickname: {nick}\n    mail: {nick}@contoso.com\n    givenName: {given}\n    surname: Example\n    displayName: {given} Example\n    jobTitle: {title}\n{manager}{extra}"
        )
    }
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
