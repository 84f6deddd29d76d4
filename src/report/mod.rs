//! The job report: one self-contained HTML page (inline CSS and JS, no fetches) built from a job's
//! state — status and quarantine, a timeline of cycles, failures grouped by error code with the
//! server's answers, escrowed objects, and a per-object drill-down of steps and modified
//! properties. Pure: the `report` command reads the store and passes everything in; this module
//! aggregates the logs one entry at a time ([`Summarizer`]), so the command streams them twice
//! (once to summarize, once to keep the few entries the drill-down shows) instead of holding a
//! million-user job's gigabytes of logs, and renders a `String`.

mod html;
pub mod markup;
pub mod times;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::engine::{Counts, CycleReport};
use crate::policy::{EscrowEntry, JobCode};
use crate::provlog::{LogEntry, ProvisioningAction, Status};

pub use markup::{escape, json_for_script};

/// At most this many objects are expanded in the drill-down …
pub const MAX_OBJECTS: usize = 2_000;
/// … with at most this many log entries in all …
pub const MAX_DRILL_ENTRIES: usize = 4_000;
/// … and at most this many (the newest) per object.
pub const MAX_ENTRIES_PER_OBJECT: usize = 10;
/// At most this many cycles (the newest) in the timeline.
pub const MAX_CYCLES: usize = 500;
/// At most this many distinct server answers per error code.
pub const MAX_ANSWERS: usize = 10;
/// At most this many object names per error code.
pub const MAX_FAILED_NAMES: usize = 25;
/// At most this many escrowed objects listed.
pub const MAX_ESCROWS: usize = 1_000;

/// Everything the report shows, read from the job's state directory by the caller.
pub struct ReportInput<'a> {
    /// The job's name.
    pub job_name: &'a str,
    /// When the report was made.
    pub generated: DateTime<Utc>,
    /// The job status in Graph's shape ([`crate::policy::status_json`]).
    pub status: &'a serde_json::Value,
    /// Its `status.code` ([`crate::policy::graph_status`]).
    pub code: JobCode,
    /// The escrowed objects.
    pub escrows: &'a [EscrowEntry],
    /// The store's `last_cycle`.
    pub last_cycle: Option<&'a CycleReport>,
    /// The Content-Security-Policy nonce of the page's script: only that script may run.
    pub nonce: &'a str,
}

/// Entries per `provisioningAction` (create, update, disable, delete, stageddelete, other).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionCounts {
    /// `create`.
    pub create: usize,
    /// `update`.
    pub update: usize,
    /// `disable`.
    pub disable: usize,
    /// `delete`.
    pub delete: usize,
    /// `stageddelete`.
    pub staged_delete: usize,
    /// `other`.
    pub other: usize,
}

/// Entries per status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// `success`.
    pub success: usize,
    /// `warning`.
    pub warning: usize,
    /// `failure`.
    pub failure: usize,
    /// `skipped`.
    pub skipped: usize,
}

/// One cycle of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleSummary {
    /// The cycle id.
    pub cycle_id: String,
    /// Its first entry's time.
    pub began: String,
    /// Its last entry's time.
    pub ended: String,
    /// Its entries.
    pub entries: usize,
    /// As the summary line counts them.
    pub counts: Counts,
    /// Per action.
    pub actions: ActionCounts,
    /// Per status.
    pub statuses: StatusCounts,
}

/// The failures of one error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup {
    /// Entra's error code.
    pub code: String,
    /// Failed entries.
    pub entries: usize,
    /// Distinct objects.
    pub objects: usize,
    /// Distinct server answers (`Web Response: …`) with their counts, most frequent first, at
    /// most [`MAX_ANSWERS`].
    pub answers: Vec<(String, usize)>,
    /// How many distinct answers there were.
    pub distinct_answers: usize,
    /// Object names, at most [`MAX_FAILED_NAMES`], in order of first failure.
    pub names: Vec<String>,
}

/// One object of the drill-down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    /// `User` or `Group`.
    pub kind: String,
    /// The source object id.
    pub id: String,
    /// Its latest display name.
    pub name: String,
    /// Indices into the logs of its entries, oldest first (all of them).
    pub entries: Vec<usize>,
    /// The status of its latest entry.
    pub last_status: Status,
}

/// The logs, aggregated.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// How many entries there are.
    pub entries: usize,
    /// Over every entry.
    pub totals: Counts,
    /// Per action, over every entry.
    pub actions: ActionCounts,
    /// Per status, over every entry.
    pub statuses: StatusCounts,
    /// Every cycle, oldest first.
    pub cycles: Vec<CycleSummary>,
    /// Failures by error code, most frequent first.
    pub failures: Vec<FailureGroup>,
    /// Every object: latest failing first, then most recently changed.
    pub objects: Vec<ObjectSummary>,
}

impl ActionCounts {
    fn add(&mut self, action: ProvisioningAction) {
        match action {
            ProvisioningAction::Create => self.create += 1,
            ProvisioningAction::Update => self.update += 1,
            ProvisioningAction::Disable => self.disable += 1,
            ProvisioningAction::Delete => self.delete += 1,
            ProvisioningAction::StagedDelete => self.staged_delete += 1,
            ProvisioningAction::Other => self.other += 1,
        }
    }
}

impl StatusCounts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Success => self.success += 1,
            Status::Warning => self.warning += 1,
            Status::Failure => self.failure += 1,
            Status::Skipped => self.skipped += 1,
        }
    }
}

/// What the server answered, from an entry's reason: the text after `Web Response:` without
/// the escrow suffix entra-sim appends; the whole reason when it quotes no answer.
pub fn server_answer(reason: &str) -> &str {
    let answer = reason
        .split_once("Web Response:")
        .map_or(reason, |(_, rest)| rest);
    let answer = [
        " This operation was retried ",
        " The retries of this object have expired",
    ]
    .iter()
    .filter_map(|suffix| answer.find(suffix))
    .min()
    .map_or(answer, |at| &answer[..at]);
    let answer = answer.trim();
    // `reason_with_suffix` adds a full stop after a JSON body.
    answer
        .strip_suffix("}.")
        .map_or(answer, |_| &answer[..answer.len() - 1])
}

struct FailureAcc {
    entries: usize,
    objects: HashSet<(String, String)>,
    answers: HashMap<String, usize>,
    names: Vec<String>,
    first: usize,
}

/// Aggregates the logs in one pass over them (plus sorts), one entry at a time, so a log of
/// millions of entries is summarized without being held (see BENCHMARKS.md, section "Current
/// figures (seventh session …)", the `report` command).
#[derive(Default)]
pub struct Summarizer {
    summary: Summary,
    cycle_index: HashMap<String, usize>,
    failures: HashMap<String, FailureAcc>,
    object_index: HashMap<(String, String), usize>,
}

impl Summarizer {
    /// Adds the next entry (entries come oldest first).
    pub fn add(&mut self, log: &LogEntry) {
        let i = self.summary.entries;
        self.summary.entries += 1;
        let status = log.provisioning_status_info.status;
        self.summary.totals.add(log);
        self.summary.actions.add(log.provisioning_action);
        self.summary.statuses.add(status);
        self.add_to_cycle(log, status);
        self.add_to_object(log, i, status);
        if status == Status::Failure {
            self.add_failure(log, i);
        }
    }

    /// Counts the entry in its cycle's summary (started by its first entry) and widens the
    /// cycle's time span to it.
    fn add_to_cycle(&mut self, log: &LogEntry, status: Status) {
        let summary = &mut self.summary;
        let c = match self.cycle_index.get(log.cycle_id.as_str()) {
            Some(&c) => c,
            None => {
                summary.cycles.push(CycleSummary {
                    cycle_id: log.cycle_id.clone(),
                    began: log.activity_date_time.clone(),
                    ended: log.activity_date_time.clone(),
                    entries: 0,
                    counts: Counts::default(),
                    actions: ActionCounts::default(),
                    statuses: StatusCounts::default(),
                });
                self.cycle_index
                    .insert(log.cycle_id.clone(), summary.cycles.len() - 1);
                summary.cycles.len() - 1
            }
        };
        let cycle = &mut summary.cycles[c];
        cycle.entries += 1;
        cycle.counts.add(log);
        cycle.actions.add(log.provisioning_action);
        cycle.statuses.add(status);
        if log.activity_date_time < cycle.began {
            cycle.began.clone_from(&log.activity_date_time);
        }
        if log.activity_date_time > cycle.ended {
            cycle.ended.clone_from(&log.activity_date_time);
        }
    }

    /// Adds entry `i` to its source object's summary: its latest status and display name.
    fn add_to_object(&mut self, log: &LogEntry, i: usize, status: Status) {
        let summary = &mut self.summary;
        let source = &log.source_identity;
        let key = (source.identity_type.clone(), source.id.clone());
        let o = *self.object_index.entry(key).or_insert_with(|| {
            summary.objects.push(ObjectSummary {
                kind: source.identity_type.clone(),
                id: source.id.clone(),
                name: String::new(),
                entries: Vec::new(),
                last_status: status,
            });
            summary.objects.len() - 1
        });
        let object = &mut summary.objects[o];
        object.entries.push(i);
        object.last_status = status;
        if !source.display_name.is_empty() {
            object.name.clone_from(&source.display_name);
        }
    }

    /// Counts failed entry `i` under its error code: the objects it failed (the first few by
    /// name) and the server's answer.
    fn add_failure(&mut self, log: &LogEntry, i: usize) {
        let source = &log.source_identity;
        let (code, reason) = log
            .provisioning_status_info
            .error_information
            .as_ref()
            .map_or(("Unknown", ""), |e| {
                (e.error_code.as_str(), e.reason.as_str())
            });
        let acc = self
            .failures
            .entry(code.to_owned())
            .or_insert_with(|| FailureAcc {
                entries: 0,
                objects: HashSet::new(),
                answers: HashMap::new(),
                names: Vec::new(),
                first: i,
            });
        acc.entries += 1;
        let key = (source.identity_type.clone(), source.id.clone());
        if acc.objects.insert(key) && acc.names.len() < MAX_FAILED_NAMES {
            acc.names.push(if source.display_name.is_empty() {
                source.id.clone()
            } else {
                source.display_name.clone()
            });
        }
        *acc.answers
            .entry(server_answer(reason).to_string())
            .or_default() += 1;
    }

    /// The summary of every entry added.
    pub fn finish(self) -> Summary {
        let mut summary = self.summary;
        // Logs are appended in time order; a stable sort by first time keeps that order for ties.
        summary.cycles.sort_by(|a, b| a.began.cmp(&b.began));
        let mut groups: Vec<(usize, FailureGroup)> = self
            .failures
            .into_iter()
            .map(|(code, acc)| {
                let distinct_answers = acc.answers.len();
                let mut answers: Vec<(String, usize)> = acc.answers.into_iter().collect();
                answers.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                answers.truncate(MAX_ANSWERS);
                let group = FailureGroup {
                    code,
                    entries: acc.entries,
                    objects: acc.objects.len(),
                    answers,
                    distinct_answers,
                    names: acc.names,
                };
                (acc.first, group)
            })
            .collect();
        groups.sort_by(|a, b| b.1.entries.cmp(&a.1.entries).then(a.0.cmp(&b.0)));
        summary.failures = groups.into_iter().map(|(_, g)| g).collect();
        summary.objects.sort_by_key(|o| {
            (
                o.last_status != Status::Failure,
                std::cmp::Reverse(o.entries.last().copied().unwrap_or_default()),
            )
        });
        summary
    }
}

/// [`Summarizer`] over logs in memory.
pub fn summarize(logs: &[LogEntry]) -> Summary {
    let mut summarizer = Summarizer::default();
    for log in logs {
        summarizer.add(log);
    }
    summarizer.finish()
}

impl Summary {
    /// The objects the drill-down expands, each with how many of its newest entries it shows:
    /// latest failing first, then most recently changed, within [`MAX_OBJECTS`],
    /// [`MAX_ENTRIES_PER_OBJECT`] and [`MAX_DRILL_ENTRIES`].
    pub fn drill_down(&self) -> Vec<(&ObjectSummary, usize)> {
        let mut budget = MAX_DRILL_ENTRIES;
        let mut out = Vec::new();
        for object in self.objects.iter().take(MAX_OBJECTS) {
            if budget == 0 {
                break;
            }
            let take = object.entries.len().min(MAX_ENTRIES_PER_OBJECT).min(budget);
            budget -= take;
            out.push((object, take));
        }
        out
    }

    /// The indices of the entries the drill-down shows (what a second pass over the logs keeps).
    pub fn drill_entries(&self) -> BTreeSet<usize> {
        self.drill_down()
            .into_iter()
            .flat_map(|(object, take)| object.entries.iter().rev().take(take).copied())
            .collect()
    }
}

/// The report page of logs in memory.
pub fn render(input: &ReportInput<'_>, logs: &[LogEntry]) -> String {
    let summary = summarize(logs);
    let shown = summary
        .drill_entries()
        .into_iter()
        .filter_map(|i| Some((i, logs.get(i)?.clone())))
        .collect();
    render_summary(input, &summary, &shown)
}

/// The report page from the logs' summary and the entries its drill-down shows, by index
/// ([`Summary::drill_entries`]).
pub fn render_summary(
    input: &ReportInput<'_>,
    summary: &Summary,
    shown: &BTreeMap<usize, LogEntry>,
) -> String {
    html::page(input, summary, shown)
}

#[cfg(test)]
mod tests;
