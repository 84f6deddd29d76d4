//! The scale benchmark (issue "Scale"): real `entra-sim` processes against a separate built-in
//! target (`target serve --max-recorded 0`) over loopback, one table printed at the end.
//!
//! 1. Initial cycle of a 100,000-user, 1,000-group tenant at concurrency 1 and 4/8/16/32/64:
//!    objects/s, requests/s, peak RSS of the entra-sim process, the target's CPU share.
//! 2. The same request sequence (recorded with `cycle --record-requests` by one more, untimed
//!    cycle) replayed by a bare reqwest loop — same client settings, runtime (one thread) and
//!    allocator, same concurrency, flows kept in order, phases kept apart — against a fresh
//!    target: engine requests/s ÷ bare requests/s.
//! 3. Incremental cycle over a 1,000,000-user tenant with 1,000 changes (`directory mutate`),
//!    after an initial cycle at the best concurrency of step 1.
//! 4. A no-change incremental cycle over the same tenant.
//! 5. The output's cost (issue 18, item 15): an initial cycle of a `SCALE_JSON_USERS` tenant
//!    printing its entries as text, and the same cycle with `--json` (JSON Lines), each written to
//!    a file, the two variants interleaved `SCALE_RUNS` times; wall time and peak RSS (from
//!    `/usr/bin/time`) as medians, and the ratios `--json` ÷ text.
//!
//! Knobs (environment): `SCALE_RUNS` (3), `SCALE_CONCURRENCY` ("1,4,8,16,32,64"; empty skips steps
//! 1–2), `SCALE_USERS` (100000), `SCALE_GROUPS` (1000), `SCALE_LARGE_USERS` (1000000; 0 skips
//! steps 3–4), `SCALE_LARGE_RUNS` (1; each repeat of step 3 applies 1,000 new changes, seeds
//! 2, 3, …, to the previous run's directory, and each repeat of step 4 is one more no-change
//! cycle),
//! `SCALE_LARGE_CONCURRENCY` (default: the best of step 1), `SCALE_LARGE_TIMEOUT` (seconds the
//! large initial cycle may take, 1200), `SCALE_JSON_USERS` (`SCALE_USERS`; 0 skips step 5),
//! `SCALE_JSON_CONCURRENCY` (8), `SCALE_DIR` (work files, default `target/scale-bench`;
//! generated tenants are reused).

#![allow(clippy::disallowed_methods)] // a benchmark measures wall-clock time
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entra-sim");
const TOKEN: &str = "scale-bench-token";

type Result<T> = std::result::Result<T, String>;

/// The binary's allocator, so that the bare replay pays what the engine pays per allocation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Clock ticks (utime + stime) a process has used so far, from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted from the state field (3) here.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// This process's own clock ticks and those of its children that were waited for, from
/// /proc/self/stat (utime + stime, cutime + cstime).
fn own_and_children_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0, 0);
    };
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return (0, 0);
    };
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    (at(11) + at(12), at(13) + at(14))
}

/// Microseconds of CPU per request, from clock ticks (100 per second).
fn us_per_request(ticks: u64, requests: u64) -> f64 {
    ticks as f64 * 10_000.0 / requests.max(1) as f64
}

fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// A `target serve` process, killed when dropped.
struct Target {
    child: Child,
    url: String,
}

impl Target {
    fn start() -> Result<Target> {
        let mut child = Command::new(BIN)
            .args(["target", "serve", "--port", "0", "--token", TOKEN])
            .args(["--max-recorded", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("target serve: {e}"))?;
        let stdout = child.stdout.take().ok_or("target serve: no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .ok_or_else(|| format!("target serve said: {line}"))?
            .to_string();
        Ok(Target { child, url })
    }

    fn ticks(&self) -> u64 {
        cpu_ticks(self.child.id()).unwrap_or(0)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A generated tenant: its directory file and the job file `directory generate` wrote.
struct Tenant {
    dir: PathBuf,
    directory: PathBuf,
    job: String,
}

fn tenant(work: &Path, users: usize, groups: usize) -> Result<Tenant> {
    let dir = work.join(format!("tenant-{users}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let directory = dir.join("tenant.jsonl");
    let job_file = dir.join("generated-job.yaml");
    if !directory.exists() || !job_file.exists() {
        eprintln!("generating {users} users, {groups} groups …");
        run(Command::new(BIN)
            .args(["directory", "generate", "--seed", "1"])
            .args([
                "--users",
                &users.to_string(),
                "--groups",
                &groups.to_string(),
            ])
            .arg("--out")
            .arg(&directory)
            .arg("--job-out")
            .arg(&job_file)
            .arg("--mapping")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/scim-default.yaml")))?;
    }
    let job = std::fs::read_to_string(&job_file).map_err(|e| e.to_string())?;
    Ok(Tenant {
        dir,
        directory,
        job,
    })
}

/// The generated job with our target, concurrency, directory and a state directory.
fn write_job(
    t: &Tenant,
    name: &str,
    directory: &Path,
    url: &str,
    concurrency: usize,
    state: &Path,
) -> Result<PathBuf> {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&t.job).map_err(|e| e.to_string())?;
    let map = doc.as_mapping_mut().ok_or("job file is not a mapping")?;
    map.insert("directory".into(), directory.display().to_string().into());
    if directory != t.directory {
        // `directory mutate` deletes users, and Entra drops a deleted user's assignment with it:
        // keep only assignments whose principal is still in the changed directory.
        let text = std::fs::read_to_string(directory).map_err(|e| e.to_string())?;
        // Every JSON string of the file (one pass; a million-user file is ~700 MB).
        let strings: std::collections::HashSet<&str> = text.split('"').skip(1).step_by(2).collect();
        if let Some(serde_yaml::Value::Sequence(list)) = map.get_mut("assignments") {
            list.retain(|a| {
                a.get("principal")
                    .and_then(serde_yaml::Value::as_str)
                    .is_none_or(|p| strings.contains(p))
            });
        }
    }
    let mut target = serde_yaml::Mapping::new();
    target.insert("url".into(), url.into());
    target.insert("token_env".into(), "ENTRA_SIM_TOKEN".into());
    map.insert("target".into(), target.into());
    let settings = map
        .entry("settings".into())
        .or_insert_with(|| serde_yaml::Mapping::new().into());
    let settings = settings
        .as_mapping_mut()
        .ok_or("settings is not a mapping")?;
    settings.insert("concurrency".into(), (concurrency as u64).into());
    settings.insert("state_dir".into(), state.display().to_string().into());
    let path = t.dir.join(format!("{name}.yaml"));
    let text = serde_yaml::to_string(&doc).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// What one `entra-sim cycle` process did.
#[derive(Clone, Debug)]
struct CycleRun {
    wall: f64,
    kind: String,
    created: u64,
    changed: u64,
    requests: u64,
    failed: u64,
    peak_rss: u64,
    target_cpu: f64,
    /// The entra-sim process's CPU (user + system), µs per request sent.
    cpu_per_request: f64,
}

fn cycle(
    job: &Path,
    target: &Target,
    record: Option<&Path>,
    timeout: Duration,
) -> Result<CycleRun> {
    let mut cmd = Command::new(BIN);
    cmd.args(["cycle", "--json", "--quiet", "--job"])
        .arg(job)
        .env("ENTRA_SIM_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(file) = record {
        cmd.arg("--record-requests").arg(file);
    }
    let ticks = target.ticks();
    let (_, waited) = own_and_children_ticks();
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cycle: {e}"))?;
    let pid = child.id();
    let mut peak = 0;
    let mut polls = 0u64;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let wall = start.elapsed().as_secs_f64();
            let target_cpu = (target.ticks() - ticks) as f64 / 100.0 / wall;
            let used = own_and_children_ticks().1 - waited;
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out.stdout);
            let v: Value = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "cycle ({status}): {e}: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
            let c = &v["cycle"];
            let n = |k: &str| c["counts"][k].as_u64().unwrap_or(0);
            return Ok(CycleRun {
                wall,
                kind: c["kind"].as_str().unwrap_or("?").to_string(),
                created: n("created"),
                changed: n("created") + n("updated") + n("disabled") + n("deleted"),
                requests: c["requests"].as_u64().unwrap_or(0),
                failed: n("failed"),
                peak_rss: v["process"]["peakRssBytes"].as_u64().unwrap_or(peak),
                target_cpu,
                cpu_per_request: us_per_request(used, c["requests"].as_u64().unwrap_or(0)),
            });
        }
        // The exit is noticed within 10 ms (the wall clock's resolution; it used to be 200 ms,
        // which rounded every wall time up to the next 0.2 s); RSS is sampled every 200 ms.
        if polls.is_multiple_of(20) {
            peak = peak.max(rss_bytes(pid).unwrap_or(0));
        }
        polls += 1;
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("cycle exceeded {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---- The bare replay ----------------------------------------------------------------------

/// One recorded request, ready to send: the body serialized, the old ids it mentions listed.
struct Req {
    method: reqwest::Method,
    path: String,
    body: Option<String>,
    created: Option<String>,
    refs: Vec<String>,
}

/// Phases of flows of requests, as the engine sent them.
fn load_recording(file: &Path) -> Result<Vec<Vec<Vec<Req>>>> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let lines: Vec<Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let created: std::collections::HashSet<&str> =
        lines.iter().filter_map(|l| l["created"].as_str()).collect();
    let mut phases: Vec<Vec<Vec<Req>>> = Vec::new();
    let mut flow_index: HashMap<u64, usize> = HashMap::new();
    for l in &lines {
        if l.get("phase").is_some() {
            phases.push(Vec::new());
            flow_index.clear();
            continue;
        }
        let phase = phases.last_mut().ok_or("request before any phase")?;
        let path = l["path"].as_str().unwrap_or_default().to_string();
        let mut refs: Vec<String> = path
            .split(['/', '?', '&', '='])
            .filter(|seg| created.contains(seg))
            .map(str::to_string)
            .collect();
        fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut body_strings = Vec::new();
        strings(&l["body"], &mut body_strings);
        refs.extend(
            body_strings
                .into_iter()
                .filter(|s| created.contains(s))
                .map(str::to_string),
        );
        refs.sort();
        refs.dedup();
        let req = Req {
            method: l["method"]
                .as_str()
                .unwrap_or("GET")
                .parse()
                .map_err(|e| format!("{e}"))?,
            path,
            body: (!l["body"].is_null()).then(|| l["body"].to_string()),
            created: l["created"].as_str().map(str::to_string),
            refs,
        };
        let flow = l["flow"].as_u64().unwrap_or(0);
        let i = *flow_index.entry(flow).or_insert_with(|| {
            phase.push(Vec::new());
            phase.len() - 1
        });
        phase[i].push(req);
    }
    Ok(phases)
}

struct Replay {
    wall: f64,
    requests: u64,
    errors: u64,
    target_cpu: f64,
    /// This process's CPU while it replayed, µs per request.
    cpu_per_request: f64,
}

/// Sends the recorded flows with `concurrency` flows in flight; a flow's requests in order, each
/// phase finished before the next starts (as the engine does). Old ids become the fresh target's
/// ids via the id each POST got back.
fn replay(
    phases: Vec<Vec<Vec<Req>>>,
    url: &str,
    concurrency: usize,
    target: &Target,
) -> Result<Replay> {
    // As the engine runs: one thread drives every flow and polls its connections.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .user_agent(concat!("entra-sim/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let ids: Arc<RwLock<HashMap<String, String>>> = Arc::default();
    // Built once, as the engine's client does.
    let auth = reqwest::header::HeaderValue::try_from(format!("Bearer {TOKEN}"))
        .map_err(|e| e.to_string())?;
    let base = url.trim_end_matches('/').to_string();
    let ticks = target.ticks();
    let (own, _) = own_and_children_ticks();
    let start = Instant::now();
    let (requests, errors) = rt.block_on(async {
        let mut requests = 0u64;
        let mut errors = 0u64;
        for flows in phases {
            let flows = Arc::new(flows);
            let next = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for _ in 0..concurrency {
                let (flows, next, ids) = (flows.clone(), next.clone(), ids.clone());
                let (client, auth, base) = (client.clone(), auth.clone(), base.clone());
                tasks.push(tokio::spawn(async move {
                    let (mut sent, mut bad) = (0u64, 0u64);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(flow) = flows.get(i) else { break };
                        for req in flow {
                            let (mut path, mut body) = (req.path.clone(), req.body.clone());
                            if !req.refs.is_empty() {
                                let map = ids.read().unwrap_or_else(|p| p.into_inner());
                                for old in &req.refs {
                                    let Some(new) = map.get(old) else {
                                        bad += 1;
                                        continue;
                                    };
                                    path = path.replace(old.as_str(), new);
                                    body = body.map(|b| b.replace(old.as_str(), new));
                                }
                            }
                            let mut b = client
                                .request(req.method.clone(), format!("{base}{path}"))
                                .header(reqwest::header::AUTHORIZATION, auth.clone());
                            if let Some(body) = body {
                                b = b
                                    .header("Content-Type", "application/scim+json; charset=utf-8")
                                    .body(body);
                            }
                            sent += 1;
                            let Ok(resp) = b.send().await else {
                                bad += 1;
                                continue;
                            };
                            let status = resp.status();
                            let bytes = resp.bytes().await.unwrap_or_default();
                            if !status.is_success() {
                                bad += 1;
                            }
                            if let Some(old) = &req.created {
                                let new = serde_json::from_slice::<Value>(&bytes)
                                    .ok()
                                    .and_then(|v| v["id"].as_str().map(str::to_string));
                                if let Some(new) = new {
                                    ids.write()
                                        .unwrap_or_else(|p| p.into_inner())
                                        .insert(old.clone(), new);
                                }
                            }
                        }
                    }
                    (sent, bad)
                }));
            }
            for t in tasks {
                if let Ok((s, b)) = t.await {
                    requests += s;
                    errors += b;
                }
            }
        }
        (requests, errors)
    });
    let wall = start.elapsed().as_secs_f64();
    Ok(Replay {
        wall,
        requests,
        errors,
        target_cpu: (target.ticks() - ticks) as f64 / 100.0 / wall,
        cpu_per_request: us_per_request(own_and_children_ticks().0 - own, requests),
    })
}

// ---- The output's cost ----------------------------------------------------------------------

/// One initial cycle with its output written to a file: text, or `--json`.
struct OutputRun {
    wall: f64,
    /// Peak RSS of the entra-sim process, from `/usr/bin/time`.
    peak_rss: u64,
    /// Lines written (entries and summary).
    lines: usize,
    requests: u64,
    target_cpu: f64,
}

fn output_run(job: &Path, json: bool, dir: &Path, target: &Target) -> Result<OutputRun> {
    let out_file = dir.join(if json { "out.jsonl" } else { "out.txt" });
    let time_file = dir.join("time.txt");
    let out = std::fs::File::create(&out_file).map_err(|e| e.to_string())?;
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%M", "-o"])
        .arg(&time_file)
        .arg(BIN)
        .args(["cycle", "--job"])
        .arg(job)
        .env("ENTRA_SIM_TOKEN", TOKEN)
        .stdout(out)
        .stderr(Stdio::piped());
    if json {
        cmd.arg("--json");
    }
    let ticks = target.ticks();
    let start = Instant::now();
    let done = cmd
        .output()
        .map_err(|e| format!("/usr/bin/time (apt-get install time): {e}"))?;
    let wall = start.elapsed().as_secs_f64();
    let target_cpu = (target.ticks() - ticks) as f64 / 100.0 / wall;
    if !done.status.success() {
        return Err(format!(
            "cycle: {}: {}",
            done.status,
            String::from_utf8_lossy(&done.stderr)
        ));
    }
    let kib: u64 = std::fs::read_to_string(&time_file)
        .map_err(|e| e.to_string())?
        .trim()
        .parse()
        .map_err(|e| format!("/usr/bin/time -f %M: {e}"))?;
    let text = std::fs::read_to_string(&out_file).map_err(|e| e.to_string())?;
    let lines = text.lines().count();
    // The request count is in the JSON summary only; text runs repeat the JSON runs' sequence.
    let requests = if json {
        let last = text.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(last).map_err(|e| format!("{e}: {last}"))?;
        v["cycle"]["requests"].as_u64().unwrap_or(0)
    } else {
        0
    };
    let _ = std::fs::remove_file(&out_file);
    Ok(OutputRun {
        wall,
        peak_rss: kib * 1024,
        lines,
        requests,
        target_cpu,
    })
}

/// Step 5: text and `--json` output of the same initial cycle, interleaved.
fn output_cost(work: &Path, users: usize, groups: usize, runs: usize) -> Result<Vec<Row>> {
    let c: usize = env_or("SCALE_JSON_CONCURRENCY", 8);
    let t = tenant(work, users, groups)?;
    let mut text = Vec::new();
    let mut json = Vec::new();
    for i in 0..runs {
        for as_json in [false, true] {
            let name = if as_json { "json" } else { "text" };
            let state = t.dir.join(format!("state-output-{name}"));
            let _ = std::fs::remove_dir_all(&state);
            let target = Target::start()?;
            let job = write_job(&t, "job-output", &t.directory, &target.url, c, &state)?;
            let r = output_run(&job, as_json, &t.dir, &target)?;
            drop(target);
            let _ = std::fs::remove_dir_all(&state);
            eprintln!(
                "output {name} run {i}: {:.2} s, {} MiB, {} lines",
                r.wall,
                r.peak_rss >> 20,
                r.lines
            );
            if as_json { &mut json } else { &mut text }.push(r);
        }
    }
    let wall = |rs: &[OutputRun]| median(rs.iter().map(|r| r.wall).collect());
    let rss = |rs: &[OutputRun]| median(rs.iter().map(|r| r.peak_rss as f64).collect());
    let requests = json.last().map_or(0, |r| r.requests);
    let row = |scenario: String, rs: &[OutputRun], note: String| Row {
        scenario,
        runs: rs.len(),
        wall: wall(rs),
        objects_per_s: None,
        requests,
        requests_per_s: requests as f64 / wall(rs),
        peak_rss: Some(rss(rs) as u64),
        target_cpu: median(rs.iter().map(|r| r.target_cpu).collect()),
        cpu_per_request: None,
        note,
    };
    Ok(vec![
        row(
            format!("5a. initial {users} users + {groups} groups, concurrency {c}, text output"),
            &text,
            format!(
                "{} lines; peak RSS is the median",
                text.last().map_or(0, |r| r.lines)
            ),
        ),
        row(
            "5b. the same cycle with --json (JSON Lines)".to_string(),
            &json,
            format!(
                "{} lines; --json ÷ text: time {:.2}×, peak RSS {:.2}×",
                json.last().map_or(0, |r| r.lines),
                wall(&json) / wall(&text),
                rss(&json) / rss(&text)
            ),
        ),
    ])
}

// ---- The table ----------------------------------------------------------------------------

struct Row {
    scenario: String,
    runs: usize,
    wall: f64,
    objects_per_s: Option<f64>,
    requests: u64,
    requests_per_s: f64,
    peak_rss: Option<u64>,
    target_cpu: f64,
    /// The client's CPU (entra-sim, or the bare loop), µs per request (initial cycles and
    /// replays: an incremental cycle's CPU is mostly reading the tenant, not requests).
    cpu_per_request: Option<f64>,
    note: String,
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| Scenario | Runs | Wall s (median) | Objects/s | Requests | Requests/s | Peak RSS MiB | Target CPU (cores) | Client CPU µs/request | Note |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {:.2} | {} | {} | {:.0} | {} | {:.2} | {} | {} |",
            r.scenario,
            r.runs,
            r.wall,
            r.objects_per_s.map_or("–".into(), |x| format!("{x:.0}")),
            r.requests,
            r.requests_per_s,
            r.peak_rss
                .map_or("–".into(), |x| format!("{}", x / (1024 * 1024))),
            r.target_cpu,
            r.cpu_per_request.map_or("–".into(), |x| format!("{x:.0}")),
            r.note
        );
    }
}

fn row_of(scenario: String, runs: &[CycleRun], objects: Option<u64>, note: String) -> Row {
    let wall = median(runs.iter().map(|r| r.wall).collect());
    let requests = runs.last().map_or(0, |r| r.requests);
    Row {
        scenario,
        runs: runs.len(),
        wall,
        objects_per_s: objects.map(|o| o as f64 / wall),
        requests,
        requests_per_s: median(runs.iter().map(|r| r.requests as f64 / r.wall).collect()),
        peak_rss: Some(runs.iter().map(|r| r.peak_rss).max().unwrap_or(0)),
        target_cpu: median(runs.iter().map(|r| r.target_cpu).collect()),
        cpu_per_request: objects.map(|_| median(runs.iter().map(|r| r.cpu_per_request).collect())),
        note,
    }
}

fn main() {
    if let Err(e) = bench() {
        eprintln!("scale bench failed: {e}");
        std::process::exit(1);
    }
}

fn bench() -> Result<()> {
    let runs: usize = env_or("SCALE_RUNS", 3).max(1);
    let users: usize = env_or("SCALE_USERS", 100_000);
    let groups: usize = env_or("SCALE_GROUPS", 1_000);
    let large: usize = env_or("SCALE_LARGE_USERS", 1_000_000);
    let large_runs: usize = env_or("SCALE_LARGE_RUNS", 1).max(1);
    let large_timeout = Duration::from_secs(env_or("SCALE_LARGE_TIMEOUT", 1200));
    let concurrencies: Vec<usize> = std::env::var("SCALE_CONCURRENCY")
        .unwrap_or_else(|_| "1,4,8,16,32,64".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let work = std::env::var("SCALE_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/scale-bench"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let no_timeout = Duration::from_secs(24 * 3600);
    let mut rows = Vec::new();

    // 1 and 2: initial cycles of the 100k tenant, and their bare replays.
    let t = tenant(&work, users, groups)?;
    let mut best: Option<(usize, f64)> = None;
    for &c in &concurrencies {
        let mut engine = Vec::new();
        let mut bare = Vec::new();
        // The sequence the bare loop replays comes from one more cycle, untimed: recording
        // every request costs the engine a JSON line per request, which the timed runs skip.
        let recording = t.dir.join(format!("requests-c{c}.jsonl"));
        // One initial cycle of the tenant into a fresh target, from an empty state directory.
        let initial = |name: &str, record: Option<&Path>| -> Result<CycleRun> {
            let state = t.dir.join(format!("state-c{c}-{name}"));
            let _ = std::fs::remove_dir_all(&state);
            let target = Target::start()?;
            let job = write_job(
                &t,
                &format!("job-c{c}"),
                &t.directory,
                &target.url,
                c,
                &state,
            )?;
            let run = cycle(&job, &target, record, no_timeout);
            let _ = std::fs::remove_dir_all(&state);
            run
        };
        let r = initial("recording", Some(&recording))?;
        eprintln!(
            "recording c={c}: {:.2} s (untimed), {} requests",
            r.wall, r.requests
        );
        for i in 0..runs {
            let r = initial(&i.to_string(), None)?;
            eprintln!(
                "initial c={c} run {i}: {:.2} s, {} created, {} requests, {} failed, {} MiB, target {:.2} cores, entra-sim {:.0} µs CPU/request",
                r.wall,
                r.created,
                r.requests,
                r.failed,
                r.peak_rss >> 20,
                r.target_cpu,
                r.cpu_per_request
            );
            let phases = load_recording(&recording)?;
            let target = Target::start()?;
            let b = replay(phases, &target.url, c, &target)?;
            eprintln!(
                "  bare replay: {:.2} s, {} requests, {} errors, target {:.2} cores, client {:.0} µs CPU/request",
                b.wall, b.requests, b.errors, b.target_cpu, b.cpu_per_request
            );
            engine.push(r);
            bare.push(b);
        }
        let objects = engine.last().map_or(0, |r| r.created);
        let engine_rps = median(engine.iter().map(|r| r.requests as f64 / r.wall).collect());
        let bare_rps = median(bare.iter().map(|b| b.requests as f64 / b.wall).collect());
        let failed = engine.iter().map(|r| r.failed).max().unwrap_or(0);
        let ops = objects as f64 / median(engine.iter().map(|r| r.wall).collect());
        if best.is_none_or(|(_, o)| ops > o) {
            best = Some((c, ops));
        }
        rows.push(row_of(
            format!("1. initial {users} users + {groups} groups, concurrency {c}"),
            &engine,
            Some(objects),
            format!("{failed} failed"),
        ));
        let bare_wall = median(bare.iter().map(|b| b.wall).collect());
        rows.push(Row {
            scenario: format!("2. bare replay of that sequence, concurrency {c}"),
            runs: bare.len(),
            wall: bare_wall,
            objects_per_s: None,
            requests: bare.last().map_or(0, |b| b.requests),
            requests_per_s: bare_rps,
            peak_rss: None,
            target_cpu: median(bare.iter().map(|b| b.target_cpu).collect()),
            cpu_per_request: Some(median(bare.iter().map(|b| b.cpu_per_request).collect())),
            note: format!(
                "engine/bare = {:.2}; {} non-2xx",
                engine_rps / bare_rps,
                bare.iter().map(|b| b.errors).max().unwrap_or(0)
            ),
        });
    }

    // 3 and 4: the large tenant at the best concurrency.
    if large > 0 {
        let c = env_or("SCALE_LARGE_CONCURRENCY", best.map_or(8, |(c, _)| c));
        let t = tenant(&work, large, groups)?;
        let state = t.dir.join("state");
        let _ = std::fs::remove_dir_all(&state);
        let target = Target::start()?;
        let job = write_job(&t, "job-initial", &t.directory, &target.url, c, &state)?;
        let initial = cycle(&job, &target, None, large_timeout)?;
        eprintln!(
            "large initial c={c}: {:.1} s, {} objects, {} requests, {} MiB",
            initial.wall,
            initial.changed,
            initial.requests,
            initial.peak_rss >> 20
        );
        rows.push(row_of(
            format!("3a. initial {large} users + {groups} groups, concurrency {c}"),
            std::slice::from_ref(&initial),
            Some(initial.created),
            format!("{} failed", initial.failed),
        ));
        // Each run applies 1,000 fresh changes (`directory mutate`, seed 2, 3, …) to the
        // directory the previous run provisioned: state and target stay consistent.
        let mut incremental = Vec::new();
        let mut previous = t.directory.clone();
        let mut job = job;
        for i in 0..large_runs {
            let changed_dir = t.dir.join(format!("tenant-changed-{i}.jsonl"));
            run(Command::new(BIN)
                .args(["directory", "mutate", "--changes", "1000", "--seed"])
                .arg((2 + i).to_string())
                .arg("--in")
                .arg(&previous)
                .arg("--out")
                .arg(&changed_dir))?;
            job = write_job(
                &t,
                &format!("job-changed-{i}"),
                &changed_dir,
                &target.url,
                c,
                &state,
            )?;
            let r = cycle(&job, &target, None, no_timeout)?;
            eprintln!(
                "large incremental ({}): {:.2} s, {} changed, {} requests, {} MiB",
                r.kind,
                r.wall,
                r.changed,
                r.requests,
                r.peak_rss >> 20
            );
            incremental.push(r);
            previous = changed_dir;
        }
        let req = incremental.last().map_or(0, |r| r.requests);
        rows.push(row_of(
            format!("3. incremental {large} users, 1000 changes, concurrency {c}"),
            &incremental,
            None,
            format!(
                "{} entries changed; {:.2} requests per change",
                incremental.last().map_or(0, |r| r.changed),
                req as f64 / 1000.0
            ),
        ));
        let mut quiet = Vec::new();
        for _ in 0..large_runs {
            let r = cycle(&job, &target, None, no_timeout)?;
            eprintln!(
                "large no-change ({}): {:.2} s, {} requests, {} MiB",
                r.kind,
                r.wall,
                r.requests,
                r.peak_rss >> 20
            );
            quiet.push(r);
        }
        rows.push(row_of(
            format!("4. no-change incremental {large} users"),
            &quiet,
            None,
            format!("{} entries changed", quiet.last().map_or(0, |r| r.changed)),
        ));
    }
    // 5: what the output costs, text against --json.
    let json_users: usize = env_or("SCALE_JSON_USERS", users);
    if json_users > 0 {
        rows.extend(output_cost(&work, json_users, groups, runs)?);
    }
    print_table(&rows);
    Ok(())
}
