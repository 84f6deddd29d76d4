//! The Entra portal's CSV download of provisioning logs (spec §11.1): three tables —
//! `ProvisioningLogs.csv`, `ProvisioningLogs_ProvisioningSteps.csv` and
//! `ProvisioningLogs_ModifiedProperties.csv` — joined by their Change ID column. Pure: it builds the
//! files' text one record at a time ([`Export`]) and `logs` streams it to the files.
//!
//! The column names follow the portal's labels where the spec gives them (Date, Activity ID, Change
//! ID, Job ID, …); the exact headers of Entra's download are UNCONFIRMED. Quoting is RFC 4180:
//! a field with a comma, quote or line break is quoted and its quotes doubled; rows end in CRLF.
//! That is all a writer needs, so it is written here rather than pulled in with a CSV crate.

use crate::provlog::{LogEntry, ProvisioningAction, Status, StepType};

/// The summary table's file name.
pub const LOGS_FILE: &str = "ProvisioningLogs.csv";
/// The steps table's file name.
pub const STEPS_FILE: &str = "ProvisioningLogs_ProvisioningSteps.csv";
/// The modified-properties table's file name.
pub const PROPERTIES_FILE: &str = "ProvisioningLogs_ModifiedProperties.csv";
/// The three files, in the order [`Export::take`] gives them.
pub const FILES: [&str; 3] = [LOGS_FILE, STEPS_FILE, PROPERTIES_FILE];

const LOG_COLUMNS: &[&str] = &[
    "Date",
    "ID",
    "Activity ID",
    "Change ID",
    "Job ID",
    "Action",
    "Status",
    "Duration (ms)",
    "Initiated by",
    "Source system",
    "Target system",
    "Source identity ID",
    "Source identity name",
    "Source identity type",
    "Target identity ID",
    "Target identity name",
    "Target identity type",
    "Error code",
    "Error reason",
    "Error category",
    "Additional details",
    "Recommended action",
];

const STEP_COLUMNS: &[&str] = &[
    "Change ID",
    "Step number",
    "Name",
    "Type",
    "Status",
    "Description",
    "Details",
];

const PROPERTY_COLUMNS: &[&str] = &["Change ID", "Name", "Old value", "New value"];

/// The three files of the download, built one log record at a time.
pub struct Export {
    summary: Table,
    steps: Table,
    properties: Table,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            summary: Table::new(LOG_COLUMNS),
            steps: Table::new(STEP_COLUMNS),
            properties: Table::new(PROPERTY_COLUMNS),
        }
    }
}

impl Export {
    /// Adds one record's rows: its summary row, a row per step, a row per modified property.
    pub fn add(&mut self, log: &LogEntry) {
        let status = &log.provisioning_status_info;
        let error = status.error_information.as_ref();
        let duration = log.duration_in_milliseconds.to_string();
        self.summary.row([
            log.activity_date_time.as_str(),
            &log.id,
            &log.cycle_id,
            &log.change_id,
            &log.job_id,
            action_name(log.provisioning_action),
            status_name(status.status),
            &duration,
            &log.initiated_by.display_name,
            &log.source_system.display_name,
            &log.target_system.display_name,
            &log.source_identity.id,
            &log.source_identity.display_name,
            &log.source_identity.identity_type,
            &log.target_identity.id,
            &log.target_identity.display_name,
            &log.target_identity.identity_type,
            error.map_or("", |e| e.error_code.as_str()),
            error.map_or("", |e| e.reason.as_str()),
            error.map_or("", |e| e.error_category.as_str()),
            error
                .and_then(|e| e.additional_details.as_deref())
                .unwrap_or_default(),
            error
                .and_then(|e| e.recommended_action.as_deref())
                .unwrap_or_default(),
        ]);
        for (i, step) in log.provisioning_steps.iter().enumerate() {
            let number = (i + 1).to_string();
            let details = serde_json::Value::Object(step.details.clone()).to_string();
            self.steps.row([
                log.change_id.as_str(),
                &number,
                step.name.as_str(),
                step_type_name(step.provisioning_step_type),
                status_name(step.status),
                &step.description,
                &details,
            ]);
        }
        for property in &log.modified_properties {
            self.properties.row([
                log.change_id.as_str(),
                &property.display_name,
                property.old_value.as_deref().unwrap_or_default(),
                property.new_value.as_deref().unwrap_or_default(),
            ]);
        }
    }

    /// Bytes built and not yet taken.
    pub fn pending(&self) -> usize {
        self.summary.0.len() + self.steps.0.len() + self.properties.0.len()
    }

    /// Takes the text built so far, `(file name, text)` for each file, summary first (the headers
    /// come with the first take); later records continue after it.
    pub fn take(&mut self) -> [(&'static str, String); 3] {
        [
            (LOGS_FILE, std::mem::take(&mut self.summary.0)),
            (STEPS_FILE, std::mem::take(&mut self.steps.0)),
            (PROPERTIES_FILE, std::mem::take(&mut self.properties.0)),
        ]
    }
}

/// The portal's spelling of an action.
fn action_name(action: ProvisioningAction) -> &'static str {
    match action {
        ProvisioningAction::Create => "Create",
        ProvisioningAction::Update => "Update",
        ProvisioningAction::Delete => "Delete",
        ProvisioningAction::StagedDelete => "StagedDelete",
        ProvisioningAction::Disable => "Disable",
        ProvisioningAction::Other => "Other",
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Success => "Success",
        Status::Warning => "Warning",
        Status::Failure => "Failure",
        Status::Skipped => "Skipped",
    }
}

fn step_type_name(kind: StepType) -> &'static str {
    match kind {
        StepType::Import => "Import",
        StepType::Scoping => "Scoping",
        StepType::Matching => "Matching",
        StepType::Processing => "Processing",
        StepType::ReferenceResolution => "ReferenceResolution",
        StepType::Export => "Export",
    }
}

/// One CSV file being written.
struct Table(String);

impl Table {
    fn new(columns: &[&str]) -> Self {
        let mut table = Table(String::new());
        table.row(columns.iter().copied());
        table
    }

    fn row<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) {
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            push_field(&mut self.0, field);
        }
        self.0.push_str("\r\n");
    }
}

/// Appends `field`, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("cr\rhere", "\"cr\rhere\""),
            ("Björn Ødegård", "Björn Ødegård"),
        ];
        for (field, expected) in cases {
            let mut out = String::new();
            push_field(&mut out, field);
            assert_eq!(out, expected, "{field:?}");
        }
    }

    #[test]
    fn rows_end_in_crlf_and_an_empty_log_has_headers_only() {
        let files = Export::default().take();
        assert_eq!(
            files.clone().map(|(name, _)| name),
            [LOGS_FILE, STEPS_FILE, PROPERTIES_FILE]
        );
        for (_, text) in &files {
            assert_eq!(text.matches("\r\n").count(), 1, "{text}");
            assert!(text.ends_with("\r\n"));
        }
        assert_eq!(
            files[2].1, "Change ID,Name,Old value,New value\r\n",
            "properties header"
        );
    }
}
