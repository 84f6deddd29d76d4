//! Provisioning-log records in the shape of Graph's `provisioningObjectSummary` (spec §11.1): one per
//! object change per cycle, with its steps and modified properties. Pure data; the store persists
//! them and `logs` prints them.

use serde::{Deserialize, Serialize};

/// `provisioningAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvisioningAction {
    /// An object was created (or creation was attempted).
    Create,
    /// An object was updated, matched, or skipped.
    Update,
    /// An object was deleted.
    Delete,
    /// A delete or disable held back by the accidental-deletion guard.
    #[serde(rename = "stageddelete")]
    StagedDelete,
    /// A user was disabled.
    Disable,
    /// Anything else (e.g. an out-of-scope skip).
    Other,
}

/// `provisioningStatusInfo.status` and `provisioningStep.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It worked.
    Success,
    /// It worked with a caveat.
    Warning,
    /// It failed.
    Failure,
    /// Nothing needed doing, or the object is out of scope.
    Skipped,
}

impl Status {
    /// The lower-case name (`success`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Warning => "warning",
            Status::Failure => "failure",
            Status::Skipped => "skipped",
        }
    }
}

/// `provisioningStepType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepType {
    /// Reading the source object.
    Import,
    /// Scope evaluation.
    Scoping,
    /// Matching against the target.
    Matching,
    /// Deciding what to do.
    Processing,
    /// Resolving references (manager, members).
    ReferenceResolution,
    /// Writing to the target.
    Export,
}

/// One `provisioningStep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// e.g. `EntryImportAdd`, `EntrySynchronizationScoping`, `EntryExportUpdate`.
    pub name: String,
    /// The kind of step.
    pub provisioning_step_type: StepType,
    /// Its outcome.
    pub status: Status,
    /// The portal's sentence.
    pub description: String,
    /// Extra key/value facts (`SkipReason`, `ReportableIdentifier`, scoping verdicts, …).
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// One `modifiedProperty`. Values are strings; booleans are "True"/"False"; redacted ones `[Redact]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedProperty {
    /// The target attribute path.
    pub display_name: String,
    /// What the target had (empty when unknown or absent).
    pub old_value: Option<String>,
    /// What was exported.
    pub new_value: Option<String>,
}

/// `errorInformation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInformation {
    /// Entra's error code, e.g. `SystemForCrossDomainIdentityManagementServiceIncompatible`.
    pub error_code: String,
    /// The reason text, in Entra's `StatusCode: … Message: … Web Response: …` format.
    pub reason: String,
    /// More detail, if any.
    pub additional_details: Option<String>,
    /// e.g. `nonServiceFailure`.
    pub error_category: String,
    /// What the admin should do.
    pub recommended_action: Option<String>,
}

/// `provisioningStatusInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusInfo {
    /// The outcome.
    pub status: Status,
    /// Why it failed or was skipped.
    pub error_information: Option<ErrorInformation>,
}

/// `sourceIdentity` / `targetIdentity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// `User` or `Group`.
    pub identity_type: String,
    /// The objectId (source) or SCIM id (target; empty when not yet created).
    pub id: String,
    /// A human name (UPN or displayName).
    pub display_name: String,
    /// Extra facts.
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// `sourceSystem` / `targetSystem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct System {
    /// An id (empty for the simulator).
    pub id: String,
    /// e.g. `Azure Active Directory`.
    pub display_name: String,
    /// Extra facts.
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// `initiatedBy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Initiator {
    /// Always `system` for scheduled cycles.
    pub initiating_type: String,
    /// Empty.
    pub id: String,
    /// `Azure AD Provisioning Service`.
    pub display_name: String,
}

/// One `provisioningObjectSummary` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// A GUID.
    pub id: String,
    /// When the change was processed (UTC, ISO-8601).
    pub activity_date_time: String,
    /// The job id.
    pub job_id: String,
    /// The cycle ("Activity ID").
    pub cycle_id: String,
    /// Unique per change per cycle.
    pub change_id: String,
    /// What was done.
    pub provisioning_action: ProvisioningAction,
    /// How long it took.
    pub duration_in_milliseconds: i64,
    /// Who started it.
    pub initiated_by: Initiator,
    /// The source directory.
    pub source_system: System,
    /// The SCIM app.
    pub target_system: System,
    /// The source object.
    pub source_identity: Identity,
    /// The target object.
    pub target_identity: Identity,
    /// The outcome.
    pub provisioning_status_info: StatusInfo,
    /// The exported (or attempted) attribute values.
    pub modified_properties: Vec<ModifiedProperty>,
    /// The steps taken.
    pub provisioning_steps: Vec<Step>,
}

impl Step {
    /// A step without details.
    pub fn new(name: &str, kind: StepType, status: Status, description: String) -> Self {
        Self {
            name: name.to_string(),
            provisioning_step_type: kind,
            status,
            description,
            details: serde_json::Map::new(),
        }
    }

    /// Adds a detail.
    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }
}
