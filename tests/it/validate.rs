//! `entra-sim validate`: one test per class of bad input, each asserting the exact
//! `file:line:column: field: message` lines and the exit code, plus the JSON shape, the summary of a
//! valid job and problems of several files reported together.

use crate::fixture::Fixture;
use crate::support::{Output, Test};

const JOB: &str = "\
directory: dir.yaml
mapping: map.yaml
target:
  url: http://127.0.0.1:8080/scim/v2
  token_env: ENTRA_SIM_TOKEN
assignments:
  - principal: Sales
";

const DIRECTORY: &str = "\
users:
  - objectId: u1
    userPrincipalName: adele@contoso.com
    mail: adele@contoso.com
    department: Sales
  - objectId: u2
    userPrincipalName: ben@contoso.com
    manager: adele@contoso.com
groups:
  - objectId: g1
    displayName: Sales
    members: [adele@contoso.com, u2]
";

const MAPPING: &str = "\
users:
  scoping:
    - clauses:
        - {attribute: department, operator: EQUALS, value: Sales}
  attributes:
    - target: userName
      source: userPrincipalName
      matching: 1
    - target: emails[type eq \"work\"].value
      source: mail
    - target: displayName
      expression: Join(\" \", [givenName], [surname])
groups:
  attributes:
    - target: displayName
      source: displayName
      matching: 1
    - target: members
      source: members
";

/// Runs `validate` on the baseline fixture with `edits` applied: `(file, from, to)` replacements.
fn validate(edits: &[(&str, &str, &str)], json: bool) -> Output {
    validate_with(edits, if json { &["--json"] } else { &[] })
}

/// [`validate`] with these flags.
fn validate_with(edits: &[(&str, &str, &str)], flags: &[&str]) -> Output {
    let fixture = Fixture::new();
    for (name, base) in [
        ("job.yaml", JOB),
        ("dir.yaml", DIRECTORY),
        ("map.yaml", MAPPING),
    ] {
        let mut text = base.to_owned();
        for (file, from, to) in edits {
            if *file == name {
                assert!(text.contains(from), "{name} has no {from:?}");
                text = text.replacen(from, to, 1);
            }
        }
        fixture.write(name, &text);
    }
    let mut args = vec!["validate", "--job", "job.yaml"];
    args.extend(flags);
    fixture.test().args(&args).run()
}

/// The problem lines (an expression error's caret drawing is indented and left out).
fn problem_lines(run: &Output) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .collect()
}

fn assert_problems(edits: &[(&str, &str, &str)], expected: &[&str]) {
    let run = validate(edits, false);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(problem_lines(&run), expected, "{run:?}");
    let files: std::collections::BTreeSet<&str> = expected
        .iter()
        .filter_map(|l| l.split(':').next())
        .collect();
    let count = expected.len();
    let summary = format!(
        "{count} problem{} in {} file{}",
        if count == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    assert!(run.stderr.contains(&summary), "{run:?}");
}

#[test]
fn a_valid_job_prints_one_summary_line() {
    let run = validate(&[], false);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "job.yaml: valid (dir.yaml: 2 users, 1 groups; map.yaml: 3 user and 2 group attribute mappings)\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn every_shipped_job_is_valid() {
    for job in [
        "sample",
        "uni-tel",
        "unifi",
        "uniflow-online",
        "unity-cloud",
    ] {
        let path = format!("jobs/{job}.yaml");
        let run = Test::new().args(["validate", "--job", &path]).run();
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.starts_with(&format!("{path}: valid (")),
            "{run:?}"
        );
    }
}

#[test]
fn json_lists_every_problem_as_objects() {
    let run = validate(
        &[
            ("dir.yaml", "    mail: adele", "    mial: adele"),
            ("map.yaml", "source: mail\n", "source: mial\n"),
        ],
        true,
    );
    assert_eq!(run.code, 3, "{run:?}");
    let problems: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        problems,
        serde_json::json!([
            {
                "file": "dir.yaml",
                "line": 4,
                "column": 5,
                "field": "users[0].mial",
                "message": "unknown field \"mial\" (did you mean \"mail\"?)",
                "severity": "error"
            },
            {
                "file": "map.yaml",
                "line": 10,
                "column": 15,
                "field": "users.attributes[1].source",
                "message": "unknown source attribute \"mial\" (did you mean \"mail\"?)",
                "severity": "error"
            }
        ])
    );
    let run = validate(&[], true);
    assert_eq!((run.code, run.stdout.as_str()), (0, "[]\n"), "{run:?}");
}

#[test]
fn a_missing_job_file_is_a_problem_too() {
    let fixture = Fixture::new();
    let run = fixture
        .test()
        .args(["validate", "--job", "nowhere.yaml"])
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .starts_with("nowhere.yaml:1:1: cannot read job file nowhere.yaml: "),
        "{run:?}"
    );
}

#[test]
fn unknown_job_key_still_checks_the_directory_and_mapping() {
    assert_problems(
        &[
            ("job.yaml", "assignments:", "asignments:"),
            ("dir.yaml", "    mail: adele", "    mial: adele"),
            ("map.yaml", "[surname]", "[surnam]"),
        ],
        &[
            "job.yaml:6:1: unknown field `asignments`, expected one of `directory`, `mapping`, `target`, `scope`, `app_roles`, `assignments`, `settings`, `tenant_id`, `service_principal`",
            "dir.yaml:4:5: users[0].mial: unknown field \"mial\" (did you mean \"mail\"?)",
            "map.yaml:12:42: users.attributes[2].expression: unknown source attribute \"surnam\" (did you mean \"surname\"?)",
        ],
    );
}

#[test]
fn unreadable_directory_is_located_at_the_job_field() {
    assert_problems(
        &[("job.yaml", "directory: dir.yaml", "directory: gone.yaml")],
        &[
            "job.yaml:1:12: directory: cannot read gone.yaml: No such file or directory (os error 2)",
        ],
    );
}

#[test]
fn bad_tenant_url() {
    assert_problems(
        &[(
            "job.yaml",
            "http://127.0.0.1:8080/scim/v2",
            "ftp://127.0.0.1/scim",
        )],
        &[
            "job.yaml:4:8: target.url: tenant URL `ftp://127.0.0.1/scim` must start with https:// (or http:// for a local server)",
        ],
    );
}

#[test]
fn unknown_directory_attribute() {
    assert_problems(
        &[(
            "dir.yaml",
            "    department: Sales",
            "    departement: Sales",
        )],
        &[
            "dir.yaml:5:5: users[0].departement: unknown field \"departement\" (did you mean \"department\"?)",
        ],
    );
}

#[test]
fn unknown_source_attribute() {
    assert_problems(
        &[("map.yaml", "source: userPrincipalName", "source: upn")],
        &["map.yaml:7:15: users.attributes[0].source: unknown source attribute \"upn\""],
    );
}

#[test]
fn invalid_scim_target_path() {
    assert_problems(
        &[(
            "map.yaml",
            "target: emails[type eq \"work\"].value",
            "target: emails[type eq \"work\".value",
        )],
        &[
            "map.yaml:9:36: users.attributes[1].target: invalid SCIM path `emails[type eq \"work\".value`: expected `]`",
        ],
    );
}

#[test]
fn expression_that_does_not_parse() {
    assert_problems(
        &[(
            "map.yaml",
            "[givenName], [surname])",
            "[givenName], [surname]",
        )],
        &[
            "map.yaml:12:51: users.attributes[2].expression: expected ',' or ')', found the end of the expression at line 1, column 33",
        ],
    );
}

#[test]
fn regexes_that_do_not_compile() {
    assert_problems(
        &[
            (
                "map.yaml",
                "Join(\" \", [givenName], [surname])",
                "Replace([mail], , \"([a-z\", , \"\", , )",
            ),
            (
                "map.yaml",
                "operator: EQUALS, value: Sales",
                "operator: REGEX MATCH, value: \"(Sales\"",
            ),
        ],
        &[
            "map.yaml:4:65: users.scoping[0].clauses[0].value: invalid regular expression: Parsing error at position 6: Opening parenthesis without closing parenthesis",
            "map.yaml:12:37: users.attributes[2].expression: invalid regular expression \"([a-z\": Parsing error at position 5: Invalid character class at line 1, column 19",
        ],
    );
}

#[test]
fn duplicate_matching_precedence() {
    assert_problems(
        &[(
            "map.yaml",
            "      source: mail\n",
            "      source: mail\n      matching: 1\n",
        )],
        &[
            "map.yaml:11:17: users.attributes[1].matching: matching precedence 1 is already used by users.attributes[0]",
        ],
    );
}

#[test]
fn missing_matching_attribute() {
    assert_problems(
        &[(
            "map.yaml",
            "      source: userPrincipalName\n      matching: 1\n",
            "      source: userPrincipalName\n",
        )],
        &[
            "map.yaml:6:5: users.attributes: no attribute has `matching`; at least one matching attribute is required",
        ],
    );
}

#[test]
fn select_unique_value_on_a_matching_attribute() {
    // Microsoft's function reference: it "cannot be applied to attributes that have a matching
    // precedence" (a new object is matched before its unique value is picked).
    assert_problems(
        &[(
            "map.yaml",
            "      source: userPrincipalName\n",
            "      expression: SelectUniqueValue([mail], [userPrincipalName])\n",
        )],
        &[
            "map.yaml:6:7: users.attributes[0].matching: SelectUniqueValue cannot be used on a matching attribute (matching: 1); match on another attribute",
        ],
    );
}

#[test]
fn two_mappings_to_the_same_target() {
    assert_problems(
        &[(
            "map.yaml",
            "target: displayName\n      expression",
            "target: UserName\n      expression",
        )],
        &[
            "map.yaml:11:15: users.attributes[2].target: target \"UserName\" is already mapped by users.attributes[0] (as \"userName\")",
        ],
    );
}

#[test]
fn members_with_groups_disabled_is_a_warning() {
    let run = validate(
        &[("map.yaml", "groups:\n", "groups:\n  enabled: false\n")],
        false,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("job.yaml: valid ("), "{run:?}");
    assert_eq!(
        run.stderr,
        "warning: map.yaml:19:7: groups.attributes[1]: `members` is mapped but groups are disabled (`enabled: false`), so no membership is provisioned\n"
    );
}

#[test]
fn problems_of_every_file_are_reported_together() {
    assert_problems(
        &[
            (
                "job.yaml",
                "token_env: ENTRA_SIM_TOKEN",
                "token_env: ENTRA_SIM_TOKEN\n  token: inline",
            ),
            ("dir.yaml", "    userPrincipalName: ben@contoso.com\n", ""),
            (
                "map.yaml",
                "source: mail\n",
                "source: mail\n      matching: 0\n",
            ),
            ("map.yaml", "source: members", "source: member"),
        ],
        &[
            "job.yaml:4:3: target: exactly one of token_env, token_file, token, oauth or entra_jwt is required (found token_env and token)",
            // ben is left out of the directory, so the group's reference to him is a warning.
            "dir.yaml:6:5: users[1].userPrincipalName: missing required field",
            "map.yaml:11:17: users.attributes[1].matching: matching precedence must be an integer ≥ 1, found 0",
            "map.yaml:20:15: groups.attributes[1].source: unknown source attribute \"member\" (did you mean \"members\"?)",
        ],
    );
}

/// Issue 15: in Entra, deleting a user removes its memberships, manager links and app role
/// assignments. Adele is deleted from the directory while Ben's manager and the group still
/// name her: warnings, and the job is valid.
const DELETE_ADELE: (&str, &str, &str) = (
    "dir.yaml",
    "  - objectId: u1\n    userPrincipalName: adele@contoso.com\n    mail: adele@contoso.com\n    department: Sales\n",
    "",
);

const ADELE_WARNINGS: [&str; 2] = [
    "dir.yaml:4:14: users[0].manager: \"adele@contoso.com\" names no user or group; treated as deleted",
    "dir.yaml:8:15: groups[0].members[0]: \"adele@contoso.com\" names no user or group; treated as deleted",
];

#[test]
fn references_to_a_deleted_user_are_warnings() {
    let run = validate(&[DELETE_ADELE], false);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "job.yaml: valid (dir.yaml: 1 users, 1 groups; map.yaml: 3 user and 2 group attribute mappings)\n"
    );
    let expected: Vec<String> = ADELE_WARNINGS
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    assert_eq!(run.stderr.lines().collect::<Vec<_>>(), expected, "{run:?}");
}

#[test]
fn json_gives_each_problem_a_severity() {
    let run = validate(
        &[
            DELETE_ADELE,
            ("map.yaml", "source: mail\n", "source: mial\n"),
        ],
        true,
    );
    assert_eq!(run.code, 3, "{run:?}");
    let problems: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        problems,
        serde_json::json!([
            {
                "file": "map.yaml",
                "line": 10,
                "column": 15,
                "field": "users.attributes[1].source",
                "message": "unknown source attribute \"mial\" (did you mean \"mail\"?)",
                "severity": "error"
            },
            {
                "file": "dir.yaml",
                "line": 4,
                "column": 14,
                "field": "users[0].manager",
                "message": "\"adele@contoso.com\" names no user or group; treated as deleted",
                "severity": "warning"
            },
            {
                "file": "dir.yaml",
                "line": 8,
                "column": 15,
                "field": "groups[0].members[0]",
                "message": "\"adele@contoso.com\" names no user or group; treated as deleted",
                "severity": "warning"
            }
        ])
    );
    assert_eq!(run.stderr, "", "{run:?}");
    let run = validate(&[DELETE_ADELE], true);
    assert_eq!(run.code, 0, "{run:?}");
    let problems: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        problems.iter().all(|p| p["severity"] == "warning") && problems.len() == 2,
        "{run:?}"
    );
}

#[test]
fn strict_makes_warnings_errors() {
    let run = validate_with(
        &[
            DELETE_ADELE,
            ("job.yaml", "principal: Sales", "principal: Marketing"),
        ],
        &["--strict"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let mut expected = vec![
        "job.yaml:7:16: assignments[0].principal: \"Marketing\" names no user or group; treated as deleted",
    ];
    expected.extend(ADELE_WARNINGS);
    assert_eq!(problem_lines(&run), expected, "{run:?}");
    assert_eq!(run.stderr, "3 problems in 2 files\n", "{run:?}");

    let run = validate_with(&[DELETE_ADELE], &["--strict", "--json"]);
    assert_eq!(run.code, 3, "{run:?}");
    let problems: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        problems.iter().all(|p| p["severity"] == "error") && problems.len() == 2,
        "{run:?}"
    );
}

#[test]
fn a_reference_close_to_a_name_is_reported_as_a_likely_typo() {
    let run = validate(
        &[
            ("job.yaml", "principal: Sales", "principal: Sals"),
            (
                "dir.yaml",
                "manager: adele@contoso.com",
                "manager: adel@contoso.com",
            ),
        ],
        false,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        [
            "warning: job.yaml:7:16: assignments[0].principal: \"Sals\" names no user or group (did you mean \"Sales\"?)",
            "warning: dir.yaml:8:14: users[1].manager: \"adel@contoso.com\" names no user or group (did you mean \"adele@contoso.com\"?)",
        ],
        "{run:?}"
    );
    let run = validate_with(
        &[("job.yaml", "principal: Sales", "principal: Sals")],
        &["--strict"],
    );
    assert_eq!(run.code, 3, "{run:?}");
}

/// Item 4 of issue 15: "User" is a role every app has; a misspelt role is still a problem, with
/// the built-in roles among the names suggested.
#[test]
fn built_in_roles_need_no_declaration_and_misspelt_ones_are_problems() {
    let run = validate(
        &[(
            "job.yaml",
            "principal: Sales",
            "principal: Sales\n    role: User",
        )],
        false,
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    assert_problems(
        &[(
            "job.yaml",
            "principal: Sales",
            "principal: Sales\n    role: Usr",
        )],
        &[
            "job.yaml:8:11: assignments[0].role: no app role with value \"Usr\" among app_roles and the built-in roles User, msiam_access and Default Access (did you mean \"User\"?)",
        ],
    );
}

/// `levels` block mappings nested under `key:` (each indented two more columns than the last).
fn nested(indent: usize, levels: usize) -> String {
    let mut text = String::new();
    for i in 0..levels {
        text.push_str(&format!("\n{}k{i}:", " ".repeat(indent + 2 * (i + 1))));
    }
    text.push_str(" v");
    text
}

/// Issue 18 item 9: a file nested thousands of levels deep overflowed the stack (exit 134); every
/// file kind now stops at 100 levels with a located problem.
#[test]
fn nesting_too_deep_is_a_located_problem_in_every_file_kind() {
    let message = "collections nest deeper than 100 levels here; no job, mapping or directory needs that many";
    let cases = [
        (
            "dir.yaml",
            "department: Sales",
            format!("department:{}", nested(4, 3000)),
            "dir.yaml:103:",
        ),
        (
            "job.yaml",
            "assignments:",
            format!("extra:{}\nassignments:", nested(0, 3000)),
            "job.yaml:106:",
        ),
        (
            "map.yaml",
            "groups:",
            format!("extra:{}\ngroups:", nested(0, 3000)),
            "map.yaml:",
        ),
    ];
    for (file, from, to, at) in &cases {
        let run = validate(&[(file, from, to)], false);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(run.stdout.starts_with(at), "{run:?}");
        assert!(run.stdout.contains(message), "{run:?}");
    }

    // Flow collections, deeper than yaml-rust2's scanner takes.
    let flow = format!(
        "department: {}1{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let directory = validate(&[("dir.yaml", "department: Sales", &flow)], false);
    assert_eq!(directory.code, 3, "{directory:?}");
    assert!(directory.stdout.starts_with("dir.yaml:5:"), "{directory:?}");

    // JSON lines: serde_json's own limit, located at the line.
    let fixture = Fixture::new();
    fixture.write("job.yaml", &JOB.replace("dir.yaml", "dir.jsonl"));
    fixture.write("map.yaml", MAPPING);
    fixture.write(
        "dir.jsonl",
        &format!(
            "{{\"user\":{{\"objectId\":\"u1\",\"userPrincipalName\":\"a@contoso.com\",\"department\":{}1{}}}}}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    let jsonl = fixture.test().args(["validate", "--job", "job.yaml"]).run();
    assert_eq!(jsonl.code, 3, "{jsonl:?}");
    assert!(jsonl.stdout.starts_with("dir.jsonl:1:"), "{jsonl:?}");
    assert!(
        jsonl.stdout.contains("recursion limit exceeded"),
        "{jsonl:?}"
    );
}

/// `validate` with these edits must report exactly `expected` (exit 3) and nothing else: no
/// warning on stderr, only the summary.
fn assert_problems_alone(edits: &[(&str, &str, &str)], expected: &[&str]) {
    let run = validate(edits, false);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(problem_lines(&run), expected, "{run:?}");
    let count = expected.len();
    let summary = format!(
        "{count} problem{} in 1 file\n",
        if count == 1 { "" } else { "s" }
    );
    assert_eq!(run.stderr, summary, "{run:?}");
}

/// Issue 18 item 10: a duplicate objectId overwrote the lookup before it was detected, so a
/// manager naming the first user resolved to the next one ("cannot be their own manager"); a
/// duplicate UPN made the first user's UPN name nobody (warnings about a user who is there). The
/// first entry wins, and what names only the rejected entry is not reported a second time.
#[test]
fn a_duplicate_object_id_or_upn_is_reported_alone() {
    assert_problems_alone(
        &[
            (
                "dir.yaml",
                "  - objectId: u2\n",
                "  - objectId: u1\n    userPrincipalName: carl@contoso.com\n  - objectId: u2\n",
            ),
            ("dir.yaml", "manager: adele@contoso.com", "manager: u1"),
            ("dir.yaml", "u2]", "u2, carl@contoso.com]"),
            (
                "job.yaml",
                "  - principal: Sales\n",
                "  - principal: Sales\n  - principal: carl@contoso.com\n",
            ),
        ],
        &["dir.yaml:6:15: users[1].objectId: duplicate objectId \"u1\""],
    );
    assert_problems_alone(
        &[
            (
                "dir.yaml",
                "    manager: adele@contoso.com\n",
                "    manager: adele@contoso.com\n  - objectId: u3\n    userPrincipalName: Adele@contoso.com\n",
            ),
            ("dir.yaml", "u2]", "u2, u3]"),
            (
                "job.yaml",
                "  - principal: Sales\n",
                "  - principal: Sales\n  - principal: u3\n",
            ),
        ],
        &[
            "dir.yaml:10:24: users[2].userPrincipalName: duplicate userPrincipalName \"Adele@contoso.com\"",
        ],
    );
}

/// [`a_duplicate_object_id_or_upn_is_reported_alone`] for a JSON-lines directory.
#[test]
fn a_duplicate_in_json_lines_is_reported_alone() {
    let fixture = Fixture::new();
    fixture.write("job.yaml", &JOB.replace("dir.yaml", "dir.jsonl"));
    fixture.write("map.yaml", MAPPING);
    fixture.write(
        "dir.jsonl",
        concat!(
            "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"adele@contoso.com\",\"department\":\"Sales\"}}\n",
            "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"carl@contoso.com\"}}\n",
            "{\"user\":{\"objectId\":\"u2\",\"userPrincipalName\":\"ben@contoso.com\",\"manager\":\"u1\"}}\n",
            "{\"user\":{\"objectId\":\"u3\",\"userPrincipalName\":\"ADELE@contoso.com\"}}\n",
            "{\"user\":{\"objectId\":\"u4\",\"userPrincipalName\":\"dan@contoso.com\",\"manager\":\"adele@contoso.com\"}}\n",
            "{\"group\":{\"objectId\":\"g1\",\"displayName\":\"Sales\",\"members\":[\"adele@contoso.com\",\"u2\",\"carl@contoso.com\",\"u3\"]}}\n",
        ),
    );
    let run = fixture.test().args(["validate", "--job", "job.yaml"]).run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        problem_lines(&run),
        [
            "dir.jsonl:2:21: users[1].objectId: duplicate objectId \"u1\"",
            "dir.jsonl:4:46: users[3].userPrincipalName: duplicate userPrincipalName \"ADELE@contoso.com\"",
        ],
        "{run:?}"
    );
    assert_eq!(run.stderr, "2 problems in 1 file\n", "{run:?}");
}

/// Writes `name` in the fixture as `text` with its one `é` made the Latin-1 byte 0xE9.
fn write_latin1(fixture: &Fixture, name: &str, text: &str) {
    let (before, after) = text.split_once('é').expect("an é to spoil");
    let bytes = [before.as_bytes(), &[0xE9], after.as_bytes()].concat();
    std::fs::write(fixture.path().join(name), bytes).expect("write");
}

/// Issue 18 item 11: bytes that are not UTF-8 were reported at the job's `directory:` line (or at
/// the job file's 1:1), not where they are; now at the first bad byte's line and column (in
/// characters), for every file kind.
#[test]
fn bytes_that_are_not_utf8_are_located_at_the_first_bad_byte() {
    let directory = DIRECTORY.replace("department: Sales", "department: Sälés");
    let mapping = MAPPING.replace("value: Sales}", "value: Salés}");
    let job = JOB.replace("principal: Sales", "principal: Salés");
    let jsonl = "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"adele@contoso.com\"}}\n{\"user\":{\"objectId\":\"u2\",\"userPrincipalName\":\"ben@contoso.com\",\"city\":\"Zoë Béthune\"}}\n";
    // (the file spoilt, its text, the directory file the job names, the problem)
    let cases = [
        (
            "dir.yaml",
            directory.as_str(),
            "dir.yaml",
            "dir.yaml:5:20: the file is not UTF-8: invalid byte 0xE9",
        ),
        (
            "dir.jsonl",
            jsonl,
            "dir.jsonl",
            "dir.jsonl:2:77: the file is not UTF-8: invalid byte 0xE9",
        ),
        (
            "map.yaml",
            mapping.as_str(),
            "dir.yaml",
            "map.yaml:4:63: the file is not UTF-8: invalid byte 0xE9",
        ),
        (
            "job.yaml",
            job.as_str(),
            "dir.yaml",
            "job.yaml:7:19: the file is not UTF-8: invalid byte 0xE9",
        ),
    ];
    for (name, text, directory_file, expected) in cases {
        let fixture = Fixture::new();
        fixture.write("job.yaml", &JOB.replace("dir.yaml", directory_file));
        fixture.write("dir.yaml", DIRECTORY);
        fixture.write("map.yaml", MAPPING);
        write_latin1(&fixture, name, text);
        let run = fixture.test().args(["validate", "--job", "job.yaml"]).run();
        assert_eq!(run.code, 3, "{name}: {run:?}");
        assert_eq!(problem_lines(&run), [expected], "{name}: {run:?}");
        assert_eq!(run.stderr, "1 problem in 1 file\n", "{name}: {run:?}");
        // A cycle reads the directory its own way (for the fingerprint), to the same problem.
        let run = fixture.test().args(["cycle", "--job", "job.yaml"]).run();
        assert_eq!(run.code, 3, "{name}: {run:?}");
        assert!(
            run.stderr.contains(&format!("error: {expected}\n")),
            "{name}: {run:?}"
        );
    }
}
