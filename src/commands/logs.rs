//! `entra-sim logs`: the job's provisioning logs, filtered by cycle and status, as lines, as Graph
//! `provisioningObjectSummary` JSON, or as the portal's three-file CSV download.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::cli::{LogFormat, LogsArgs};
use crate::config;
use crate::error::AppError;
use crate::output::{self, outln};
use crate::portal_csv;
use crate::provlog::LogEntry;
use crate::store::Store;

/// The file `--format json --out DIR` writes.
const JSON_FILE: &str = "ProvisioningLogs.json";

pub fn run(args: LogsArgs) -> Result<i32, AppError> {
    let format = if args.json {
        Some(LogFormat::Json)
    } else {
        args.format
    };
    if format.is_none() && args.out.is_some() {
        return Err(AppError::OutWithoutFormat);
    }
    if let Some(status) = &args.status
        && !["success", "failure", "skipped", "warning"].contains(&status.as_str())
    {
        return Err(AppError::UnknownStatus(status.clone()));
    }
    let logs = Logs {
        state_dir: state_dir(&args.job)?,
        cycle: args.cycle.as_deref(),
        status: args.status.as_deref(),
    };
    match format {
        Some(LogFormat::Json) => write_json(&logs, args.out.as_deref())?,
        Some(LogFormat::Csv) => {
            write_csv(&logs, args.out.as_deref().unwrap_or(Path::new(".")))?;
        }
        None => write_lines(&logs)?,
    }
    Ok(0)
}

/// Only the state directory is needed: the logs stay readable when the directory or mapping
/// no longer load, and a million-user tenant is not loaded to export its logs.
fn state_dir(job: &Path) -> Result<PathBuf, AppError> {
    Ok(match config::state_dir_of(job) {
        Some(dir) => dir,
        None => super::load(job)?.job.settings.state_dir,
    })
}

/// The job's log records of one cycle and status (or all). The log is a plain file beside the
/// state, read without opening the state: while a cycle runs too.
struct Logs<'a> {
    state_dir: PathBuf,
    cycle: Option<&'a str>,
    status: Option<&'a str>,
}

impl Logs<'_> {
    fn wanted(&self, l: &LogEntry) -> bool {
        self.cycle.is_none_or(|c| l.cycle_id == c)
            && self
                .status
                .is_none_or(|s| l.provisioning_status_info.status.as_str() == s)
    }

    /// Calls `f` with each wanted record, oldest first; returns how many there were.
    fn for_each(
        &self,
        mut f: impl FnMut(LogEntry) -> Result<(), AppError>,
    ) -> Result<usize, AppError> {
        let mut count = 0usize;
        Store::for_each_log_in(
            &self.state_dir,
            |_| true,
            |_, log| {
                if !self.wanted(&log) {
                    return Ok(());
                }
                count += 1;
                f(log)
            },
        )?;
        Ok(count)
    }
}

/// Graph's JSON to standard output, or to [`JSON_FILE`] in `out`.
fn write_json(logs: &Logs, out: Option<&Path>) -> Result<(), AppError> {
    let (mut sink, path) = match out {
        None => (Sink::stdout(), None),
        Some(dir) => {
            let (sink, path) = Sink::file(dir, JSON_FILE)?;
            (sink, Some(path))
        }
    };
    let mut array = JsonArray::default();
    let count = logs.for_each(|log| sink.write(&array.element(&log)?))?;
    sink.write(&array.end())?;
    sink.finish()?;
    if let Some(path) = path {
        outln!("{count} records: {}", path.display())?;
    }
    Ok(())
}

/// The portal's three CSV files in `dir`, written a megabyte at a time.
fn write_csv(logs: &Logs, dir: &Path) -> Result<(), AppError> {
    let mut export = portal_csv::Export::default();
    let mut files = Vec::new();
    for name in portal_csv::FILES {
        files.push(Sink::file(dir, name)?);
    }
    let mut flush = |export: &mut portal_csv::Export| -> Result<(), AppError> {
        for ((_, text), (sink, _)) in export.take().into_iter().zip(files.iter_mut()) {
            sink.write(&text)?;
        }
        Ok(())
    };
    let count = logs.for_each(|log| {
        export.add(&log);
        if export.pending() > 1 << 20 {
            flush(&mut export)?;
        }
        Ok(())
    })?;
    flush(&mut export)?;
    let mut written = Vec::new();
    for (sink, path) in files {
        sink.finish()?;
        written.push(path.display().to_string());
    }
    outln!("{count} records: {}", written.join(", "))?;
    Ok(())
}

/// One line per record on standard output.
fn write_lines(logs: &Logs) -> Result<(), AppError> {
    let mut out = Sink::stdout();
    logs.for_each(|log| {
        out.write(&format!(
            "{} {} {}\n",
            output::whole_seconds(&log.activity_date_time),
            &log.cycle_id[..8.min(log.cycle_id.len())],
            output::entry_line(&log)
        ))
    })?;
    out.finish()
}

/// Graph's JSON array of records, pretty-printed as `serde_json::to_string_pretty` prints a
/// `Vec`, written one element at a time.
#[derive(Default)]
struct JsonArray {
    started: bool,
}

impl JsonArray {
    fn element(&mut self, log: &LogEntry) -> Result<String, AppError> {
        let pretty = serde_json::to_string_pretty(log)?;
        let mut out = String::with_capacity(pretty.len() + 64);
        out.push_str(if self.started { ",\n" } else { "[\n" });
        self.started = true;
        for (i, line) in pretty.lines().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str("  ");
            out.push_str(line);
        }
        Ok(out)
    }

    fn end(&self) -> String {
        if self.started { "\n]\n" } else { "[]\n" }.to_string()
    }
}

/// Where an export goes: standard output or a file, buffered.
struct Sink {
    out: Box<dyn Write>,
    /// The file, or none for standard output.
    path: Option<PathBuf>,
}

impl Sink {
    fn stdout() -> Self {
        Sink {
            out: Box::new(BufWriter::new(std::io::stdout().lock())),
            path: None,
        }
    }

    /// `dir/name`, creating `dir`.
    fn file(dir: &Path, name: &str) -> Result<(Self, PathBuf), AppError> {
        std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(name);
        let file = std::fs::File::create(&path).map_err(|source| AppError::Write {
            path: path.clone(),
            source,
        })?;
        let sink = Sink {
            out: Box::new(BufWriter::new(file)),
            path: Some(path.clone()),
        };
        Ok((sink, path))
    }

    fn write(&mut self, text: &str) -> Result<(), AppError> {
        self.out
            .write_all(text.as_bytes())
            .map_err(|e| self.error(e))
    }

    fn finish(mut self) -> Result<(), AppError> {
        self.out.flush().map_err(|e| self.error(e))
    }

    fn error(&self, source: std::io::Error) -> AppError {
        match &self.path {
            Some(path) => AppError::Write {
                path: path.clone(),
                source,
            },
            None => AppError::Stdout(source),
        }
    }
}
