//! Directory loading: the shipped sample, the model's defaults and every class of bad input.

use super::*;

fn contoso() -> Directory {
    let text = include_str!("../../directory-samples/contoso.yaml");
    match Directory::parse("directory-samples/contoso.yaml", text) {
        Ok(dir) => dir,
        Err(problems) => panic!("{problems}"),
    }
}

fn str_attr<'a>(attrs: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a str> {
    match attrs.get(key) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn contoso_sample_loads() {
    let dir = contoso();
    assert_eq!(dir.users().len(), 50);
    assert_eq!(dir.groups().len(), 6);
    assert!(dir.users().iter().filter(|u| !u.account_enabled).count() >= 3);
    assert!(dir.users().iter().filter(|u| u.soft_deleted).count() >= 2);
    assert!(
        dir.users()
            .iter()
            .filter(|u| u.upn.contains("#EXT#"))
            .count()
            >= 2
    );
    let nested = dir.group_by_display_name("App Users").map(|g| {
        g.members
            .iter()
            .filter(|m| m.kind == MemberKind::Group)
            .count()
    });
    assert_eq!(nested, Some(1));
    // Every manager chain ends at the CEO: the managers form a tree.
    for user in dir.users() {
        let mut current = user;
        let mut steps = 0;
        while let Some(manager) = current.manager.as_deref().and_then(|m| dir.user(m)) {
            current = manager;
            steps += 1;
            assert!(steps < 50, "manager cycle at {}", user.upn);
        }
    }
}

#[test]
fn user_model_defaults_and_attributes() {
    let dir = contoso();
    let bjorn = dir
        .user_by_upn("Bjorn.Odegard@contoso.com")
        .expect("case-insensitive UPN lookup");
    let megan = dir.user_by_upn("megan.bowen@contoso.com").expect("megan");
    assert_eq!(
        bjorn.manager.as_deref(),
        Some(megan.object_id.as_str()),
        "manager given by UPN resolves to objectId"
    );
    assert_eq!(
        str_attr(&bjorn.attrs, "manager"),
        Some(megan.object_id.as_str())
    );
    assert_eq!(str_attr(&bjorn.attrs, "displayName"), Some("Björn Ødegård"));
    assert_eq!(str_attr(&bjorn.attrs, "accountEnabled"), Some("True"));
    assert_eq!(
        str_attr(&bjorn.attrs, "originalUserPrincipalName"),
        Some("bjorn.odegard@contoso.com")
    );
    assert!(matches!(bjorn.attrs.get("proxyAddresses"), Some(Value::Multi(v)) if v.len() == 2));
    assert!(bjorn.account_enabled && !bjorn.soft_deleted);
    let disabled = dir
        .user_by_upn("isaiah.langer@contoso.com")
        .expect("isaiah");
    assert_eq!(str_attr(&disabled.attrs, "accountEnabled"), Some("False"));
    assert!(!disabled.attrs.contains_key("softDeleted"));
    let group = dir
        .group_by_display_name("Contractors")
        .expect("contractors");
    assert_eq!(str_attr(&group.attrs, "securityEnabled"), Some("True"));
    assert_eq!(
        dir.resolve("Contractors").map(|m| m.kind),
        Ok(MemberKind::Group)
    );
    assert_eq!(
        dir.resolve("nobody"),
        Err(ResolveError::NotFound("nobody".to_owned()))
    );
}

#[test]
fn extensions_numbers_and_duplicate_group_names() {
    let text = "users:
  - objectId: u1
    userPrincipalName: a@x.com
    employeeId: 42
    extension_0123456789abcdef0123456789abcdef_costCenter: CC1
groups:
  - {objectId: g1, displayName: Same, members: [u1]}
  - {objectId: g2, displayName: Same, securityEnabled: false}
";
    let dir = Directory::parse("d.yaml", text).expect("valid");
    let user = dir.user("u1").expect("u1");
    assert_eq!(str_attr(&user.attrs, "employeeId"), Some("42"));
    assert_eq!(
        str_attr(
            &user.attrs,
            "extension_0123456789abcdef0123456789abcdef_costCenter"
        ),
        Some("CC1")
    );
    assert!(
        dir.group_by_display_name("Same").is_none(),
        "ambiguous name"
    );
    assert_eq!(
        dir.resolve("Same"),
        Err(ResolveError::Ambiguous("Same".to_owned()))
    );
    assert_eq!(
        dir.group("g2")
            .and_then(|g| str_attr(&g.attrs, "securityEnabled")),
        Some("False")
    );
}

#[test]
fn bad_inputs_are_located() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "malformed YAML",
            "users:\n  - objectId: u1\n    userPrincipalName: [a@x.com\n",
            &[
                "d.yaml:4:1: malformed YAML: did not find expected ',' or ']', while parsing a flow sequence at line 3 column 24",
            ],
        ),
        (
            "unknown top-level field",
            "users: []\ngroup: []\n",
            &["d.yaml:2:1: unknown field `group`, expected `users` or `groups`"],
        ),
        (
            "unknown attribute with suggestion",
            "users:\n  - objectId: u1\n    userPrincipalName: a@x.com\n    mial: a@x.com\n",
            &["d.yaml:4:5: users[0].mial: unknown field \"mial\" (did you mean \"mail\"?)"],
        ),
        (
            "all problems of a file at once",
            "users:\n  - objectId: u1\n    userPrincipalName: a@x.com\n  - objectId: u1\n    userPrincipalName: b@x.com\n    accountEnabled: yes please\n  - userPrincipalName: c@x.com\n    IsSoftDeleted: true\n    extension_12_x: y\n",
            &[
                "d.yaml:4:15: users[1].objectId: duplicate objectId \"u1\"",
                "d.yaml:6:21: users[1].accountEnabled: expected true or false, found a string",
                "d.yaml:7:5: users[2].objectId: missing required field",
                "d.yaml:8:5: users[2].IsSoftDeleted: `IsSoftDeleted` is computed by the simulator and cannot be set in a directory file",
                "d.yaml:9:5: users[2].extension_12_x: malformed directory extension name; expected extension_<32 hex digits of the app id>_<name>",
            ],
        ),
        (
            "self references",
            "users:\n  - {objectId: u1, userPrincipalName: a@x.com, manager: a@x.com}\ngroups:\n  - {objectId: g1, displayName: G, members: [G]}\n",
            &[
                "d.yaml:2:57: users[0].manager: a user cannot be their own manager",
                "d.yaml:4:46: groups[0].members[0]: a group cannot be a member of itself",
            ],
        ),
    ];
    for (name, text, expected) in cases {
        let problems = match Directory::parse("d.yaml", text) {
            Ok(_) => panic!("{name}: accepted"),
            Err(p) => p,
        };
        let got: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(&got, expected, "{name}");
    }
}

/// In Entra, deleting a user removes its manager links and group memberships: a reference that
/// names no object is a deleted object's, dropped with a located warning (a likely typo named).
#[test]
fn references_naming_no_object_are_dropped_with_a_warning() {
    let text = "users:\n  - objectId: u1\n    userPrincipalName: a@x.com\n    manager: u9\n  - objectId: u2\n    userPrincipalName: adele.vance@x.com\ngroups:\n  - objectId: g1\n    displayName: G\n    members:\n      - u1\n      - ghost@x.com\n      - adel.vance@x.com\n";
    let dir = Directory::parse("d.yaml", text).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(dir.user("u1").map(|u| u.manager.clone()), Some(None));
    assert!(
        !dir.user("u1")
            .is_some_and(|u| u.attrs.contains_key("manager"))
    );
    let members: Vec<&str> = dir.groups()[0]
        .members
        .iter()
        .map(|m| m.object_id.as_str())
        .collect();
    assert_eq!(members, ["u1"]);
    let warnings: Vec<String> = dir.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "d.yaml:4:14: users[0].manager: \"u9\" names no user or group; treated as deleted",
            "d.yaml:12:9: groups[0].members[1]: \"ghost@x.com\" names no user or group; treated as deleted",
            "d.yaml:13:9: groups[0].members[2]: \"adel.vance@x.com\" names no user or group (did you mean \"adele.vance@x.com\"?)",
        ]
    );
}

/// Issue 18 item 10, on the shipped sample: a user appended with Adele's UPN (or objectId) made
/// every reference to Adele name nobody. The duplicate is the one problem, without warnings.
#[test]
fn a_duplicate_in_the_sample_is_reported_alone() {
    let text = include_str!("../../directory-samples/contoso.yaml");
    let adele = "e11303af-c055-5af5-a9cf-b835a0e8b87e";
    // (the entry appended, the problem, the rejected entry's other name)
    for (duplicate, expected, other) in [
        (
            "  - objectId: zz\n    userPrincipalName: Adele.Vance@contoso.com\n",
            "c.yaml:981:24: users[50].userPrincipalName: duplicate userPrincipalName \"Adele.Vance@contoso.com\"",
            "zz",
        ),
        (
            &format!("  - objectId: {adele}\n    userPrincipalName: zz@contoso.com\n"),
            &format!("c.yaml:980:15: users[50].objectId: duplicate objectId \"{adele}\""),
            "ZZ@contoso.com",
        ),
    ] {
        let text = text.replacen("\ngroups:\n", &format!("\n{duplicate}groups:\n"), 1);
        let checked = Directory::check("c.yaml", &text);
        let problems: Vec<String> = checked.problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(problems, [expected]);
        let dir = checked.value.expect("the entries that could be read");
        assert!(dir.warnings().is_empty(), "{:?}", dir.warnings());
        let vance = dir.user_by_upn("adele.vance@contoso.com");
        assert_eq!(vance.map(|u| u.object_id.as_str()), Some(adele));
        let reports = dir
            .users()
            .iter()
            .filter(|u| u.manager.as_deref() == Some(adele))
            .count();
        assert_eq!(reports, 3, "Adele's reports keep their manager");
        assert_eq!(
            dir.resolve(other),
            Err(ResolveError::Duplicate(other.to_owned()))
        );
    }
}

/// A duplicate group objectId (a user's or a group's) is the one problem too.
#[test]
fn a_duplicate_group_is_reported_alone() {
    let text = "users:\n  - {objectId: u1, userPrincipalName: a@x.com}\ngroups:\n  - {objectId: g1, displayName: G, members: [u1]}\n  - {objectId: g1, displayName: H, members: [u1]}\n  - {objectId: u1, displayName: I}\n  - {objectId: g2, displayName: J, members: [G, H, I]}\n";
    let checked = Directory::check("d.yaml", text);
    let problems: Vec<String> = checked.problems.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "d.yaml:5:16: groups[1].objectId: duplicate objectId \"g1\"",
            "d.yaml:6:16: groups[2].objectId: duplicate objectId \"u1\"",
        ]
    );
    let dir = checked.value.expect("the entries that could be read");
    assert!(dir.warnings().is_empty(), "{:?}", dir.warnings());
    let j: Vec<&str> = dir
        .group("g2")
        .map(|g| g.members.iter().map(|m| m.object_id.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        j,
        ["g1"],
        "G is the first g1; H and I name rejected entries"
    );
}
