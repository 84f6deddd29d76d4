//! `entra-sim cycle`: one provisioning cycle. Without `--job`, the bundled sample job runs against an
//! in-process built-in target whose data is kept in the sample's state directory between runs.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use serde::Serialize;

use crate::cli::CycleArgs;
use crate::clock::SystemClock;
use crate::config::{self, JobSettings, Settings};
use crate::directory::LineIndex;
use crate::engine::{self, CycleEnv, CycleReport, EntrySink};
use crate::error::AppError;
use crate::output;
use crate::plan::{Reply, Request};
use crate::provlog::LogEntry;
use crate::runner::{Observer, Recording, Transport};
use crate::store::Store;
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
        Some(path) => {
            // An unchanged source is recognised from its bytes, before the tenant is loaded.
            // The state opens on a second thread and the source index of the last clean cycle is
            // read on a third (after one, only the directory lines that changed since are parsed;
            // an index that cannot be read, or that another cycle replaced before the state
            // opened, is the same as none: every line is read), while the job's files are read
            // and fingerprinted — once: the load reuses the directory's bytes.
            crate::stage!("cycle started");
            let state_dir = config::state_dir_of(path).filter(|dir| dir.is_dir());
            let (opened, index, sources) = std::thread::scope(|scope| {
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
                let index = reading
                    .and_then(|thread| thread.join().ok().flatten())
                    .filter(|(_, which)| {
                        opened
                            .as_ref()
                            .is_some_and(|(store, _)| store.holds_source_index(*which))
                    })
                    .map(|(index, _)| index);
                Ok::<_, AppError>((opened, index, sources))
            })?;
            crate::stage!("state opened, source index and job's files read");
            // With --record-requests the engine runs (and writes the recording, empty or not).
            if let Some((store, _)) = &opened
                && args.record_requests.is_none()
                && store.source_digest()?.is_some()
                && let Some(sources) = &sources
            {
                // The token source is checked as a cycle that reads the tenant checks it: an unset
                // variable or a missing file is bad input here too (exit 3), not a silent success.
                let job = super::load_settings(path)?;
                super::token_of(path, &job.target, &job.settings.state_dir)?;
                let mut rng = rand::rngs::StdRng::from_os_rng();
                if let Some(report) = engine::unchanged_cycle(
                    store,
                    &sources.digest,
                    job.settings.log_retention_days,
                    &SystemClock,
                    &mut rng,
                )? {
                    printer.progress.finish();
                    // As below: what was read is left to the OS rather than freed piece by piece.
                    std::mem::forget((index, sources));
                    return finish(&report, &mut printer);
                }
            }
            let loaded = super::load_with(path, || index, sources.map(|s| s.directory))?;

            crate::stage!("job loaded");
            let directory = &loaded.job.directory;
            if directory.is_partial() {
                printer.lines_read = Some((directory.users().len(), directory.ghost_count()));
            }
            let token = loaded.token()?;
            let client = loaded.client(&loaded.base_url, &token)?;
            let store = match opened {
                Some((store, dir)) if dir == loaded.job.settings.state_dir => store,
                other => {
                    // sled holds a lock on the directory: close it before opening it again.
                    drop(other);
                    loaded.store()?
                }
            };
            let record = args.record_requests.as_deref();
            let report = cycle_over(&loaded, client, record, &store, &mut printer).await?;
            // The process ends after the summary: the tenant (a million users is gigabytes of
            // small allocations) is left to the OS instead of being freed one by one.
            std::mem::forget(loaded);
            report
        }
        None => sample(&mut printer).await?,
    };
    printer.progress.finish();
    finish(&report, &mut printer)
}

/// [`cycle`] over `client`; with `record` (`--record-requests`), every request it sends is
/// also written to that file.
async fn cycle_over(
    loaded: &Loaded,
    client: crate::http::ScimClient,
    record: Option<&Path>,
    store: &crate::store::Store,
    printer: &mut Printer,
) -> Result<CycleReport, AppError> {
    let Some(file) = record else {
        return cycle(loaded, &client, store, printer).await;
    };
    let recording = Recording::create(client, file).map_err(|source| AppError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let report = cycle(loaded, &recording, store, printer).await?;
    recording.finish().map_err(AppError::Recording)?;
    Ok(report)
}

async fn cycle(
    loaded: &Loaded,
    client: &dyn Transport,
    store: &crate::store::Store,
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
    engine::run_cycle(&env, &mut rng, printer).await
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
    let report = cycle(&loaded, &client, &store, printer).await;
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
