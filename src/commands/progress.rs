//! Progress of a cycle for people, fed through the engine's `EntrySink`: objects processed of
//! objects to process in each phase. On a terminal an indicatif bar on stdout (lines printed
//! meanwhile go above it); otherwise a plain line at most every 5 seconds, and only for a phase
//! that takes that long; nothing at all with `--json`.

use std::io::{IsTerminal, Write};

use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::clock::{Clock, SystemClock};
use crate::engine::EntrySink;
use crate::plan::{Reply, Request};
use crate::provlog::LogEntry;
use crate::runner::Observer;

/// How often plain progress lines may be printed.
const LINE_EVERY_SECS: i64 = 5;

/// A cycle's progress display.
pub struct Progress {
    display: Display,
    phase: &'static str,
    total: usize,
    done: usize,
}

enum Display {
    Off,
    Bar(ProgressBar),
    Lines(Lines),
}

impl Progress {
    /// A bar when stdout is a terminal, plain lines when it is not, nothing for `--json`.
    pub fn new(json: bool) -> Self {
        let display = if json {
            Display::Off
        } else if std::io::stdout().is_terminal() {
            Display::Bar(bar())
        } else {
            Display::Lines(Lines::new(SystemClock.now()))
        };
        Self {
            display,
            phase: "",
            total: 0,
            done: 0,
        }
    }

    /// Runs `print` (which writes lines to standard output) without tearing the bar.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        match &self.display {
            Display::Bar(bar) => bar.suspend(print),
            _ => print(),
        }
    }

    /// Removes the bar (before a summary is printed).
    pub fn finish(&mut self) {
        if let Display::Bar(bar) = &self.display {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Observer for Progress {
    fn exchange(&mut self, _request: &Request, _reply: &Reply) {}
}

impl EntrySink for Progress {
    fn entry(&mut self, _log: &LogEntry) {}

    fn planned(&mut self, phase: &'static str, total: usize) {
        self.phase = phase;
        self.total = total;
        self.done = 0;
        match &mut self.display {
            Display::Off => {}
            Display::Bar(bar) => {
                bar.reset();
                bar.set_length(total as u64);
                bar.set_prefix(phase);
            }
            Display::Lines(lines) => lines.start(SystemClock.now()),
        }
    }

    fn processed(&mut self) {
        self.done += 1;
        match &mut self.display {
            Display::Off => {}
            Display::Bar(bar) => bar.inc(1),
            Display::Lines(lines) => {
                if let Some(line) = lines.tick(SystemClock.now(), self.phase, self.done, self.total)
                {
                    // A closed standard output is not worth a panic here: the lines written
                    // around it (`cycle`'s entries and summary) report it.
                    let _ = writeln!(std::io::stdout(), "{line}");
                }
            }
        }
    }
}

fn bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>14} [{wide_bar:.cyan/blue}] {pos}/{len} objects, eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Plain progress lines: one when [`LINE_EVERY_SECS`] passed since the phase began or the last
/// line, and a closing one for a phase that printed any.
struct Lines {
    last: DateTime<Utc>,
    printed: bool,
}

impl Lines {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            last: now,
            printed: false,
        }
    }

    fn start(&mut self, now: DateTime<Utc>) {
        self.last = now;
        self.printed = false;
    }

    fn tick(
        &mut self,
        now: DateTime<Utc>,
        phase: &str,
        done: usize,
        total: usize,
    ) -> Option<String> {
        let finished = done >= total;
        if !(finished && self.printed) && now - self.last < Duration::seconds(LINE_EVERY_SECS) {
            return None;
        }
        self.last = now;
        self.printed = true;
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        Some(format!(
            "progress: {phase} {done}/{total} objects ({percent}%)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(secs)
    }

    #[test]
    fn a_quick_phase_prints_nothing() {
        let mut lines = Lines::new(at(0));
        lines.start(at(0));
        assert_eq!(lines.tick(at(1), "users", 1, 2), None);
        assert_eq!(lines.tick(at(2), "users", 2, 2), None);
    }

    #[test]
    fn a_slow_phase_prints_every_five_seconds_and_when_it_ends() {
        let mut lines = Lines::new(at(0));
        lines.start(at(0));
        let ticks: Vec<Option<String>> = [(3, 1), (5, 2), (7, 3), (11, 4), (12, 5)]
            .into_iter()
            .map(|(t, done)| lines.tick(at(t), "users", done, 5))
            .collect();
        assert_eq!(
            ticks,
            [
                None,
                Some("progress: users 2/5 objects (40%)".into()),
                None,
                Some("progress: users 4/5 objects (80%)".into()),
                Some("progress: users 5/5 objects (100%)".into()),
            ]
        );
        // The next phase starts quiet again.
        lines.start(at(12));
        assert_eq!(lines.tick(at(13), "groups", 1, 1), None);
    }
}
