//! Mapping loading: the shipped files, fingerprints, the expression hook and every class of bad
//! input with its exact location.

use super::*;

const SHIPPED: [(&str, &str); 5] = [
    (
        "mappings/scim-default.yaml",
        include_str!("../../mappings/scim-default.yaml"),
    ),
    (
        "mappings/unifi.yaml",
        include_str!("../../mappings/unifi.yaml"),
    ),
    (
        "mappings/uniflow-online.yaml",
        include_str!("../../mappings/uniflow-online.yaml"),
    ),
    (
        "mappings/uni-tel.yaml",
        include_str!("../../mappings/uni-tel.yaml"),
    ),
    (
        "mappings/unity-cloud.yaml",
        include_str!("../../mappings/unity-cloud.yaml"),
    ),
];

fn parse_ok(file: &str, text: &str) -> Mapping {
    match Mapping::parse(file, text) {
        Ok(m) => m,
        Err(problems) => panic!("{problems}"),
    }
}

#[test]
fn shipped_mappings_load() {
    for (file, text) in SHIPPED {
        let mapping = parse_ok(file, text);
        assert_eq!(
            mapping
                .users
                .matching_attributes()
                .first()
                .map(|a| a.target.as_str()),
            Some("userName"),
            "{file}"
        );
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("# yaml-language-server: $schema=../schemas/mapping.schema.json"),
            "{file} names its schema"
        );
        assert!(
            lines.next().is_some_and(|l| l.starts_with("# App: ")),
            "{file} names its app"
        );
    }
    let default = parse_ok("d", SHIPPED[0].1);
    assert_eq!(default.users.attributes.len(), 22);
    let groups = default.groups.as_ref().expect("group mapping");
    assert_eq!(
        groups
            .attributes
            .iter()
            .map(|a| a.target.as_str())
            .collect::<Vec<_>>(),
        ["displayName", "externalId", "members"]
    );
    assert_eq!(default.object_mappings().count(), 2);
    let disabled_groups = SHIPPED[1]
        .1
        .replace("groups:\n", "groups:\n  enabled: false\n");
    assert_eq!(
        parse_ok("g", &disabled_groups).object_mappings().count(),
        1,
        "a disabled Groups mapping is skipped"
    );
    let uniflow = parse_ok("u", SHIPPED[2].1);
    assert!(uniflow.groups.is_none());
    assert!(uniflow.users.attributes.iter().any(|a| {
        a.target.ends_with("uniFLOWOnline:2.0:User:localUsername")
            && a.source == MappingSource::Direct("mailNickname".to_owned())
    }));
}

const SMALL: &str = "# comment
users:
  scoping:
    - name: Sales
      clauses:
        - {attribute: department, operator: EQUALS, value: Sales}
  attributes:
    - target: userName
      source: userPrincipalName
      matching: 1
    - target: active
      expression: |
        Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")
    - target: nickName
      none: true
      default: x
      apply: on_create
      case_exact: true
";

#[test]
fn properties_and_expression_locations() {
    let mapping = parse_ok("m.yaml", SMALL);
    let users = &mapping.users;
    assert_eq!(
        users.actions,
        TargetActions {
            create: true,
            update: true,
            delete: true
        }
    );
    assert_eq!(users.scoping.first().map(|f| f.clauses.len()), Some(1));
    let active = users.attributes.get(1).expect("active");
    match &active.source {
        MappingSource::Expression(e) => {
            assert_eq!(
                e.text,
                "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")"
            );
            assert_eq!(
                e.location,
                Location {
                    line: 13,
                    column: 9
                }
            );
            assert_eq!(e.field, "users.attributes[1].expression");
        }
        other => panic!("{other:?}"),
    }
    let nick = users.attributes.get(2).expect("nickName");
    assert_eq!(
        (
            &nick.source,
            nick.default.as_deref(),
            nick.apply,
            nick.case_exact
        ),
        (
            &MappingSource::None,
            Some("x"),
            FlowType::ObjectAddOnly,
            true
        )
    );
    assert_eq!(
        nick.location,
        Location {
            line: 14,
            column: 7
        }
    );
    let err = mapping
        .check_expressions(|text| {
            if text.starts_with("Switch") {
                Err("unexpected token ','".to_owned())
            } else {
                Ok(())
            }
        })
        .expect_err("hook error");
    assert_eq!(
        err.to_string(),
        "m.yaml:13:9: users.attributes[1].expression: unexpected token ','"
    );
    assert!(mapping.check_expressions(|_| Ok(())).is_ok());
}

#[test]
fn fingerprint_ignores_layout_and_sees_changes() {
    let base = parse_ok("a", SMALL).fingerprint();
    assert_eq!(base.len(), 16);
    let reformatted = SMALL.replace("# comment\n", "# another comment\n\n").replace("      clauses:\n        - {attribute: department, operator: EQUALS, value: Sales}", "      clauses:\n        - attribute: department\n          value: Sales\n          operator: EQUALS");
    assert_eq!(parse_ok("b", &reformatted).fingerprint(), base);
    let explicit_defaults =
        SMALL.replace("users:\n", "users:\n  actions: [create, update, delete]\n");
    assert_eq!(parse_ok("c", &explicit_defaults).fingerprint(), base);
    for changed in [
        SMALL.replace("value: Sales", "value: sales"),
        SMALL.replace("matching: 1", "matching: 2"),
        SMALL.replace("case_exact: true", "case_exact: false"),
        SMALL.replace("users:\n", "users:\n  actions: [create, update]\n"),
    ] {
        assert_ne!(parse_ok("d", &changed).fingerprint(), base, "{changed}");
    }
}

#[test]
fn bad_inputs_are_located() {
    let head = "users:\n  attributes:\n    - target: userName\n      source: userPrincipalName\n      matching: 1\n";
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "malformed YAML",
            "users:\n  attributes: [\n".to_owned(),
            vec![
                "x.yaml:3:1: malformed YAML: did not find expected node content, while parsing a flow node",
            ],
        ),
        (
            "unknown field",
            format!("{head}    - target: a\n      sorce: mail\n"),
            vec![
                "x.yaml:7:7: users.attributes[1]: unknown field `sorce`, expected one of `target`, `source`, `constant`, `expression`, `none`, `default`, `matching`, `apply`, `case_exact`",
            ],
        ),
        (
            "unknown source attribute",
            format!("{head}    - target: emails[type eq \"work\"].value\n      source: mial\n"),
            vec![
                "x.yaml:7:15: users.attributes[1].source: unknown source attribute \"mial\" (did you mean \"mail\"?)",
            ],
        ),
        (
            "group-only source on users",
            format!("{head}    - target: members\n      source: members\n"),
            vec![
                "x.yaml:7:15: users.attributes[1].source: source attribute \"members\" exists on groups, not on users",
            ],
        ),
        (
            "both source and constant",
            format!("{head}    - target: title\n      source: jobTitle\n      constant: Boss\n"),
            vec![
                "x.yaml:6:7: users.attributes[1]: exactly one of `source`, `constant`, `expression` or `none: true` is required (found source and constant)",
            ],
        ),
        (
            "duplicate matching precedence",
            format!(
                "{head}    - target: externalId\n      source: mailNickname\n      matching: 1\n"
            ),
            vec![
                "x.yaml:8:17: users.attributes[1].matching: matching precedence 1 is already used by users.attributes[0]",
            ],
        ),
        (
            "missing matching attribute",
            "users:\n  attributes:\n    - target: userName\n      source: userPrincipalName\n"
                .to_owned(),
            vec![
                "x.yaml:3:5: users.attributes: no attribute has `matching`; at least one matching attribute is required",
            ],
        ),
        (
            "bad operator",
            format!(
                "users:\n  scoping:\n    - clauses:\n        - attribute: department\n          operator: EQUAL\n          value: Sales\n{}",
                &head[7..]
            ),
            vec![
                "x.yaml:5:21: users.scoping[0].clauses[0].operator: unknown operator \"EQUAL\" (did you mean \"EQUALS\"?)",
            ],
        ),
        (
            "unsupported operator",
            format!(
                "users:\n  scoping:\n    - clauses:\n        - {{attribute: department, operator: STARTS_WITH, value: S}}\n{}",
                &head[7..]
            ),
            vec![
                "x.yaml:4:45: users.scoping[0].clauses[0].operator: operator \"STARTS_WITH\" is not supported by Entra scoping filters",
            ],
        ),
        (
            "bad regex",
            format!(
                "users:\n  scoping:\n    - clauses:\n        - attribute: mail\n          operator: REGEX MATCH\n          value: \"([a-z]\"\n{}",
                &head[7..]
            ),
            vec![
                "x.yaml:6:18: users.scoping[0].clauses[0].value: invalid regular expression: Parsing error at position 6: Opening parenthesis without closing parenthesis",
            ],
        ),
        (
            "multi-valued scoping attribute",
            format!(
                "users:\n  scoping:\n    - clauses:\n        - {{attribute: proxyAddresses, operator: IS NOT NULL}}\n{}",
                &head[7..]
            ),
            vec![
                "x.yaml:4:23: users.scoping[0].clauses[0].attribute: \"proxyAddresses\" cannot be used in a scoping filter (multi-valued, reference or computed attribute)",
            ],
        ),
        (
            "users cannot be disabled",
            format!("users:\n  enabled: false\n{}", &head[7..]),
            vec!["x.yaml:2:12: users.enabled: the Users mapping cannot be disabled"],
        ),
        (
            "none without default and several problems",
            format!(
                "{head}    - target: nickName\n      none: true\n    - target: id\n      source: objectId\n      matching: 0\n"
            ),
            vec![
                "x.yaml:6:7: users.attributes[1]: a `none: true` mapping needs a `default` (the value used when the target is empty)",
                "x.yaml:8:15: users.attributes[2].target: the SCIM `id` is assigned by the target and cannot be mapped",
                "x.yaml:10:17: users.attributes[2].matching: matching precedence must be an integer ≥ 1, found 0",
            ],
        ),
    ];
    for (name, text, expected) in cases {
        let problems = match Mapping::parse("x.yaml", &text) {
            Ok(_) => panic!("{name}: accepted\n{text}"),
            Err(p) => p,
        };
        let got: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(got, expected, "{name}\n{text}");
    }
}
