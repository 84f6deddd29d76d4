//! Issue 15 item 7: `SelectUniqueValue` asks the target. Before a create, each candidate is looked
//! up with a filter on the target attribute, in order; the first that no object holds is sent. All
//! taken fails the entry (escrowed). `plan` reads the server the same way; `plan --offline` cannot
//! read, so it assumes the first candidate is free.

use crate::support::{Harness, JobFiles, Test};

/// userName is picked from three candidates: the given name, the surname, then both.
const MAPPING: &str = r#"users:
  attributes:
    - target: externalId
      source: mailNickname
      matching: 1
    - target: userName
      expression: SelectUniqueValue(Join("@", NormalizeDiacritics([givenName]), "contoso.com"), Join("@", NormalizeDiacritics([surname]), "contoso.com"), Join("@", NormalizeDiacritics(Join(".", [givenName], [surname])), "contoso.com"))
      apply: on_create
    - target: active
      expression: Switch([IsSoftDeleted], , "False", "True", "True", "False")
    - target: displayName
      source: displayName
"#;

/// A user entry of the directory file, `displayName` `GIVEN SURNAME`.
struct Person<'a> {
    id: &'a str,
    nick: &'a str,
    given: &'a str,
    surname: &'a str,
}

impl Person<'_> {
    fn yaml(&self) -> String {
        let Person {
            id,
            nick,
            given,
            surname,
        } = self;
        format!(
            "  - objectId: {id}\n    userPrincipalName: {nick}@contoso.com\n    mailNickname: {nick}\n    givenName: {given}\n    surname: {surname}\n    displayName: {given} {surname}\n"
        )
    }
}

/// Zoë First and Adams Second, whose first candidates are `Zoe@contoso.com` and
/// `Adams@contoso.com`: the first two candidates of Zoë Adams.
fn holders() -> Vec<String> {
    vec![
        Person {
            id: "p1",
            nick: "zfirst",
            given: "Zoë",
            surname: "First",
        }
        .yaml(),
        Person {
            id: "p2",
            nick: "asecond",
            given: "Adams",
            surname: "Second",
        }
        .yaml(),
    ]
}

fn directory(users: &[String]) -> String {
    format!("users:\n{}", users.concat())
}

/// A target holding the first two candidates of Zoë Adams, created by a first cycle.
async fn target_with_holders() -> Harness {
    let h0 = Harness::new(JobFiles {
        directory: &directory(&holders()),
        ..JobFiles::default()
    })
    .await;
    let path = h0.dir.path().join("mapping.yaml");
    std::fs::write(&path, MAPPING).unwrap();
    let mut h = h0;
    h.set_mapping(&path);
    h.set_job_extra("scope: all\n", "");
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.created, 2);
    assert!(h.user("Zoe@contoso.com").is_some());
    assert!(h.user("Adams@contoso.com").is_some());
    h
}

const CHECKS: [&str; 3] = [
    "GET /Users?filter=userName+eq+%22Zoe%40contoso.com%22",
    "GET /Users?filter=userName+eq+%22Adams%40contoso.com%22",
    "GET /Users?filter=userName+eq+%22Zoe.Adams%40contoso.com%22",
];

#[tokio::test]
async fn select_unique_value_checks_each_candidate_in_the_target_before_the_create() {
    let mut h = target_with_holders().await;
    let mut users = holders();
    users.push(
        Person {
            id: "n1",
            nick: "zadams",
            given: "Zoë",
            surname: "Adams",
        }
        .yaml(),
    );
    h.set_directory(&directory(&users));

    // The dry run reads the server like the cycle; offline it cannot, and takes the first.
    let planned = h.plan().await;
    assert_eq!(planned.len(), 1, "{planned:?}");
    assert!(
        planned[0].contains(r#""userName":"Zoe.Adams@contoso.com""#),
        "{planned:?}"
    );
    let offline = h.plan_offline().await;
    assert_eq!(offline.len(), 1, "{offline:?}");
    assert!(
        offline[0].contains(r#""userName":"Zoe@contoso.com""#),
        "{offline:?}"
    );

    let (report, logs) = h.cycle().await;
    let mut expected = vec!["GET /Users?filter=externalId+eq+%22zadams%22".to_string()];
    expected.extend(CHECKS.iter().map(|c| c.to_string()));
    expected.push("POST /Users".to_string());
    assert_eq!(h.requests(), expected);
    let post = h.bodies().pop().unwrap();
    assert_eq!(post["userName"], "Zoe.Adams@contoso.com");
    assert_eq!(report.counts.created, 1);
    let created = logs.iter().find(|l| l.source_identity.id == "n1").unwrap();
    let user_name = created
        .modified_properties
        .iter()
        .find(|p| p.display_name == "userName")
        .unwrap();
    assert_eq!(
        user_name.new_value.as_deref(),
        Some("Zoe.Adams@contoso.com")
    );

    // A later update never asks again: the value is kept as created.
    let mut users = holders();
    users.push(
        Person {
            id: "n1",
            nick: "zadams",
            given: "Zoë",
            surname: "Adams",
        }
        .yaml()
        .replace("displayName: Zoë Adams", "displayName: Zoë A."),
    );
    h.set_directory(&directory(&users));
    let (report, _) = h.cycle().await;
    assert_eq!(report.counts.updated, 1);
    assert_eq!(
        h.requests(),
        vec![
            "GET /Users/{Zoe.Adams@contoso.com}",
            "PATCH /Users/{Zoe.Adams@contoso.com}"
        ]
    );
    assert!(
        !h.bodies()[1].to_string().contains("userName"),
        "{:?}",
        h.bodies()
    );
}

#[tokio::test]
async fn select_unique_value_with_every_candidate_taken_fails_the_entry_and_escrows_it() {
    let mut h = target_with_holders().await;
    let mut users = holders();
    users.push(
        Person {
            id: "n1",
            nick: "zadams",
            given: "Zoë",
            surname: "Adams",
        }
        .yaml(),
    );
    h.set_directory(&directory(&users));
    h.cycle().await;
    assert!(h.user("Zoe.Adams@contoso.com").is_some());

    users.push(
        Person {
            id: "n2",
            nick: "zadams2",
            given: "Zoë",
            surname: "Adams",
        }
        .yaml(),
    );
    h.set_directory(&directory(&users));
    let (report, logs) = h.cycle().await;
    let mut expected = vec!["GET /Users?filter=externalId+eq+%22zadams2%22".to_string()];
    expected.extend(CHECKS.iter().map(|c| c.to_string()));
    assert_eq!(h.requests(), expected, "no create is sent");
    assert_eq!(report.escrowed, 1);
    let failed = logs.iter().find(|l| l.source_identity.id == "n2").unwrap();
    let info = failed
        .provisioning_status_info
        .error_information
        .as_ref()
        .unwrap();
    assert!(
        info.reason.contains(
            "SelectUniqueValue: every candidate already exists in the target: Zoe@contoso.com, Adams@contoso.com, Zoe.Adams@contoso.com"
        ),
        "{}",
        info.reason
    );
    assert_eq!(
        failed.provisioning_action,
        entra_sim::provlog::ProvisioningAction::Create
    );
}

#[tokio::test]
async fn provision_on_demand_checks_the_candidates_too() {
    let mut h = target_with_holders().await;
    let mut users = holders();
    users.push(
        Person {
            id: "n1",
            nick: "zadams",
            given: "Zoë",
            surname: "Adams",
        }
        .yaml(),
    );
    h.set_directory(&directory(&users));
    h.close_store();
    h.target.clear_requests();
    let run = Test::new()
        .args([
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--user",
            "zadams@contoso.com",
        ])
        .current_dir(h.dir.path())
        .run_async()
        .await;
    run.status(0);
    let requests = h.requests();
    for check in CHECKS {
        assert!(requests.iter().any(|r| r == check), "{requests:?}");
    }
    assert!(h.user("Zoe.Adams@contoso.com").is_some(), "{requests:?}");
}
