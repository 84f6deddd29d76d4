//! `entra-sim cycle`: one provisioning cycle. Without `--job`, the bundled sample job runs against an
//! in-process built-in target whose data is kept in the sample's state directory between runs.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use serde::Serialize;

use crate::cli::CycleArgs;
use crate::clock::SystemClock;
use crate::config::{self, JobSettings, JobSources, Settings};
use crate::directory::LineIndex;
use crate::engine::{self, CycleEnv, CycleReport, EntrySink, Start};
use crate::error::AppError;
use crate::http::ScimClient;
use crate::output;
use crate::plan::{Reply, Request};
use crate::provlog::LogEntry;
use crate::runner::{Observer, Recording, Transport};
use crate::store::{IndexFile, Store};
use crate::target::{self, Snapshot, TargetConfig};

use super::Loaded;
use super::progress::Progress;

/// Prints entries as they finish: a line each for people, or with `--json` one JSON object per
/// line (JSON Lines: every entry as `logs --json` stores it, then the summary), so that no output
/// is held in memory: a large initial cycle's JSON is hundreds of MB (see BENCHMARKS.md, section
/// "Output at scale").
pub struct Printer {
    /// JSON Lines instead of text.
    json: bool,
    /// Print every request too.
    verbose: bool,
    /// Only the summary: no per-entry lines (and no entry lines in JSON).
    quiet: bool,
    /// The progress bar (or lines) that entry lines are printed around.
    progress: Progress,
    /// With line-level deltas: the users whose lines were read, and those left unread.
    lines_read: Option<(usize, usize)>,
    /// Standard output.
    out: Out<std::io::Stdout>,
    /// One JSON line, reused for every entry.
    buffer: Vec<u8>,
}

impl Printer {
    fn new(args: &CycleArgs) -> Self {
        Self {
            json: args.json,
            verbose: args.verbose,
            quiet: args.quiet,
            progress: Progress::new(args.json),
            lines_read: None,
            out: Out::new(std::io::stdout()),
            buffer: Vec::new(),
        }
    }

    /// Writes `line` and a newline, above the progress bar.
    fn line(&mut self, mut line: String) {
        line.push('\n');
        let out = &mut self.out;
        self.progress.suspend(|| out.write(line.as_bytes()));
    }

    /// Writes `value` as one line of compact JSON.
    fn json_line(&mut self, value: &impl Serialize) {
        self.buffer.clear();
        match serde_json::to_writer(&mut self.buffer, value) {
            Ok(()) => {
                self.buffer.push(b'\n');
                self.out.write(&self.buffer);
            }
            Err(e) => self.out.fail(e.into()),
        }
    }
}

impl Observer for Printer {
    fn exchange(&mut self, request: &Request, reply: &Reply) {
        if self.verbose && !self.json {
            self.line(output::exchange_line(request, reply));
        }
    }
}

impl EntrySink for Printer {
    fn entry(&mut self, log: &LogEntry) {
        if self.quiet {
            return;
        }
        if self.json {
            self.json_line(log);
        } else {
            self.line(output::entry_line(log));
        }
    }

    fn wants_exchanges(&self) -> bool {
        self.verbose && !self.json
    }

    fn planned(&mut self, phase: &'static str, total: usize) {
        self.progress.planned(phase, total);
    }

    fn processed(&mut self) {
        self.progress.processed();
    }
}

/// Where output lines go. The first write that fails — a closed pipe, as in
/// `entra-sim cycle --json | head -n 1` — is kept and nothing more is written: the cycle still
/// runs to its end and stores its results, and the command then returns that error instead of
/// panicking halfway (`main` takes a closed pipe as success).
struct Out<W> {
    writer: W,
    failed: Option<std::io::Error>,
}

impl<W: Write> Out<W> {
    fn new(writer: W) -> Self {
        Self {
            writer,
            failed: None,
        }
    }

    /// Writes whole lines (a line-buffered standard output sends them at once).
    fn write(&mut self, lines: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.writer.write_all(lines) {
            self.fail(e);
        }
    }

    fn fail(&mut self, error: std::io::Error) {
        self.failed.get_or_insert(error);
    }

    /// The first failure, as the command's error.
    fn result(&mut self) -> Result<(), AppError> {
        if self.failed.is_none()
            && let Err(e) = self.writer.flush()
        {
            self.fail(e);
        }
        match self.failed.take() {
            Some(e) => Err(AppError::CycleOutput(e)),
            None => Ok(()),
        }
    }
}

fn sample_job() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("jobs")
        .join("sample.yaml")
}

pub async fn run(args: CycleArgs) -> Result<i32, AppError> {
    let mut printer = Printer::new(&args);
    let report = match &args.job {
        Some(path) => job_cycle(path, &args, &mut printer).await?,
        None => sample(&mut printer).await?,
    };
    printer.progress.finish();
    finish(&report, &mut printer)
}

/// What a cycle reads before it decides whether to load the job ([`read_beside_state`]).
struct BesideState {
    /// The job's state, opened where its job file says (`None` when that directory does not
    /// exist yet), with that directory.
    opened: Option<(Store, PathBuf)>,
    /// The last clean cycle's source index, and the file it was read from.
    index: Option<(LineIndex, IndexFile)>,
    /// The job's files, read and fingerprinted.
    sources: Option<JobSources>,
}

/// A cycle of the job in `path`: recorded without reading the tenant when its files are the
/// last clean cycle's ([`engine::start`]), else loaded (by line-level deltas when it can) and
/// run.
async fn job_cycle(
    path: &Path,
    args: &CycleArgs,
    printer: &mut Printer,
) -> Result<CycleReport, AppError> {
    crate::stage!("cycle started");
    let BesideState {
        opened,
        mut index,
        sources,
    } = read_beside_state(path)?;
    crate::stage!("state opened, source index and job's files read");
    // With --record-requests the job is loaded first, for the client that writes the
    // recording (empty or not), and the question is asked of the loaded job ([`cycle_loaded`]).
    let now = sources.as_ref().filter(|_| args.record_requests.is_none());
    let store = opened.as_ref().map(|(store, _)| store);
    let files = engine::Files::Read { now, loaded: None };
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let start = engine::start(
        store,
        files,
        || index.take(),
        || checked_retention(path),
        &SystemClock,
        &mut rng,
    )?;
    let index = match start {
        Start::Unchanged(report) => {
            exit_without_freeing((index, sources));
            return Ok(*report);
        }
        // No job was in memory to keep.
        Start::Keep => None,
        Start::Load(index) => index,
    };
    let loaded = super::load_with(path, || index, sources.map(|s| s.directory))?;
    crate::stage!("job loaded");
    let directory = &loaded.job.directory;
    if directory.is_partial() {
        printer.lines_read = Some((directory.users().len(), directory.ghost_count()));
    }
    let client = loaded.tenant_client()?;
    let store = state_of(&loaded, opened)?;
    let report = match args.record_requests.as_deref() {
        Some(file) => recorded(&loaded, client, file, &store, printer).await?,
        None => cycle(&loaded, &client, &store, printer).await?,
    };
    exit_without_freeing(loaded);
    Ok(report)
}

/// `--record-requests`: the cycle of the loaded job ([`cycle_loaded`]) over a transport that
/// also writes every request it sends to `file`.
async fn recorded(
    loaded: &Loaded,
    client: ScimClient,
    file: &Path,
    store: &Store,
    printer: &mut Printer,
) -> Result<CycleReport, AppError> {
    let recording = Recording::create(client, file).map_err(|source| AppError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let report = cycle_loaded(loaded, &recording, store, printer).await?;
    recording.finish().map_err(AppError::Recording)?;
    Ok(report)
}

/// The job's state: the one opened beside the files when the loaded job names that directory,
/// else its own, opened now.
fn state_of(loaded: &Loaded, opened: Option<(Store, PathBuf)>) -> Result<Store, AppError> {
    match opened {
        Some((store, dir)) if dir == loaded.job.settings.state_dir => Ok(store),
        other => {
            // sled holds a lock on the directory: close it before opening it again.
            drop(other);
            loaded.store()
        }
    }
}

/// Opens the job's state on a second thread and reads the last clean cycle's source index on a
/// third, while this one reads and fingerprints the job's files — once: the load reuses the
/// directory's bytes. An index that cannot be read is the same as none: every line is read.
fn read_beside_state(path: &Path) -> Result<BesideState, AppError> {
    let state_dir = config::state_dir_of(path).filter(|dir| dir.is_dir());
    std::thread::scope(|scope| {
        let opening = state_dir
            .clone()
            .map(|dir| scope.spawn(move || Store::open(&dir).map(|store| (store, dir))));
        let reading = state_dir.as_deref().map(|dir| {
            scope.spawn(move || {
                let index = Store::source_index_in(dir).ok().flatten();
                index.map(|(index, which)| (LineIndex::from(index), which))
            })
        });
        let sources = config::job_sources(path);
        let opened = match opening.map(|thread| thread.join()) {
            Some(Ok(opened)) => Some(opened?),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => None,
        };
        let index = reading.and_then(|thread| thread.join().ok().flatten());
        Ok(BesideState {
            opened,
            index,
            sources,
        })
    })
}

/// The job's log retention, for a cycle that may not read the tenant. Its token source is
/// checked first, as a cycle that reads the tenant checks it: an unset variable or a missing
/// file is bad input here too (exit 3), not a silent success.
fn checked_retention(path: &Path) -> Result<u32, AppError> {
    let job = super::load_settings(path)?;
    super::token_of(path, &job.target, &job.settings.state_dir)?;
    Ok(job.settings.log_retention_days)
}

/// A cycle of a job loaded before [`engine::start`] was asked — for the quickstart's sample job,
/// and with `--record-requests` (the recording client needs the job): asked of the loaded job,
/// so one whose files are the last clean cycle's is recorded without reading the tenant (and
/// an empty recording); any other cycle runs.
async fn cycle_loaded(
    loaded: &Loaded,
    client: &dyn Transport,
    store: &Store,
    printer: &mut Printer,
) -> Result<CycleReport, AppError> {
    let retention = loaded.job.settings.log_retention_days;
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let files = engine::Files::Loaded(&loaded.job);
    let retention = || Ok::<_, AppError>(retention);
    match engine::start(
        Some(store),
        files,
        || None,
        retention,
        &SystemClock,
        &mut rng,
    )? {
        Start::Unchanged(report) => Ok(*report),
        Start::Keep | Start::Load(_) => cycle(loaded, client, store, printer).await,
    }
}

/// The process ends right after the summary: what a cycle read (a million users is gigabytes
/// of small allocations) is left to the OS instead of being freed one piece at a time.
fn exit_without_freeing<T>(value: T) {
    std::mem::forget(value);
}

async fn cycle(
    loaded: &Loaded,
    client: &dyn Transport,
    store: &Store,
    printer: &mut Printer,
) -> Result<CycleReport, AppError> {
    let clock = SystemClock;
    let env = CycleEnv {
        job: &loaded.job,
        compiled: &loaded.compiled,
        store,
        client,
        mode: loaded.mode,
        clock: &clock,
        dry_run: false,
    };
    let mut rng = rand::rngs::StdRng::from_os_rng();
    Ok(engine::run_cycle(&env, &mut rng, printer).await?)
}

/// The bundled sample job with the state directory of the quickstart (`sample-builtin`, beside
/// the sample's own), which also keeps the in-process target's data.
pub(super) fn sample_loaded() -> Result<Loaded, AppError> {
    let mut loaded = super::load(&sample_job())?;
    quickstart_state(&mut loaded.job.settings);
    Ok(loaded)
}

/// The bundled sample job's settings, with the quickstart's state directory ([`sample_loaded`]).
pub(super) fn sample_settings() -> Result<JobSettings, AppError> {
    let mut job = super::load_settings(&sample_job())?;
    quickstart_state(&mut job.settings);
    Ok(job)
}

fn quickstart_state(settings: &mut Settings) {
    settings.state_dir = settings.state_dir.with_file_name("sample-builtin");
}

/// The quickstart: the sample job against an in-process built-in target.
async fn sample(printer: &mut Printer) -> Result<CycleReport, AppError> {
    let loaded = sample_loaded()?;
    let state_dir = loaded.job.settings.state_dir.clone();
    let snapshot_file = state_dir.join("target.json");
    let initial = match std::fs::read(&snapshot_file) {
        Ok(bytes) => Some(
            serde_json::from_slice::<Snapshot>(&bytes).map_err(|source| AppError::Decode {
                path: snapshot_file.clone(),
                source,
            })?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(AppError::Io {
                path: snapshot_file,
                source,
            });
        }
    };
    let token = crate::config::Secret::new(engine::guid(&mut rand::rngs::StdRng::from_os_rng()));
    let server = target::spawn(TargetConfig {
        token: Some(token.expose().to_string()),
        initial,
        ..TargetConfig::default()
    })
    .await
    .map_err(AppError::BuiltInTarget)?;
    if !printer.json {
        printer.line(format!(
            "built-in SCIM target at {} (data in {})",
            server.base_url(),
            snapshot_file.display()
        ));
    }
    let client = loaded.client(server.base_url(), &crate::config::Credential::Bearer(token))?;
    let store = loaded.store()?;
    let report = cycle_loaded(&loaded, &client, &store, printer).await;
    let snapshot = serde_json::to_vec_pretty(&server.snapshot())?;
    std::fs::write(&snapshot_file, snapshot).map_err(|source| AppError::Io {
        path: snapshot_file,
        source,
    })?;
    report
}

/// The summary: the closing lines for people, or the last JSON line
/// (`{"cycle": …, "process": …}`); then the exit code.
fn finish(report: &CycleReport, printer: &mut Printer) -> Result<i32, AppError> {
    if printer.json {
        let lines = printer
            .lines_read
            .map(|(read, unread)| serde_json::json!({ "usersRead": read, "usersUnread": unread }));
        let summary = serde_json::json!({
            "cycle": report,
            "process": { "peakRssBytes": peak_rss_bytes(), "lineDeltas": lines },
        });
        printer.json_line(&summary);
    } else {
        printer.line(output::cycle_summary(report));
        if let Some((read, unread)) = printer.lines_read {
            printer.line(format!(
                "line-level deltas: read {read} of {} user lines; the rest are unchanged since the last clean cycle",
                read + unread
            ));
        }
    }
    printer.out.result()?;
    if let Some(reason) = &report.job_failure {
        return Err(AppError::CycleStopped(reason.clone()));
    }
    if let Some(reason) = &report.quarantine {
        return Err(AppError::Quarantined(reason.to_string()));
    }
    Ok(if report.counts.failed > 0 { 1 } else { 0 })
}

/// This process's peak resident set size (Linux: `VmHWM`), for `--json` and the benchmarks.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts `room` bytes, then fails as a closed pipe does.
    struct Pipe {
        room: usize,
        written: Vec<u8>,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_stops_the_output_and_fails_the_command_without_a_panic() {
        let mut out = Out::new(Pipe {
            room: 8,
            written: Vec::new(),
        });
        out.write(b"{\"a\":1}\n");
        out.write(b"{\"b\":2}\n");
        out.write(b"{\"c\":3}\n");
        assert_eq!(out.writer.written, b"{\"a\":1}\n");
        let Err(error @ AppError::CycleOutput(_)) = out.result() else {
            panic!("a failed write is the command's error");
        };
        let message = error.to_string();
        assert!(
            message.starts_with("cannot write to standard output (broken pipe)"),
            "{message}"
        );
        assert!(out.result().is_ok(), "reported once");
    }
}
