//! `entra-sim run`: the provisioning service as a daemon (§1.1, §8). An initial cycle, then
//! incremental ones every 40 minutes (or `--interval`, or `--cron`); while quarantined the policy's
//! back-off decides; a disabled or paused job stops the daemon. With `--virtual-time` the clock is
//! simulated — real requests at simulated times — so four weeks of quarantine take seconds; such a
//! run works on a copy of the job's state ([`VirtualState`]), so the real job never holds cycles
//! stamped in the simulated future.
//! SIGINT/SIGTERM let the current cycle finish; everything is persisted after every entry anyway.
//! Every pass of the loop waits for its next tick, and looks at the signals first even when that
//! wait is instant (a simulated clock, an overdue cycle).
//! Before every cycle after the first, the job's files are read again when they changed
//! ([`before`]): an edited directory is what the next cycle provisions; files that no longer load
//! are reported once, and tried again at the next tick.

use std::path::{Path, PathBuf};
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
use crate::engine::{self, CycleEnv, CycleReport, Files, Start};
use crate::error::{AppError, argument};
use crate::http::ScimClient;
use crate::output::{self, outln};
use crate::plan::CycleKind;
use crate::policy::{self, JobCode, ScheduleSettings};
use crate::store::{Store, StoreError};

use super::Loaded;
use super::progress::Progress;

mod virtual_state;

use virtual_state::VirtualState;

/// Set once SIGINT or SIGTERM arrived; `notify` wakes a waiting daemon.
struct Stop {
    flag: AtomicBool,
    notify: Notify,
}

impl Stop {
    /// Whether a signal arrived. Yields first, so that the signal watcher runs even when the loop
    /// never waits (tokio's `yield_now` lets the runtime poll its drivers, signals included,
    /// before the task resumes): without it a loop of instant passes never saw SIGTERM.
    async fn requested(&self) -> bool {
        tokio::task::yield_now().await;
        self.flag.load(Ordering::SeqCst)
    }
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

/// A `--cron` schedule, with the text it came from (for messages).
struct Cron {
    text: String,
    schedule: cron::Schedule,
}

impl Cron {
    /// Parses `text`; a schedule with no time after `now` is bad input: nothing would ever run
    /// (`0 0 0 31 2 *`, or a year that has passed), and a daemon waiting for it would not wait.
    fn parse(text: &str, now: DateTime<Utc>) -> Result<Self, AppError> {
        let schedule = cron::Schedule::from_str(text)
            .map_err(|e| argument(format!("--cron {text:?}"))(e.into()))?;
        if schedule.after(&now).next().is_none() {
            return Err(AppError::CronNeverDue {
                text: text.to_owned(),
                after: now,
            });
        }
        Ok(Self {
            text: text.to_owned(),
            schedule,
        })
    }
}

pub async fn run(args: RunArgs) -> Result<i32, AppError> {
    let mut loaded = super::load(&args.job)?;
    let mut schedule = loaded.job.settings.policy.schedule.clone();
    if let Some(interval) = args.interval {
        schedule.interval = interval;
    }
    let clock: Box<dyn Clock> = if args.virtual_time {
        Box::new(FakeClock::new(SystemClock.now()))
    } else {
        Box::new(SystemClock)
    };
    let cron = match &args.cron {
        Some(text) => Some(Cron::parse(text, clock.now())?),
        None => None,
    };
    // The token source is checked before any copy is made (an entra_jwt is signed only below,
    // with the key of the state the run works on: a virtual run makes none in the job's own).
    if !matches!(loaded.job.target.token, config::TokenSource::EntraJwt(_)) {
        loaded.token()?;
    }
    let declared = loaded.job.settings.state_dir.clone();
    let copy = virtual_copy(&args, &declared)?;
    if let Some(copy) = &copy {
        loaded.job.settings.state_dir = copy.path.clone();
    }
    let client = match loaded
        .token()
        .and_then(|token| loaded.client(&loaded.base_url, &token))
    {
        Ok(client) => client,
        Err(e) => {
            if let Some(copy) = copy {
                copy.remove();
            }
            return Err(e);
        }
    };
    let daemon = Daemon {
        args: &args,
        schedule,
        cron,
        clock: clock.as_ref(),
        declared,
    };
    let result = daemon.run(loaded, client).await;
    if let Some(copy) = copy {
        leave(copy, &args)?;
    }
    result
}

/// With `--virtual-time`, a copy of the job's state in `declared` to work on (said so).
fn virtual_copy(args: &RunArgs, declared: &Path) -> Result<Option<VirtualState>, AppError> {
    if !args.virtual_time {
        return Ok(None);
    }
    let copy = VirtualState::copy(declared)?;
    outln!(
        "virtual time: working on a copy of the job's state in {} ({})",
        copy.path.display(),
        if args.keep_state {
            "kept at the end"
        } else {
            "removed at the end; --keep-state keeps it"
        }
    )?;
    Ok(Some(copy))
}

/// A virtual run's copy of the state at the end: kept with `--keep-state` (and said where),
/// else removed.
fn leave(copy: VirtualState, args: &RunArgs) -> Result<(), AppError> {
    if args.keep_state {
        outln!(
            "the virtual run's state is kept in {dir}; inspect it with `{env}={dir} entra-sim status --job {job}` (or logs, report)",
            dir = copy.path.display(),
            env = config::STATE_DIR_ENV,
            job = args.job.display()
        )?;
    } else {
        copy.remove();
    }
    Ok(())
}

/// The daemon's settings, decided before its first cycle.
struct Daemon<'a> {
    args: &'a RunArgs,
    schedule: ScheduleSettings,
    cron: Option<Cron>,
    clock: &'a dyn Clock,
    /// The state directory the job file names (a virtual run works on a copy elsewhere).
    declared: PathBuf,
}

/// What the daemon carries from one pass to the next.
struct Passes {
    /// The job, as last loaded.
    loaded: Loaded,
    /// A client for its target and token.
    client: ScimClient,
    rng: rand::rngs::StdRng,
    /// The exit code of the last cycle.
    code: i32,
    /// No cycle ran yet: the job was loaded just before.
    first: bool,
    /// The last load failure reported, so a failure that persists is told once.
    reported: Option<String>,
    /// The job's state, kept open between cycles (virtual time only).
    kept: Option<Store>,
}

/// When the daemon's next pass comes.
enum Next {
    /// At `.1`, as of `.0`.
    At(DateTime<Utc>, DateTime<Utc>),
    /// At once: the loop's top says why (paused or disabled meanwhile).
    Again,
    /// Never: the daemon stops.
    Stop,
}

impl Daemon<'_> {
    async fn run(&self, loaded: Loaded, client: ScimClient) -> Result<i32, AppError> {
        let clock = self.clock;
        let deadline = self.args.until.map(|d| add_saturating(clock.now(), d));
        let stop = Arc::new(Stop {
            flag: AtomicBool::new(false),
            notify: Notify::new(),
        });
        watch_signals(stop.clone());
        let mut passes = Passes {
            loaded,
            client,
            rng: rand::rngs::StdRng::from_os_rng(),
            code: 0,
            first: true,
            reported: None,
            kept: None,
        };
        loop {
            // The job's state is open for a cycle and closed while the daemon waits, so that
            // `status`, `pause`, `restart` or a `cycle` by hand reach it in between (with virtual
            // time no real time passes between cycles: it stays open).
            let store = match passes.kept.take() {
                Some(store) => store,
                None => {
                    match open_state(&passes.loaded.job.settings.state_dir, &stop, clock).await? {
                        Some(store) => store,
                        None => return Ok(passes.code),
                    }
                }
            };
            if let Some(code) = self.stopped(&store, passes.code)? {
                return Ok(code);
            }
            let report = self.pass(&store, &mut passes).await?;
            let ran = report.is_some();
            if let Some(report) = report {
                passes.reported = None;
                passes.code = print_cycle(&report, clock)?;
                if self.args.once {
                    return Ok(passes.code);
                }
            }
            if stop.requested().await {
                return Ok(passes.code);
            }
            let (now, next) = match self.next(&store, ran, deadline)? {
                Next::At(now, next) => (now, next),
                Next::Again => continue,
                Next::Stop => return Ok(passes.code),
            };
            // Closed before the line that says the daemon waits: from then on others reach it.
            if self.args.virtual_time {
                passes.kept = Some(store);
            } else {
                drop(store);
            }
            let what = if ran { "next cycle" } else { "next try" };
            outln!("{} {what} in {}", stamp(now), human(next - now))?;
            tokio::select! {
                _ = clock.sleep_until(next) => {}
                _ = stop.notify.notified() => return Ok(passes.code),
            }
        }
    }

    /// The exit code, when the job's state stops the daemon: disabled (2) or paused (the last
    /// cycle's).
    fn stopped(&self, store: &Store, code: i32) -> Result<Option<i32>, AppError> {
        let now = stamp(self.clock.now());
        Ok(match store.job_state()?.code {
            JobCode::Disabled => {
                outln!(
                    "{now} job disabled: four weeks in quarantine; fix the cause, then `entra-sim restart`"
                )?;
                Some(2)
            }
            JobCode::Paused => {
                outln!("{now} job paused; `entra-sim start` resumes it")?;
                Some(code)
            }
            _ => None,
        })
    }

    /// One pass: the job's files as they are now decide whether a cycle runs, and which; its
    /// report, or `None` when the files do not load.
    async fn pass(&self, store: &Store, p: &mut Passes) -> Result<Option<CycleReport>, AppError> {
        let before = before(&self.args.job, &self.declared, p, store, self.clock)?;
        p.first = false;
        match before {
            Before::Unchanged(report) => Ok(Some(report)),
            Before::Broken(problem) => {
                self.tell_broken(problem, &mut p.reported)?;
                Ok(None)
            }
            Before::Keep | Before::Reloaded(_) => {
                if let Before::Reloaded(job) = before {
                    (p.loaded, p.client) = *job;
                }
                let env = CycleEnv {
                    job: &p.loaded.job,
                    compiled: &p.loaded.compiled,
                    store,
                    client: &p.client,
                    mode: p.loaded.mode,
                    clock: self.clock,
                    dry_run: false,
                };
                let mut progress = Progress::new(false);
                let report = engine::run_cycle(&env, &mut p.rng, &mut progress).await?;
                progress.finish();
                Ok(Some(report))
            }
        }
    }

    /// Says that the job's files do not load — once while the same problem persists.
    fn tell_broken(
        &self,
        problem: AppError,
        reported: &mut Option<String>,
    ) -> Result<(), AppError> {
        let problem = problem.to_string();
        let now = stamp(self.clock.now());
        if reported.as_ref() == Some(&problem) {
            outln!("{now} the job's files still do not load (as reported above)")?;
        } else {
            outln!(
                "{now} the job's files do not load, so no cycle runs until they do:\n{problem}"
            )?;
            *reported = Some(problem);
        }
        Ok(())
    }

    /// When the next pass comes: by `--cron` while the job is active, else by the policy's
    /// schedule (its back-off while quarantined) — at least a second from now, whatever the
    /// schedule says (an overdue cycle, a state that never moves), so simulated time always
    /// advances and `--until` always ends the daemon.
    fn next(
        &self,
        store: &Store,
        ran: bool,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<Next, AppError> {
        let state = store.job_state()?;
        let now = self.clock.now();
        let next = match (&self.cron, state.code) {
            (Some(cron), JobCode::Active | JobCode::NotRun) => {
                let Some(next) = cron.schedule.after(&now).next() else {
                    outln!(
                        "{} stopping: the schedule --cron {:?} has no time after this",
                        stamp(now),
                        cron.text
                    )?;
                    return Ok(Next::Stop);
                };
                next
            }
            _ => {
                let next = if ran {
                    policy::next_cycle(&state, &self.schedule, now)
                } else {
                    policy::next_try(&state, &self.schedule, now)
                };
                // None: paused or disabled since the check above; the loop's top says so.
                let Some(next) = next else {
                    return Ok(Next::Again);
                };
                next
            }
        };
        let next = next.max(add_saturating(now, Duration::seconds(1)));
        if deadline.is_some_and(|d| next > d) {
            outln!(
                "{} stopping: the next cycle ({}) is past --until",
                stamp(now),
                stamp(next)
            )?;
            return Ok(Next::Stop);
        }
        Ok(Next::At(now, next))
    }
}

/// `t + d`, saturating at the end of time.
fn add_saturating(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
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
                    outln!(
                        "{} waiting for {who} to release the job's state",
                        stamp(clock.now())
                    )?;
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
fn print_cycle(report: &CycleReport, clock: &dyn Clock) -> Result<i32, AppError> {
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
    outln!(
        "{} {kind} cycle: {}; job {}{quarantine}",
        stamp(clock.now()),
        output::counts_line(&report.counts),
        report.job_status
    )?;
    Ok(
        if report.job_failure.is_some() || report.quarantine.is_some() {
            2
        } else if report.counts.failed > 0 {
            1
        } else {
            0
        },
    )
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
/// edited while the daemon runs is what its next cycle provisions ([`engine::start`] decides;
/// the first cycle uses the job loaded just before). A JSON-lines directory is read by line
/// deltas against the last clean cycle's source index, as `cycle` reads it; a job read that way
/// is never kept for a later cycle, whose index may differ.
fn before(
    path: &Path,
    declared: &Path,
    passes: &mut Passes,
    store: &Store,
    clock: &dyn Clock,
) -> Result<Before, AppError> {
    let loaded = &passes.loaded;
    let sources = if passes.first {
        None
    } else {
        config::job_sources(path)
    };
    let files = if passes.first {
        Files::Loaded(&loaded.job)
    } else {
        Files::Read {
            now: sources.as_ref(),
            loaded: Some(&loaded.job),
        }
    };
    let state_dir = &loaded.job.settings.state_dir;
    let index = || {
        let index = Store::source_index_in(state_dir).ok().flatten();
        index.map(|(index, which)| (LineIndex::from(index), which))
    };
    let retention = || Ok::<_, AppError>(loaded.job.settings.log_retention_days);
    let index = match engine::start(Some(store), files, index, retention, clock, &mut passes.rng)? {
        Start::Unchanged(report) => return Ok(Before::Unchanged(*report)),
        Start::Keep => return Ok(Before::Keep),
        Start::Load(index) => index,
    };
    reload(path, declared, state_dir, index, sources)
}

/// The job loaded again from its files (`sources`: as read just now), by line deltas against
/// `index`, with a client for its target and token as they are now; its state stays in
/// `state_dir` (a virtual run goes on with its copy).
fn reload(
    path: &Path,
    declared: &Path,
    state_dir: &Path,
    index: Option<LineIndex>,
    sources: Option<config::JobSources>,
) -> Result<Before, AppError> {
    let mut job = match super::load_with(path, || index, sources.map(|s| s.directory)) {
        Ok(job) => job,
        Err(problem) => return Ok(Before::Broken(problem)),
    };
    if job.job.settings.state_dir != declared {
        return Ok(Before::Broken(AppError::StateDirChanged {
            file: path.to_path_buf(),
            declared: declared.to_path_buf(),
        }));
    }
    // A virtual run goes on with its copy.
    job.job.settings.state_dir = state_dir.to_owned();
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

/// A gap as a person writes one: its two largest units, to the second rounded up (`40m`, `6h`,
/// `1d`, `1h30m`, `3s`), so a sub-minute interval does not read "0m".
fn human(d: Duration) -> String {
    let d = d.max(Duration::zero());
    let seconds = d.num_seconds() + i64::from(d.subsec_nanos() > 0);
    let units = [
        (seconds / 86_400, 'd'),
        (seconds % 86_400 / 3600, 'h'),
        (seconds % 3600 / 60, 'm'),
        (seconds % 60, 's'),
    ];
    let parts: Vec<String> = units
        .iter()
        .filter(|(n, _)| *n > 0)
        .take(2)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_read_like_a_person_writes_them() {
        assert_eq!(human(Duration::minutes(40)), "40m");
        assert_eq!(human(Duration::hours(6)), "6h");
        assert_eq!(human(Duration::days(1)), "1d");
        assert_eq!(human(Duration::minutes(90)), "1h30m");
        assert_eq!(human(Duration::zero()), "0s");
    }

    /// Issue 18, item 5: a 3-second interval read "next cycle in 0m".
    #[test]
    fn issue_18_sub_minute_gaps_print_seconds() {
        assert_eq!(human(Duration::seconds(3)), "3s");
        assert_eq!(human(Duration::milliseconds(2_999)), "3s");
        assert_eq!(human(Duration::seconds(90)), "1m30s");
    }
}
