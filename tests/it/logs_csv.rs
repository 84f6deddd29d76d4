//! `entra-sim logs --format csv|json`: a store holding a few records exported as the portal's three
//! CSV files (quoting, the Change ID join) and as JSON, `--json` kept as `--format json`.

use std::path::Path;

use entra_sim::provlog::{
    ErrorInformation, Identity, Initiator, LogEntry, ModifiedProperty, ProvisioningAction, Status,
    StatusInfo, Step, StepName, StepType, System,
};
use entra_sim::store::Store;

use crate::fixture::Fixture;

fn system(name: &str) -> System {
    System {
        id: String::new(),
        display_name: name.to_owned(),
        details: serde_json::Map::new(),
    }
}

/// What differs between the records; [`Record::entry`] fills in the rest.
struct Record<'a> {
    change: &'a str,
    action: ProvisioningAction,
    status: Status,
    name: &'a str,
}

impl Record<'_> {
    fn entry(self) -> LogEntry {
        let Record {
            change,
            action,
            status,
            name,
        } = self;
        LogEntry {
            id: format!("id-{change}"),
            activity_date_time: "2024-05-01T10:00:00Z".to_owned(),
            tenant_id: String::new(),
            job_id: "scim.entrasim.job".to_owned(),
            cycle_id: "cycle-1".to_owned(),
            change_id: change.to_owned(),
            provisioning_action: action,
            duration_in_milliseconds: 42,
            initiated_by: Initiator {
                initiating_type: "system".to_owned(),
                id: String::new(),
                display_name: "Azure AD Provisioning Service".to_owned(),
            },
            service_principal: Default::default(),
            source_system: system("Azure Active Directory"),
            target_system: system("job"),
            source_identity: Identity {
                identity_type: "User".to_owned(),
                id: format!("src-{change}"),
                display_name: name.to_owned(),
                details: serde_json::Map::new(),
            },
            target_identity: Identity {
                identity_type: "User".to_owned(),
                id: String::new(),
                display_name: name.to_owned(),
                details: serde_json::Map::new(),
            },
            provisioning_status_info: StatusInfo {
                status,
                error_information: None,
            },
            modified_properties: Vec::new(),
            provisioning_steps: Vec::new(),
        }
    }
}

/// Three records: a create with steps and properties whose values need quoting, a failure with
/// an error, and a skip with nothing else.
fn records() -> Vec<LogEntry> {
    let mut create = Record {
        change: "c1",
        action: ProvisioningAction::Create,
        status: Status::Success,
        name: "Ødegård, Björn",
    }
    .entry();
    create.target_identity.id = "scim-1".to_owned();
    create.provisioning_steps = vec![
        Step::new(
            StepName::EntryImportAdd,
            StepType::Import,
            Status::Success,
            "Received User 'bjorn' change of type (Add)".to_owned(),
        )
        .detail("department", "R&D, \"core\""),
        Step::new(
            StepName::EntryExportAdd,
            StepType::Export,
            Status::Success,
            "Created User\nin job".to_owned(),
        ),
    ];
    create.modified_properties = vec![
        ModifiedProperty {
            display_name: "displayName".to_owned(),
            old_value: None,
            new_value: Some("Ødegård, Björn".to_owned()),
        },
        ModifiedProperty {
            display_name: "active".to_owned(),
            old_value: Some("False".to_owned()),
            new_value: Some("True".to_owned()),
        },
    ];
    let mut failed = Record {
        change: "c2",
        action: ProvisioningAction::Update,
        status: Status::Failure,
        name: "megan",
    }
    .entry();
    failed.provisioning_status_info.error_information = Some(ErrorInformation {
        error_code: "SystemForCrossDomainIdentityManagementBadRequest".to_owned(),
        reason: "StatusCode: BadRequest\nMessage: \"bad\"".to_owned(),
        additional_details: None,
        error_category: "nonServiceFailure".to_owned(),
        recommended_action: Some("Fix it".to_owned()),
    });
    let skipped = Record {
        change: "c3",
        action: ProvisioningAction::Other,
        status: Status::Skipped,
        name: "guest",
    }
    .entry();
    vec![create, failed, skipped]
}

/// A job whose state directory holds `records()`.
fn fixture() -> Fixture {
    let fixture = Fixture::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    fixture.write(
        "job.yaml",
        &format!(
            "directory: {}\nmapping: {}\ntarget:\n  url: http://127.0.0.1:9/scim\n  token_env: T\nsettings:\n  state_dir: state\n",
            root.join("directory-samples/contoso.yaml").display(),
            root.join("mappings/unifi.yaml").display()
        ),
    );
    let store = Store::open(&fixture.path().join("state")).unwrap();
    for record in records() {
        store.append_log(&record).unwrap();
    }
    fixture
}

/// A small RFC 4180 reader, to check the writer's quoting by reading it back.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\n') => panic!("bare LF ends a row"),
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && row.is_empty() && field.is_empty(),
        "last row without CRLF"
    );
    rows
}

fn column<'a>(rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let index = rows[0].iter().position(|c| c == name).unwrap();
    rows[1..].iter().map(|r| r[index].as_str()).collect()
}

#[test]
fn csv_export_writes_the_portals_three_files_joined_by_change_id() {
    let fixture = fixture();
    let run = fixture
        .test()
        .args([
            "logs", "--job", "job.yaml", "--format", "csv", "--out", "out",
        ])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "3 records: out/ProvisioningLogs.csv, out/ProvisioningLogs_ProvisioningSteps.csv, out/ProvisioningLogs_ModifiedProperties.csv\n"
    );
    let read = |name: &str| {
        let text = std::fs::read_to_string(fixture.path().join("out").join(name)).unwrap();
        read_csv(&text)
    };

    let logs = read("ProvisioningLogs.csv");
    assert_eq!(logs.len(), 4);
    assert!(logs.iter().all(|r| r.len() == logs[0].len()));
    assert_eq!(
        &logs[0][..7],
        [
            "Date",
            "ID",
            "Activity ID",
            "Change ID",
            "Job ID",
            "Action",
            "Status"
        ]
    );
    assert_eq!(column(&logs, "Change ID"), ["c1", "c2", "c3"]);
    assert_eq!(column(&logs, "Activity ID"), ["cycle-1"; 3]);
    assert_eq!(column(&logs, "Action"), ["Create", "Update", "Other"]);
    assert_eq!(column(&logs, "Status"), ["Success", "Failure", "Skipped"]);
    assert_eq!(column(&logs, "Source identity name")[0], "Ødegård, Björn");
    assert_eq!(column(&logs, "Target identity ID"), ["scim-1", "", ""]);
    assert_eq!(
        column(&logs, "Error code"),
        ["", "SystemForCrossDomainIdentityManagementBadRequest", ""]
    );
    assert_eq!(
        column(&logs, "Error reason")[1],
        "StatusCode: BadRequest\nMessage: \"bad\""
    );
    assert_eq!(column(&logs, "Recommended action"), ["", "Fix it", ""]);

    let steps = read("ProvisioningLogs_ProvisioningSteps.csv");
    assert_eq!(
        steps,
        [
            vec![
                "Change ID",
                "Step number",
                "Name",
                "Type",
                "Status",
                "Description",
                "Details"
            ],
            vec![
                "c1",
                "1",
                "EntryImportAdd",
                "Import",
                "Success",
                "Received User 'bjorn' change of type (Add)",
                r#"{"department":"R&D, \"core\""}"#,
            ],
            vec![
                "c1",
                "2",
                "EntryExportAdd",
                "Export",
                "Success",
                "Created User\nin job",
                "{}"
            ],
        ]
    );

    let properties = read("ProvisioningLogs_ModifiedProperties.csv");
    assert_eq!(
        properties,
        [
            vec!["Change ID", "Name", "Old value", "New value"],
            vec!["c1", "displayName", "", "Ødegård, Björn"],
            vec!["c1", "active", "False", "True"],
        ]
    );
    // Every step and property row joins to exactly one summary row.
    let changes = column(&logs, "Change ID");
    for row in steps[1..].iter().chain(&properties[1..]) {
        assert_eq!(changes.iter().filter(|c| **c == row[0]).count(), 1);
    }
}

#[test]
fn json_flag_and_format_json_print_the_same_records() {
    let fixture = fixture();
    let flag = fixture
        .test()
        .args(["logs", "--job", "job.yaml", "--json"])
        .run();
    let format = fixture
        .test()
        .args(["logs", "--job", "job.yaml", "--format", "json"])
        .run();
    assert_eq!(flag.code, 0, "{flag:?}");
    assert_eq!(flag.stdout, format.stdout);
    let printed: Vec<LogEntry> = serde_json::from_str(&flag.stdout).unwrap();
    assert_eq!(printed, records());
    // Streamed one record at a time, byte for byte what pretty-printing the whole list gives.
    assert_eq!(
        flag.stdout,
        serde_json::to_string_pretty(&records()).unwrap() + "\n"
    );
    let none = fixture
        .test()
        .args(["logs", "--job", "job.yaml", "--json", "--cycle", "none"])
        .run();
    assert_eq!(none.stdout, "[]\n", "{none:?}");

    let filtered = fixture
        .test()
        .args([
            "logs", "--job", "job.yaml", "--format", "json", "--status", "failure", "--out", "j",
        ])
        .run();
    assert_eq!(
        filtered.stdout, "1 records: j/ProvisioningLogs.json\n",
        "{filtered:?}"
    );
    let text = std::fs::read_to_string(fixture.path().join("j/ProvisioningLogs.json")).unwrap();
    let records: Vec<LogEntry> = serde_json::from_str(&text).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].change_id, "c2");
}

#[test]
fn out_needs_an_export_format_and_json_conflicts_with_format() {
    let fixture = fixture();
    let run = fixture
        .test()
        .args(["logs", "--job", "job.yaml", "--out", "x"])
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: --out: needs --format json or --format csv\n"
    );
    let run = fixture
        .test()
        .args(["logs", "--job", "job.yaml", "--json", "--format", "csv"])
        .run();
    assert_eq!(run.code, 3, "{run:?}");
}

#[test]
fn logs_stay_readable_when_the_directory_no_longer_loads() {
    let fixture = fixture();
    let job = std::fs::read_to_string(fixture.path().join("job.yaml")).unwrap();
    let broken = job.replace(
        "directory-samples/contoso.yaml",
        "directory-samples/gone.yaml",
    );
    assert_ne!(job, broken);
    fixture.write("job.yaml", &broken);
    let run = fixture
        .test()
        .args(["logs", "--job", "job.yaml", "--json"])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let printed: Vec<LogEntry> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed, records());
    // A job file that cannot be read at all is still reported as such.
    let missing = fixture.test().args(["logs", "--job", "nope.yaml"]).run();
    assert_eq!(missing.code, 3, "{missing:?}");
}
