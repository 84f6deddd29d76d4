//! `entra-sim run`: the provisioning service as a daemon (§1.1, §8). An initial cycle, then
//! incremental ones every 40 minutes (or `--interval`, or `--cron`); while quarantined the policy's
//! back-off decides; a disabled or paused job stops the daemon. With `--virtual-time` the clock is
//! simulated — real requests at simulated times — so four weeks of quarantine take seconds.
//! SIGINT/SIGTERM let the current cycle finish; everything is persisted after every entry anyway.
//! Before every cycle after the first, the job's files are read again when they changed
//! ([`before`]): an edited directory is what the next cycle provisions.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use tokio::sync::Notify;

use crate::cli::RunArgs;
use crate::clock::{Clock, FakeClock, SystemClock};
use crate::config;
use crate::directory::LineIndex;
use crate::engine::{self, CycleEnv, CycleReport};
use crate::error::AppError;
use crate::http::ScimClient;
use crate::output;
use crate::plan::CycleKind;
use crate::policy::{self, JobCode};
use crate::store::{Store, StoreError};

use super::Loaded;
use super::progress::Progress;

/// Parses `90s`, `40m`, `12h`, `30d` and sums like `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut total = Duration::zero();
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits
            .parse()
            .map_err(|_| format!("{text:?}: expected a number before '{c}'"))?;
        digits.clear();
        total += match c {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            other => {
                return Err(format!(
                    "{text:?}: unknown unit '{other}' (use s, m, h or d)"
                ));
            }
        };
    }
    if !digits.is_empty() || total <= Duration::zero() {
        return Err(format!(
            "{text:?}: expected a positive duration such as 40m, 12h or 30d"
        ));
    }
    Ok(total)
}

/// Set once SIGINT or SIGTERM arrived; `notify` wakes a waiting daemon.
struct Stop {
    flag: AtomicBool,
    notify: Notify,
}

/// Waits for SIGINT or SIGTERM, then raises the stop flag.
fn watch_signals(stop: Arc<Stop>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        stop.flag.store(true, Ordering::SeqCst);
        stop.notify.notify_one();
    });
}

pub async fn run(args: RunArgs) -> Result<i32, AppError> {
    let loaded = super::load(&args.job)?;
    let mut schedule = loaded.job.settings.policy.schedule.clone();
    if let Some(interval) = &args.interval {
        schedule.interval =
            parse_duration(interval).map_err(|e| AppError::Input(format!("--interval {e}")))?;
    }
    let cron = match &args.cron {
        Some(expr) => Some(
            cron::Schedule::from_str(expr)
                .map_err(|e| AppError::Input(format!("--cron {expr:?}: {e}")))?,
        ),
        None => None,
    };
    let until = match &args.until {
        Some(text) => {
            Some(parse_duration(text).map_err(|e| AppError::Input(format!("--until {e}")))?)
        }
        None => None,
    };
    let clock: Box<dyn Clock> = if args.virtual_time {
        Box::new(FakeClock::new(SystemClock.now()))
    } else {
        Box::new(SystemClock)
    };
    let started = clock.now();
    let deadline = until.map(|d| started + d);
    let mut loaded = loaded;
    let mut client = loaded.client(&loaded.base_url, &loaded.token()?)?;
    let stop = Arc::new(Stop {
        flag: AtomicBool::new(false),
        notify: Notify::new(),
    });
    watch_signals(stop.clone());
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut code = 0;
    let mut first = true;
    // The job's state is open for a cycle and closed while the daemon waits, so that `status`,
    // `pause`, `restart` or a `cycle` by hand reach it in between (with virtual time no real time
    // passes between cycles: it stays open).
    let mut kept: Option<Store> = None;
    loop {
        let store = match kept.take() {
            Some(store) => store,
            None => {
                match open_state(&loaded.job.settings.state_dir, &stop, clock.as_ref()).await? {
                    Some(store) => store,
                    None => return Ok(code),
                }
            }
        };
        let state = store.job_state()?;
        match state.code {
            JobCode::Disabled => {
                println!(
                    "{} job disabled: four weeks in quarantine; fix the cause, then `entra-sim restart`",
                    stamp(clock.now())
                );
                return Ok(2);
            }
            JobCode::Paused => {
                println!(
                    "{} job paused; `entra-sim start` resumes it",
                    stamp(clock.now())
                );
                return Ok(code);
            }
            _ => {}
        }
        // Every cycle after the first sees the job's files as they are now.
        let before = if first {
            Before::Keep
        } else {
            before(&args.job, &loaded, &store, clock.as_ref(), &mut rng)?
        };
        first = false;
        let report = match before {
            Before::Unchanged(report) => Some(report),
            Before::Broken(problem) => {
                println!(
                    "{} the job's files do not load, so no cycle runs until they do:\n{problem}",
                    stamp(clock.now())
                );
                None
            }
            Before::Keep | Before::Reloaded(_) => {
                if let Before::Reloaded(job) = before {
                    (loaded, client) = *job;
                }
                let env = CycleEnv {
                    job: &loaded.job,
                    compiled: &loaded.compiled,
                    store: &store,
                    client: &client,
                    mode: loaded.mode,
                    clock: clock.as_ref(),
                    dry_run: false,
                };
                let mut progress = Progress::new(false);
                let report = engine::run_cycle(&env, &mut rng, &mut progress).await?;
                progress.finish();
                Some(report)
            }
        };
        if let Some(report) = report {
            code = print_cycle(&report, clock.as_ref());
            if args.once {
                return Ok(code);
            }
        }
        if stop.flag.load(Ordering::SeqCst) {
            return Ok(code);
        }
        let state = store.job_state()?;
        let now = clock.now();
        let next = match (&cron, state.code) {
            (Some(cron), JobCode::Active | JobCode::NotRun) => cron.after(&now).next(),
            _ => policy::next_cycle(&state, &schedule, now),
        };
        let Some(next) = next else { continue };
        if deadline.is_some_and(|d| next > d) {
            println!(
                "{} stopping: the next cycle ({}) is past --until",
                stamp(now),
                stamp(next)
            );
            return Ok(code);
        }
        if args.virtual_time {
            kept = Some(store);
        } else {
            drop(store);
        }
        let gap = next - now;
        println!("{} next cycle in {}", stamp(now), human(gap));
        tokio::select! {
            _ = clock.sleep_until(next) => {}
            _ = stop.notify.notified() => return Ok(code),
        }
    }
}

/// Opens the job's state for a cycle. While another process holds it (a `cycle` run by hand, a
/// `restart`), says so once and waits for it on the real clock, whatever the daemon's clock;
/// `None` when stopped meanwhile.
async fn open_state(dir: &Path, stop: &Stop, clock: &dyn Clock) -> Result<Option<Store>, AppError> {
    let mut said = false;
    loop {
        match Store::try_open(dir) {
            Err(StoreError::Busy { holder, .. }) => {
                if !said {
                    let who =
                        holder.map_or_else(|| "another process".to_owned(), |h| h.to_string());
                    println!(
                        "{} waiting for {who} to release the job's state",
                        stamp(clock.now())
                    );
                    said = true;
                }
                let retry = SystemClock.now() + Duration::milliseconds(200);
                tokio::select! {
                    _ = SystemClock.sleep_until(retry) => {}
                    _ = stop.notify.notified() => return Ok(None),
                }
                if stop.flag.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            opened => return Ok(Some(opened?)),
        }
    }
}

/// Prints a cycle's line; the exit code it stands for (2 for a job failure, 1 for failed
/// entries).
fn print_cycle(report: &CycleReport, clock: &dyn Clock) -> i32 {
    let kind = if report.kind == CycleKind::Initial {
        "initial"
    } else {
        "incremental"
    };
    let quarantine = report
        .quarantine
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    println!(
        "{} {kind} cycle: {}; job {}{quarantine}",
        stamp(clock.now()),
        output::counts_line(&report.counts),
        report.job_status
    );
    if report.job_failure.is_some() {
        2
    } else if report.counts.failed > 0 {
        1
    } else {
        0
    }
}

/// What the job's files, as they are now, decide before a cycle after the daemon's first.
enum Before {
    /// They have not changed by a byte since the last clean cycle: that cycle is recorded
    /// without reading the tenant, as `cycle` records it.
    Unchanged(CycleReport),
    /// They are as loaded: the cycle runs with the job in memory.
    Keep,
    /// They changed and were loaded again: the cycle runs with this job and a client for its
    /// target and token, as they are now.
    Reloaded(Box<(Loaded, ScimClient)>),
    /// They changed and no longer load: why (file, line and field).
    Broken(AppError),
}

/// Reads the job's files again before a cycle, so that a directory (or mapping, or job file)
/// edited while the daemon runs is what its next cycle provisions. A JSON-lines directory is read
/// by line deltas against the last clean cycle's source index, as `cycle` reads it; a job read
/// that way is never kept for a later cycle, whose index may differ.
fn before(
    path: &Path,
    loaded: &Loaded,
    store: &Store,
    clock: &dyn Clock,
    rng: &mut rand::rngs::StdRng,
) -> Result<Before, AppError> {
    let sources = config::job_sources(path);
    if let Some(sources) = &sources {
        if let Some(report) = engine::unchanged_cycle(store, &sources.digest, clock, rng)? {
            return Ok(Before::Unchanged(report));
        }
        if loaded.job.source_digest.as_ref() == Some(&sources.digest)
            && !loaded.job.directory.is_partial()
        {
            return Ok(Before::Keep);
        }
    }
    let state_dir = &loaded.job.settings.state_dir;
    let index = Store::source_index_in(state_dir)
        .ok()
        .flatten()
        .filter(|(_, which)| store.holds_source_index(*which))
        .map(|(index, _)| LineIndex::from(index));
    let job = match super::load_with(path, || index, sources.map(|s| s.directory)) {
        Ok(job) => job,
        Err(problem) => return Ok(Before::Broken(problem)),
    };
    if job.job.settings.state_dir != *state_dir {
        return Ok(Before::Broken(AppError::Input(format!(
            "{}: settings.state_dir: changed while `run` holds the job's state in {}; stop `run` and start it again",
            path.display(),
            state_dir.display()
        ))));
    }
    let client = match job
        .token()
        .and_then(|token| job.client(&job.base_url, &token))
    {
        Ok(client) => client,
        Err(problem) => return Ok(Before::Broken(problem)),
    };
    Ok(Before::Reloaded(Box::new((job, client))))
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn human(d: Duration) -> String {
    let minutes = d.num_minutes();
    match (minutes / 1440, (minutes % 1440) / 60, minutes % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (days, 0, 0) => format!("{days}d"),
        (days, h, _) => format!("{days}d{h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("40m"), Ok(Duration::minutes(40)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("30d"), Ok(Duration::days(30)));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn gaps_read_like_a_person_writes_them() {
        assert_eq!(human(Duration::minutes(40)), "40m");
        assert_eq!(human(Duration::hours(6)), "6h");
        assert_eq!(human(Duration::days(1)), "1d");
    }
}
