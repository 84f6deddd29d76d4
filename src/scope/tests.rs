//! Scope tests: every operator with its null rules, verdicts, assignments, IsSoftDeleted and B2B.

use std::collections::BTreeMap;

use super::*;
use crate::directory::{Directory, MemberKind, MemberRef};
use crate::expr::{AppRole, Value};

fn attrs(value: Option<Value>) -> BTreeMap<String, Value> {
    value.into_iter().map(|v| ("a".to_owned(), v)).collect()
}

fn s(text: &str) -> Option<Value> {
    Some(Value::Str(text.to_owned()))
}

#[test]
fn every_operator_with_null_rules() {
    use ScopingOperator as Op;
    let missing = None;
    let empty = s("");
    let multi = Some(Value::Multi(vec!["x".to_owned()]));
    // (operator, clause value, attribute value, expected)
    let cases: Vec<(Op, Option<&str>, Option<Value>, bool)> = vec![
        (Op::Contains, Some("Sales,Marketing"), s("Sales"), true),
        (Op::Contains, Some("Sales,Marketing"), s("IT"), false),
        (Op::Contains, Some("Sales"), missing.clone(), false),
        (Op::Contains, Some("Sales"), empty.clone(), false),
        (Op::NotContains, Some("Sales,Marketing"), s("IT"), true),
        (Op::NotContains, Some("Sales,Marketing"), s("Sales"), false),
        (Op::NotContains, Some("Sales"), missing.clone(), false),
        (Op::EndsWith, Some("@contoso.com"), s("a@contoso.com"), true),
        (
            Op::EndsWith,
            Some("@contoso.com"),
            s("a@Contoso.com"),
            false,
        ),
        (Op::EndsWith, Some("x"), empty.clone(), false),
        (Op::Equals, Some("Sales"), s("Sales"), true),
        (Op::Equals, Some("Sales"), s("sales"), false),
        (Op::Equals, Some("Sales"), missing.clone(), false),
        (Op::NotEquals, Some("Sales"), s("sales"), true),
        (Op::NotEquals, Some("Sales"), s("Sales"), false),
        (Op::NotEquals, Some("Sales"), missing.clone(), false),
        (Op::NotEquals, Some("Sales"), empty.clone(), false),
        (Op::GreaterThan, Some("10"), s("11"), true),
        (Op::GreaterThan, Some("10"), s("10"), false),
        (Op::GreaterThan, Some("10"), s("abc"), false),
        (Op::GreaterThan, Some("10"), missing.clone(), false),
        (Op::GreaterThanOrEquals, Some("10"), s("10"), true),
        (Op::GreaterThanOrEquals, Some("10"), s("9"), false),
        (Op::GreaterThanOrEquals, Some("-1"), empty.clone(), false),
        (Op::Includes, Some("Eng"), s("Engineering"), true),
        (Op::Includes, Some("eng"), s("Engineering"), false),
        (Op::Includes, Some("x"), missing.clone(), false),
        (Op::IsTrue, None, s("True"), true),
        (Op::IsTrue, None, s("False"), false),
        (Op::IsTrue, None, missing.clone(), false),
        (Op::IsFalse, None, s("False"), true),
        (Op::IsFalse, None, s("True"), false),
        (Op::IsFalse, None, missing.clone(), false),
        (Op::IsNull, None, missing.clone(), true),
        (Op::IsNull, None, empty.clone(), true),
        (Op::IsNull, None, s("x"), false),
        (Op::IsNotNull, None, s("x"), true),
        (Op::IsNotNull, None, missing.clone(), false),
        (Op::IsNotNull, None, empty.clone(), false),
        (Op::RegexMatch, Some("([1-9][0-9])"), s("42"), true),
        (Op::RegexMatch, Some("([1-9][0-9])"), s("7"), false),
        (
            Op::RegexMatch,
            Some(r".*\@domain.com"),
            s("a@domain.com"),
            true,
        ),
        (Op::RegexMatch, Some("^a"), s("A"), false),
        (Op::RegexMatch, Some(".*"), missing.clone(), false),
        (Op::RegexMatch, Some(".*"), empty.clone(), false),
        (Op::NotRegexMatch, Some("^a"), s("b"), true),
        (Op::NotRegexMatch, Some("^a"), s("a"), false),
        (Op::NotRegexMatch, Some("^a"), missing.clone(), false),
        (Op::NotRegexMatch, Some("^a"), empty.clone(), false),
        (Op::Equals, Some("x"), multi.clone(), false),
        (Op::IsNull, None, multi, true),
    ];
    for (op, value, attribute, expected) in cases {
        let clause = ScopingClause::new("a", op, value.map(str::to_owned)).expect("valid clause");
        let got = clause.evaluate(&attrs(attribute.clone()));
        assert_eq!(got, expected, "{clause} on {attribute:?}");
    }
}

#[test]
fn operator_names_round_trip() {
    for op in ScopingOperator::ALL {
        assert_eq!(ScopingOperator::parse(op.name()), Some(op));
    }
    assert_eq!(
        ScopingOperator::parse("equals"),
        None,
        "names are case-sensitive"
    );
    assert_eq!(ScopingOperator::parse("STARTS_WITH"), None);
}

#[test]
fn clause_construction_errors() {
    use ScopingOperator as Op;
    let cases = [
        (Op::Equals, None, "operator EQUALS needs a value"),
        (Op::IsNull, Some("x"), "operator IS NULL takes no value"),
        (
            Op::GreaterThan,
            Some("ten"),
            "operator Greater_Than compares integers; \"ten\" is not an integer",
        ),
    ];
    for (op, value, message) in cases {
        let err = ScopingClause::new("a", op, value.map(str::to_owned)).expect_err("invalid");
        assert_eq!(err.to_string(), message);
    }
    assert!(matches!(
        ScopingClause::new("a", Op::RegexMatch, Some("(".to_owned())),
        Err(ClauseError::BadRegex(_))
    ));
}

#[test]
fn filters_and_within_or_across_with_verdicts() {
    use ScopingOperator as Op;
    let clause = |a: &str, op, v: Option<&str>| {
        ScopingClause::new(a, op, v.map(str::to_owned)).expect("valid")
    };
    let filters = vec![
        ScopingFilter {
            name: Some("Sales in Redmond".to_owned()),
            clauses: vec![
                clause("department", Op::Equals, Some("Sales")),
                clause("city", Op::Equals, Some("Redmond")),
            ],
        },
        ScopingFilter {
            name: None,
            clauses: vec![clause("jobTitle", Op::IsNotNull, None)],
        },
    ];
    let user: BTreeMap<String, Value> = [("department", "Sales"), ("city", "Paris")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::Str(v.to_owned())))
        .collect();
    let evaluation = evaluate(&filters, &user);
    assert!(!evaluation.in_scope);
    assert_eq!(evaluation.in_scope, in_scope(&filters, &user));
    let lines: Vec<String> = evaluation
        .filters
        .iter()
        .flat_map(|f| f.clauses.iter().map(ToString::to_string))
        .collect();
    assert_eq!(
        lines,
        [
            "department EQUALS Sales → true",
            "city EQUALS Redmond → false",
            "jobTitle IS NOT NULL → false"
        ]
    );
    let mut titled = user.clone();
    titled.insert("jobTitle".to_owned(), Value::Str("AE".to_owned()));
    assert!(in_scope(&filters, &titled), "second filter ORs in");
    assert!(evaluate(&filters, &titled).in_scope);
    assert!(in_scope(&[], &user), "no filter: everyone in scope");
}

const DIRECTORY: &str = "users:
  - {objectId: u1, userPrincipalName: direct@x.com}
  - {objectId: u2, userPrincipalName: member@x.com}
  - {objectId: u3, userPrincipalName: nested@x.com}
  - {objectId: u4, userPrincipalName: both@x.com}
  - {objectId: u5, userPrincipalName: nobody@x.com}
groups:
  - {objectId: g1, displayName: Outer, members: [u2, u4, Inner]}
  - {objectId: g2, displayName: Inner, members: [u3]}
";

fn role(value: &str) -> AppRole {
    AppRole {
        id: format!("id-{value}"),
        value: value.to_owned(),
        display_name: value.to_owned(),
    }
}

#[test]
fn assignment_semantics() {
    let dir = Directory::parse("d.yaml", DIRECTORY).expect("valid");
    let user = |id: &str| MemberRef {
        object_id: id.to_owned(),
        kind: MemberKind::User,
    };
    let group = |id: &str| MemberRef {
        object_id: id.to_owned(),
        kind: MemberKind::Group,
    };
    let assignments = vec![
        AppAssignment {
            principal: user("u1"),
            role: role("Admin"),
        },
        AppAssignment {
            principal: group("g1"),
            role: role("User"),
        },
        AppAssignment {
            principal: user("u4"),
            role: role("Admin"),
        },
        AppAssignment {
            principal: user("u4"),
            role: role("User"),
        },
    ];
    let index = AssignmentIndex::new(&assignments, &dir);
    let values = |a: &Assignment| a.roles.iter().map(|r| r.value.clone()).collect::<Vec<_>>();
    let cases: [(&str, ScopeMode, bool, &[&str]); 8] = [
        ("u1", ScopeMode::Assigned, true, &["Admin"]),
        ("u2", ScopeMode::Assigned, true, &["User"]),
        ("u3", ScopeMode::Assigned, false, &[]),
        ("u4", ScopeMode::Assigned, true, &["User", "Admin"]),
        ("u5", ScopeMode::Assigned, false, &[]),
        ("u3", ScopeMode::All, true, &[]),
        ("u5", ScopeMode::All, true, &[]),
        ("u2", ScopeMode::All, true, &["User"]),
    ];
    for (id, mode, assigned, roles) in cases {
        let a = index.user(id, mode);
        assert_eq!(
            (a.assigned, values(&a)),
            (assigned, roles.iter().map(|r| (*r).to_owned()).collect()),
            "{id} {mode:?}"
        );
    }
    assert!(index.group("g1", ScopeMode::Assigned).assigned);
    assert!(
        !index.group("g2", ScopeMode::Assigned).assigned,
        "nested group is not assigned through its parent"
    );
    assert!(index.group("g2", ScopeMode::All).assigned);
}

#[test]
fn is_soft_deleted_rules() {
    let text = "users:
  - {objectId: u1, userPrincipalName: a@x.com}
  - {objectId: u2, userPrincipalName: b@x.com, accountEnabled: false}
  - {objectId: u3, userPrincipalName: c@x.com, softDeleted: true}
";
    let dir = Directory::parse("d.yaml", text).expect("valid");
    let cases = [
        ("u1", true, false),
        ("u1", false, true),
        ("u2", true, true),
        ("u3", true, true),
    ];
    for (id, in_scope, expected) in cases {
        let user = dir.user(id).expect("user");
        assert_eq!(
            is_soft_deleted(user, in_scope),
            expected,
            "{id} in_scope={in_scope}"
        );
    }
}

#[test]
fn b2b_rewriting() {
    let cases = [
        (
            "alias_theirdomain.com#EXT#@contoso.onmicrosoft.com",
            Some("alias@theirdomain.com"),
        ),
        (
            "first_last_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            Some("first_last@fabrikam.com"),
        ),
        (
            "alias_theirdomain.com#ext#@contoso.onmicrosoft.com",
            Some("alias@theirdomain.com"),
        ),
        ("plain@contoso.com", None),
        ("nounderscore#EXT#@contoso.onmicrosoft.com", None),
    ];
    for (upn, expected) in cases {
        assert_eq!(b2b_upn(upn).as_deref(), expected, "{upn}");
    }
    let text = "users:\n  - {objectId: g, userPrincipalName: \"sam_fabrikam.com#EXT#@contoso.onmicrosoft.com\"}\n";
    let dir = Directory::parse("d.yaml", text).expect("valid");
    let guest = dir.user("g").expect("guest");
    let attrs = user_source_attributes(guest, &[role("User")], false);
    let get = |k: &str| attrs.get(k).cloned();
    assert_eq!(get("userPrincipalName"), s("sam@fabrikam.com"));
    assert_eq!(
        get("originalUserPrincipalName"),
        s("sam_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    );
    assert_eq!(get("IsSoftDeleted"), s("False"));
    assert_eq!(
        get("appRoleAssignments"),
        Some(Value::Roles(vec![role("User")]))
    );
    assert_eq!(
        guest.attrs.get("userPrincipalName").cloned(),
        s("sam_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
        "directory keeps the raw UPN"
    );
}
