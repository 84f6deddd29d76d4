//! Issue 15, item 8: what the commands print with `--json` has Graph's shapes — the
//! `provisionOnDemand` answer, `provisioningObjectSummary` records with `tenantId` and
//! `servicePrincipal`, the `synchronizationJob` status, and HTTP methods as HTTP writes them.

use serde_json::Value;

use crate::support::{Harness, JobFiles, Test, tenant, user};

/// `2020-06-26T13:58:24.5494971Z`: seconds and exactly seven fractional digits.
fn is_graph_time(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
        .unwrap()
        .is_match(s)
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

async fn alice_and_bob() -> Harness {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    Harness::new(JobFiles {
        directory: &tenant(&[a, b], &["a1", "b2"]),
        mapping: "mappings/scim-default.yaml",
        extra: "assignments:\n  - principal: Team\n",
        ..JobFiles::default()
    })
    .await
}

async fn on_demand(h: &Harness, args: &[&str]) -> Vec<(Value, Value)> {
    let mut all = vec!["provision-on-demand", "--job", "job.yaml", "--json"];
    all.extend_from_slice(args);
    let out = Test::new()
        .args(&all)
        .current_dir(h.dir.path())
        .run_async()
        .await;
    out.status(0);
    let pairs: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    pairs
        .iter()
        .map(|p| {
            assert_eq!(keys(p), ["key", "value"]);
            let key = serde_json::from_str(p["key"].as_str().unwrap()).unwrap();
            let value = serde_json::from_str(p["value"].as_str().unwrap()).unwrap();
            (key, value)
        })
        .collect()
}

/// Graph docs, `synchronization-synchronizationjob-provisionondemand.md` example 1 (a user
/// skipped with `RedundantExport`): field order, step order and names, details and times.
#[tokio::test]
async fn provision_on_demand_json_is_graphs_provision_on_demand_answer() {
    let h = alice_and_bob().await;
    let created = on_demand(&h, &["--user", "alice@contoso.com"]).await;
    assert_eq!(created.len(), 1);
    let (key, value) = &created[0];
    assert_eq!(
        key,
        &serde_json::json!({"result": "Success", "details": {}})
    );
    assert_eq!(value["action"], "Create");
    let steps = value["provisioningSteps"].as_array().unwrap();
    let types: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["Import", "Matching", "Scoping", "Export"]);
    assert_eq!(steps[3]["name"], "EntryExportAdd");
    assert_eq!(steps[3]["status"], "Success");

    let skipped = on_demand(&h, &["--user", "alice@contoso.com"]).await;
    let (key, value) = &skipped[0];
    assert_eq!(keys(key), ["result", "details"]);
    assert_eq!(key["result"], "Skipped");
    assert_eq!(key["details"]["errorCode"], "RedundantExport");
    assert!(key["details"]["errorMessage"].is_string());
    assert_eq!(
        keys(value),
        [
            "action",
            "changeId",
            "endTime",
            "modifiedProperties",
            "provisioningSteps",
            "reportableIdentifier",
            "startTime",
            "statusInfo",
            "sourceIdentity",
            "sourceSystem",
            "targetIdentity",
            "targetSystem",
        ]
    );
    assert_eq!(value["action"], "Other");
    assert_eq!(value["reportableIdentifier"], "alice@contoso.com");
    assert!(is_graph_time(&value["startTime"]), "{}", value["startTime"]);
    assert!(is_graph_time(&value["endTime"]), "{}", value["endTime"]);
    assert_eq!(
        value["statusInfo"],
        serde_json::json!({
            "status": "Skipped", "errorCode": null, "reason": null, "additionalDetails": null,
            "errorCategory": null, "recommendedAction": null,
        })
    );
    let target_id = h.user("alice@contoso.com").unwrap()["id"].clone();
    assert_eq!(
        value["sourceIdentity"],
        serde_json::json!({"id": "a1", "type": "User", "displayName": null, "details": null})
    );
    assert_eq!(
        value["targetIdentity"],
        serde_json::json!({
            "id": target_id,
            "type": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "displayName": null, "details": null,
        })
    );
    assert_eq!(
        value["sourceSystem"],
        serde_json::json!({"id": null, "name": "Azure Active Directory", "details": null})
    );
    assert_eq!(
        value["targetSystem"],
        serde_json::json!({"id": null, "name": "customappsso", "details": null})
    );

    let steps = value["provisioningSteps"].as_array().unwrap();
    for s in steps {
        assert_eq!(
            keys(s),
            [
                "name",
                "type",
                "status",
                "description",
                "timestamp",
                "details"
            ]
        );
        assert!(is_graph_time(&s["timestamp"]), "{s}");
        assert!(
            s["details"]
                .as_object()
                .unwrap()
                .values()
                .all(Value::is_string),
            "detail values are strings: {s}"
        );
    }
    let shape: Vec<(&str, &str, &str)> = steps
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["type"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("EntryImport", "Import", "Success"),
            ("EntryImport", "Matching", "Success"),
            ("EntrySynchronizationScoping", "Scoping", "Success"),
            ("EntrySynchronizationSkip", "Export", "Skipped"),
        ]
    );
    assert_eq!(
        steps[0]["description"],
        "Retrieved User 'alice@contoso.com' from Azure Active Directory"
    );
    assert_eq!(steps[0]["details"]["IsSoftDeleted"], "False");
    assert_eq!(
        steps[1]["description"],
        "Retrieved  'alice@contoso.com' from customappsso"
    );
    // The matching step shows the target's copy.
    assert_eq!(steps[1]["details"]["id"], target_id);
    assert_eq!(steps[1]["details"]["userName"], "alice@contoso.com");
    assert_eq!(steps[1]["details"]["active"], "True");
    assert_eq!(steps[1]["details"]["name.givenName"], "Alice");
    assert_eq!(
        steps[1]["details"]["emails[type eq \"work\"].value"],
        "alice@contoso.com"
    );
    assert_eq!(
        steps[3]["description"],
        "The state of the user in both the source and target systems already match. No change to the User 'alice@contoso.com' currently needs to be made."
    );
    assert_eq!(
        steps[2]["description"],
        "Determine if User in scope by evaluating against each scoping filter"
    );
    assert_eq!(
        steps[2]["details"],
        serde_json::json!({
            "IsActive": "True",
            "Assigned": "True",
            "IsEffectivelyEntitledForProvisioning": "True",
            "IsInProvisioningScopeDisplayName": "True",
            "ScopeEvaluationResult": "{}",
        })
    );
    assert_eq!(
        steps[3]["details"],
        serde_json::json!({"SkipReason": "RedundantExport"})
    );

    // A group on demand: one answer per entry (the member, the group, its membership update).
    let group = on_demand(&h, &["--group", "Team", "--member", "bob@contoso.com"]).await;
    let group_entry = group
        .iter()
        .find(|(_, v)| v["sourceIdentity"]["id"] == "g1")
        .unwrap();
    assert_eq!(
        group_entry.1["targetIdentity"]["type"],
        "urn:ietf:params:scim:schemas:core:2.0:Group"
    );
    assert_eq!(group_entry.1["sourceIdentity"]["type"], "Group");
}

/// Graph `resources/provisioningobjectsummary.md`: `tenantId`, `servicePrincipal {id,
/// displayName}`, and `targetSystem` naming the app with its three details.
#[tokio::test]
async fn log_records_name_the_tenant_and_the_service_principal() {
    let mut h = alice_and_bob().await;
    h.cycle().await;
    h.close_store();
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    let records: Vec<Value> = serde_json::from_str(&logs.stdout).unwrap();
    let first = &records[0];
    let tenant_id = first["tenantId"].as_str().unwrap();
    let sp = first["servicePrincipal"]["id"].as_str().unwrap();
    assert_eq!((tenant_id.len(), sp.len()), (36, 36), "{first}");
    assert_eq!(first["servicePrincipal"]["displayName"], "job");
    assert_eq!(first["targetSystem"]["displayName"], "job");
    assert_eq!(first["targetSystem"]["details"]["ServicePrincipalId"], sp);
    assert_eq!(
        first["targetSystem"]["details"]["ServicePrincipalDisplayName"],
        "job"
    );
    assert!(first["targetSystem"]["details"]["ApplicationId"].is_string());
    assert!(is_graph_time(&first["activityDateTime"]), "{first}");
    assert!(
        records
            .iter()
            .all(|r| r["tenantId"] == tenant_id && r["servicePrincipal"]["id"] == sp)
    );
    let order: Vec<&str> = keys(first).into_iter().take(4).collect();
    assert_eq!(order, ["id", "activityDateTime", "tenantId", "jobId"]);

    // Given ids and the app's name are used as given.
    let job = std::fs::read_to_string(h.job_path()).unwrap();
    std::fs::write(
        h.job_path(),
        format!(
            "{job}tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47\nservice_principal:\n  id: 3e916d82-dd59-4944-824d-93092908fd8d\n  display_name: Contoso SCIM\n"
        ),
    )
    .unwrap();
    h.set_directory(&tenant(
        &[user("a1").nick("alice").given("Alicia").title("CEO").yaml()],
        &["a1"],
    ));
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    cycle.status(0);
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    let records: Vec<Value> = serde_json::from_str(&logs.stdout).unwrap();
    let last = records.last().unwrap();
    assert_eq!(last["tenantId"], "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_eq!(
        last["servicePrincipal"],
        serde_json::json!({"id": "3e916d82-dd59-4944-824d-93092908fd8d", "displayName": "Contoso SCIM"})
    );
    assert_eq!(last["targetSystem"]["displayName"], "Contoso SCIM");
}

/// `plan --json` and `compare-modes --json` write methods as HTTP does.
#[tokio::test]
async fn json_outputs_write_http_methods_as_http_does() {
    let mut h = alice_and_bob().await;
    h.close_store();
    let plan = Test::new()
        .args(["plan", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let json: Value = serde_json::from_str(&plan.stdout).unwrap();
    let methods: Vec<&str> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["requests"].as_array().unwrap())
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert!(methods.contains(&"POST"), "{methods:?}");
    assert!(
        methods
            .iter()
            .all(|m| ["POST", "PATCH", "DELETE"].contains(m)),
        "{methods:?}"
    );

    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(cycle.code, 0, "{}", cycle.stderr);
    h.set_directory(&tenant(
        &[user("a1").nick("alice").given("Alicia").title("CEO").yaml()],
        &["a1"],
    ));
    let compare = Test::new()
        .args(["compare-modes", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(compare.code, 0, "{}", compare.stderr);
    let json: Value = serde_json::from_str(&compare.stdout).unwrap();
    let pairs = json["writes"].as_array().unwrap();
    assert!(!pairs.is_empty());
    for p in pairs {
        for mode in ["default", "aadOptScim062020"] {
            let m = p[mode]["method"].as_str().unwrap();
            assert!(["POST", "PATCH", "DELETE"].contains(&m), "{p}");
        }
    }
}

/// Graph `synchronization-synchronizationjob-get.md` / `-synchronizationstatus.md` /
/// `-synchronizationtaskexecution.md`: the job's `id`, `templateId`, the execution counters,
/// `lastSuccessfulExecutionWithExports`, `progress`, `synchronizedEntryCountByType`,
/// `troubleshootingUrl`, and times with seven fractional digits.
#[tokio::test]
async fn status_json_is_graphs_synchronization_job() {
    let mut h = alice_and_bob().await;
    let (first, _) = h.cycle().await;
    h.cycle().await;
    h.close_store();
    let out = Test::new()
        .args(["status", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(job["id"], "scim.entrasim.job");
    assert_eq!(job["templateId"], "scim");
    let status = &job["status"];
    assert_eq!(
        keys(status),
        [
            "code",
            "countSuccessiveCompleteFailures",
            "escrowsPruned",
            "lastExecution",
            "lastSuccessfulExecution",
            "lastSuccessfulExecutionWithExports",
            "progress",
            "quarantine",
            "steadyStateFirstAchievedTime",
            "steadyStateLastAchievedTime",
            "synchronizedEntryCountByType",
            "troubleshootingUrl",
        ]
    );
    let with_exports = &status["lastSuccessfulExecutionWithExports"];
    assert_eq!(
        keys(with_exports),
        [
            "activityIdentifier",
            "countEntitled",
            "countEntitledForProvisioning",
            "countEscrowed",
            "countEscrowedRaw",
            "countExported",
            "countExports",
            "countImported",
            "countImportedDeltas",
            "countImportedReferenceDeltas",
            "error",
            "state",
            "timeBegan",
            "timeEnded",
        ]
    );
    // The second cycle exported nothing: the one with exports is still the first.
    assert_eq!(with_exports["activityIdentifier"], first.cycle_id.as_str());
    assert_ne!(
        status["lastExecution"]["activityIdentifier"],
        first.cycle_id.as_str()
    );
    // Alice, Bob and the group Team read, assigned and in scope; three created, Bob's manager
    // and Team's members exported as reference entries.
    assert_eq!(with_exports["countImported"], 3);
    assert_eq!(with_exports["countEntitled"], 3);
    assert_eq!(with_exports["countEntitledForProvisioning"], 3);
    assert_eq!(with_exports["countImportedDeltas"], 3);
    assert_eq!(with_exports["countImportedReferenceDeltas"], 2);
    assert_eq!(with_exports["countExported"], 5);
    assert_eq!(with_exports["countExports"], 5);
    assert!(is_graph_time(&with_exports["timeBegan"]), "{with_exports}");
    assert!(is_graph_time(&with_exports["timeEnded"]), "{with_exports}");
    assert!(
        is_graph_time(&status["steadyStateLastAchievedTime"]),
        "{status}"
    );
    let progress = status["progress"].as_array().unwrap();
    assert_eq!(progress.len(), 1);
    assert_eq!(
        keys(&progress[0]),
        [
            "completedUnits",
            "progressObservationDateTime",
            "totalUnits",
            "units"
        ]
    );
    assert!(is_graph_time(&progress[0]["progressObservationDateTime"]));
    assert_eq!(
        status["synchronizedEntryCountByType"],
        serde_json::json!([
            {"key": "user to User", "value": 2},
            {"key": "group to Group", "value": 1},
        ])
    );
    assert_eq!(status["troubleshootingUrl"], "");
}

/// With a scoping filter, `ScopeEvaluationResult` holds each clause's verdict (a JSON object in a
/// string); an object the filter leaves out is not in provisioning scope. A failed export answers
/// `Failure` with the error in the key and in `statusInfo`.
#[tokio::test]
async fn provision_on_demand_json_shows_scoping_verdicts_and_failures() {
    let a = user("a1")
        .nick("alice")
        .given("Alice")
        .title("CEO")
        .extra("    department: Sales\n")
        .yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .extra("    department: Engineering\n")
        .yaml();
    let mut h = Harness::new(JobFiles {
        directory: &tenant(&[a, b], &[]),
        ..JobFiles::default()
    })
    .await;
    let base = std::fs::read_to_string(crate::support::repo("mappings/uni-tel.yaml")).unwrap();
    let path = h.dir.path().join("mapping.yaml");
    std::fs::write(
        &path,
        format!(
            "{base}  scoping:\n    - name: Sales only\n      clauses:\n        - {{ attribute: department, operator: EQUALS, value: Sales }}\n"
        ),
    )
    .unwrap();
    h.set_mapping(&path);
    h.set_job_extra("scope: all\n", "");

    let out = on_demand(&h, &["--user", "bob@contoso.com"]).await;
    let (key, value) = &out[0];
    assert_eq!(key["result"], "Skipped");
    let scoping = value["provisioningSteps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "Scoping")
        .unwrap();
    assert_eq!(scoping["status"], "Skipped");
    assert_eq!(scoping["details"]["Assigned"], "True");
    assert_eq!(
        scoping["details"]["IsInProvisioningScopeDisplayName"],
        "False"
    );
    let verdicts: Value = serde_json::from_str(
        scoping["details"]["ScopeEvaluationResult"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let verdicts = verdicts.as_object().unwrap();
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    assert!(verdicts.values().all(|v| v == "False"), "{verdicts:?}");

    h.target
        .set_faults(entra_sim::target::parse_spec("POST /Users=400:times=1").unwrap());
    let failed = Test::new()
        .args([
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--json",
            "--user",
            "alice@contoso.com",
        ])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    failed.status(1);
    let pairs: Vec<Value> = serde_json::from_str(&failed.stdout).unwrap();
    let key: Value = serde_json::from_str(pairs[0]["key"].as_str().unwrap()).unwrap();
    let value: Value = serde_json::from_str(pairs[0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(key["result"], "Failure");
    let code = key["details"]["errorCode"].as_str().unwrap();
    assert_eq!(value["statusInfo"]["status"], "Failure");
    assert_eq!(value["statusInfo"]["errorCode"], code);
    assert!(value["statusInfo"]["reason"].is_string());
    assert_eq!(value["action"], "Create");
    let last = value["provisioningSteps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["name"].as_str(),
            last["type"].as_str(),
            last["status"].as_str()
        ),
        (Some("EntryExportAdd"), Some("Export"), Some("Failure"))
    );
    assert_eq!(value["targetIdentity"]["id"], "");
}

/// Issue 18, item 15: `cycle --json` prints JSON Lines as the cycle runs — each entry, the record
/// `logs --json` keeps, on its own line, then the summary (`cycle`, `process`) as the last line —
/// instead of one document holding every entry (430 MB and 3.3 GB of memory for 100,000 users).
/// Item 16: the summary's times are Graph's.
#[tokio::test]
async fn cycle_json_prints_one_record_per_line_then_the_summary() {
    let mut h = alice_and_bob().await;
    h.close_store();
    let out = Test::new()
        .args(["cycle", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    out.status(0);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let (summary, entries) = lines.split_last().unwrap();
    assert_eq!(keys(summary), ["cycle", "process"], "{summary}");
    let cycle = &summary["cycle"];
    assert!(is_graph_time(&cycle["timeBegan"]), "{cycle}");
    assert!(is_graph_time(&cycle["timeEnded"]), "{cycle}");
    assert!(summary["process"]["peakRssBytes"].as_u64().unwrap() > 0);
    let counted: u64 = [
        "created", "updated", "disabled", "deleted", "skipped", "failed",
    ]
    .iter()
    .map(|k| cycle["counts"][k].as_u64().unwrap())
    .sum();
    assert_eq!(entries.len() as u64, counted, "{}", out.stdout);
    assert_eq!(cycle["counts"]["created"], 3, "{cycle}");
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    let records: Vec<Value> = serde_json::from_str(&logs.stdout).unwrap();
    assert_eq!(entries, records.as_slice());

    // With --quiet, the summary alone: one line.
    let quiet = Test::new()
        .args(["cycle", "--job", "job.yaml", "--json", "--quiet"])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stdout.lines().count(), 1, "{}", quiet.stdout);
    let summary: Value = serde_json::from_str(&quiet.stdout).unwrap();
    assert_eq!(summary["cycle"]["kind"], "Incremental");
}
