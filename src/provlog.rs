//! Provisioning-log records in the shape of Graph's `provisioningObjectSummary` (spec §11.1): one per
//! object change per cycle, with its steps and modified properties. Pure data; the store persists
//! them and `logs` prints them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A time as Graph writes it in provisioning payloads: UTC, exactly seven fractional digits
/// (.NET ticks), e.g. `2020-06-26T13:58:24.5494971Z` (Graph docs,
/// `synchronization-synchronizationjob-provisionondemand.md` and
/// `resources/provisioningobjectsummary.md`). Every `--json` output uses this one helper.
pub fn graph_time(t: DateTime<Utc>) -> String {
    let ticks = t.timestamp_subsec_nanos() / 100;
    format!("{}.{ticks:07}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// A GUID that is a pure function of `namespace` and `name` (an RFC 9562 version-8, i.e.
/// vendor-defined, UUID over a stable hash), so the ids entra-sim makes up for a job (tenant,
/// service principal, application) stay the same across runs and machines.
pub fn stable_guid(namespace: &str, name: &str) -> String {
    let mut lanes = crate::hash::Lanes::default();
    lanes.part(namespace.as_bytes());
    lanes.part(name.as_bytes());
    let mut b = lanes.finish().to_be_bytes();
    if let Some(v) = b.get_mut(6) {
        *v = (*v & 0x0f) | 0x80;
    }
    if let Some(v) = b.get_mut(8) {
        *v = (*v & 0x3f) | 0x80;
    }
    crate::expr::guid_text(&b)
}

/// The enterprise app a job provisions, as Graph names it in records (`tenantId`,
/// `servicePrincipal`, `targetSystem.details`) and in the job's status (`id`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct App {
    /// The synchronization job's id (`jobId`).
    pub job_id: String,
    /// The tenant's id (`tenantId`): the job file's `tenant_id`, or a GUID derived from the
    /// job's name.
    pub tenant_id: String,
    /// The service principal's id: the job file's `service_principal.id`, or derived.
    pub service_principal_id: String,
    /// The app registration's id (`ApplicationId`), derived from the service principal's id.
    pub application_id: String,
    /// The app's name: the job file's `service_principal.display_name`, or the job's name.
    pub display_name: String,
}

impl App {
    /// The app of the job named `job_name`, with the ids the job file gives and stable
    /// defaults for the others.
    pub fn new(
        job_name: &str,
        tenant_id: Option<String>,
        service_principal_id: Option<String>,
        display_name: Option<String>,
    ) -> Self {
        let service_principal_id = service_principal_id
            .unwrap_or_else(|| stable_guid("entra-sim service principal", job_name));
        Self {
            job_id: format!("scim.entrasim.{job_name}"),
            tenant_id: tenant_id.unwrap_or_else(|| stable_guid("entra-sim tenant", job_name)),
            application_id: stable_guid("entra-sim application", &service_principal_id),
            service_principal_id,
            display_name: display_name.unwrap_or_else(|| job_name.to_string()),
        }
    }

    /// `servicePrincipal` of a record.
    pub fn service_principal(&self) -> ServicePrincipal {
        ServicePrincipal {
            id: self.service_principal_id.clone(),
            display_name: self.display_name.clone(),
        }
    }

    /// `targetSystem` of a record: the app, with Graph's three detail keys.
    pub fn target_system(&self) -> System {
        let mut details = serde_json::Map::new();
        details.insert("ApplicationId".into(), self.application_id.clone().into());
        details.insert(
            "ServicePrincipalId".into(),
            self.service_principal_id.clone().into(),
        );
        details.insert(
            "ServicePrincipalDisplayName".into(),
            self.display_name.clone().into(),
        );
        System {
            id: String::new(),
            display_name: self.display_name.clone(),
            details,
        }
    }
}

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

/// A `provisioningStep`'s `name`, spelled as Entra's logs spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepName {
    /// The source object was read (on-demand provisioning's name for import and matching).
    EntryImport,
    /// The source object was read as a change of type Add.
    EntryImportAdd,
    /// The object was read from the target by its id.
    EntryImportObject,
    /// The object could not be imported (no matching attribute has a value).
    EntryImportSkipped,
    /// Scope evaluation.
    EntrySynchronizationScoping,
    /// Nothing exported: the entry is skipped with a `SkipReason`.
    EntrySynchronizationSkip,
    /// No match was found: the object will be created.
    EntrySynchronizationAdd,
    /// A match was found: the object will be updated.
    EntrySynchronizationUpdate,
    /// A caveat while matching.
    EntrySynchronizationWarning,
    /// Matching or evaluating the mappings failed.
    EntrySynchronizationError,
    /// A reference (manager, members) was resolved to target ids.
    EntryReferenceResolution,
    /// The create.
    EntryExportAdd,
    /// An update (PATCH).
    EntryExportUpdate,
    /// The disabling PATCH of a user that left scope.
    EntryExportUpdateSoftDelete,
    /// The delete.
    EntryExportDelete,
}

impl StepName {
    /// The name as logs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EntryImport => "EntryImport",
            Self::EntryImportAdd => "EntryImportAdd",
            Self::EntryImportObject => "EntryImportObject",
            Self::EntryImportSkipped => "EntryImportSkipped",
            Self::EntrySynchronizationScoping => "EntrySynchronizationScoping",
            Self::EntrySynchronizationSkip => "EntrySynchronizationSkip",
            Self::EntrySynchronizationAdd => "EntrySynchronizationAdd",
            Self::EntrySynchronizationUpdate => "EntrySynchronizationUpdate",
            Self::EntrySynchronizationWarning => "EntrySynchronizationWarning",
            Self::EntrySynchronizationError => "EntrySynchronizationError",
            Self::EntryReferenceResolution => "EntryReferenceResolution",
            Self::EntryExportAdd => "EntryExportAdd",
            Self::EntryExportUpdate => "EntryExportUpdate",
            Self::EntryExportUpdateSoftDelete => "EntryExportUpdateSoftDelete",
            Self::EntryExportDelete => "EntryExportDelete",
        }
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for StepName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why an entry was skipped: the `SkipReason` detail of its `EntrySynchronizationSkip` step and
/// its `errorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The object is not assigned to the app.
    NotEffectivelyEntitled,
    /// The object fails a scoping filter.
    ScopingFilterNotMatched,
    /// The object left scope and `SkipOutOfScopeDeletions` is set.
    SkipOutOfScopeDeletions,
    /// The target action the change needs (create, update, delete) is disabled.
    TargetActionNotEnabled,
    /// Source and target already agree.
    RedundantExport,
    /// Held back by the accidental-deletion guard.
    StagedDelete,
}

impl SkipReason {
    /// The reason as logs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotEffectivelyEntitled => "NotEffectivelyEntitled",
            Self::ScopingFilterNotMatched => "ScopingFilterNotMatched",
            Self::SkipOutOfScopeDeletions => "SkipOutOfScopeDeletions",
            Self::TargetActionNotEnabled => "TargetActionNotEnabled",
            Self::RedundantExport => "RedundantExport",
            Self::StagedDelete => "StagedDelete",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `provisioningStep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// e.g. `EntryImportAdd`, `EntrySynchronizationScoping`, `EntryExportUpdate`.
    pub name: StepName,
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

/// `servicePrincipal`: the enterprise app whose job wrote the record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// The service principal's id.
    pub id: String,
    /// The app's name.
    pub display_name: String,
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
    /// The tenant (empty in records written before entra-sim had it).
    #[serde(default)]
    pub tenant_id: String,
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
    /// The app (empty in records written before entra-sim had it).
    #[serde(default)]
    pub service_principal: ServicePrincipal,
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
    pub fn new(name: StepName, kind: StepType, status: Status, description: String) -> Self {
        Self {
            name,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_serialize_as_they_spell_themselves() {
        use StepName::*;
        for name in [
            EntryImport,
            EntryImportAdd,
            EntryImportObject,
            EntryImportSkipped,
            EntrySynchronizationScoping,
            EntrySynchronizationSkip,
            EntrySynchronizationAdd,
            EntrySynchronizationUpdate,
            EntrySynchronizationWarning,
            EntrySynchronizationError,
            EntryReferenceResolution,
            EntryExportAdd,
            EntryExportUpdate,
            EntryExportUpdateSoftDelete,
            EntryExportDelete,
        ] {
            let json = serde_json::to_value(name).unwrap();
            assert_eq!(json, name.as_str());
            assert_eq!(serde_json::from_value::<StepName>(json).unwrap(), name);
        }
    }

    #[test]
    fn graph_times_have_seven_fractional_digits() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            graph_time(t("2020-06-26T13:58:24.549497123Z")),
            "2020-06-26T13:58:24.5494971Z"
        );
        assert_eq!(
            graph_time(t("2026-02-01T09:00:00Z")),
            "2026-02-01T09:00:00.0000000Z"
        );
        assert_eq!(
            graph_time(t("2026-02-01T10:00:00.5+01:00")),
            "2026-02-01T09:00:00.5000000Z"
        );
    }

    #[test]
    fn stable_guids_are_guids_and_a_function_of_their_input() {
        let a = stable_guid("entra-sim tenant", "sample");
        assert_eq!(a, stable_guid("entra-sim tenant", "sample"));
        assert_ne!(a, stable_guid("entra-sim tenant", "sample2"));
        assert_ne!(a, stable_guid("entra-sim service principal", "sample"));
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('8'), "version 8: {a}");
        assert!(
            matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
            "variant: {a}"
        );
    }

    /// Records written before `tenantId` and `servicePrincipal` existed still load.
    #[test]
    fn old_records_load() {
        let old = serde_json::json!({
            "id": "c-3", "activityDateTime": "2026-02-01T09:00:00.000Z", "jobId": "scim.entrasim.job",
            "cycleId": "c", "changeId": "c", "provisioningAction": "create",
            "durationInMilliseconds": 0,
            "initiatedBy": {"initiatingType": "system", "id": "", "displayName": "Azure AD Provisioning Service"},
            "sourceSystem": {"id": "", "displayName": "Azure Active Directory", "details": {}},
            "targetSystem": {"id": "", "displayName": "job", "details": {}},
            "sourceIdentity": {"identityType": "User", "id": "a1", "displayName": "a", "details": {}},
            "targetIdentity": {"identityType": "User", "id": "", "displayName": "a", "details": {}},
            "provisioningStatusInfo": {"status": "success", "errorInformation": null},
            "modifiedProperties": [], "provisioningSteps": [],
        });
        let entry: LogEntry = serde_json::from_value(old).unwrap();
        assert_eq!(entry.tenant_id, "");
        assert_eq!(entry.service_principal, ServicePrincipal::default());
    }
}
