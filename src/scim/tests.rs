//! Golden tests: every request shape of spec §2.3–§2.5 and §6.6 in both modes, as exact JSON.
//! (Queries and Test Connection probes are pinned in `query.rs`, responses in `response.rs`.)

use serde_json::{Value as Json, json};

use crate::expr::{AppRole, Value};
use crate::scim::{
    AttrChange, CreateSettings, PatchOp, PrimaryType, ScimMode, TargetPath, create_group_body,
    create_user_body, disable_body, enable_body, manager_body, manager_removal_body, member_bodies,
    patch_body,
};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn path(text: &str) -> TargetPath {
    TargetPath::parse(text).unwrap_or_else(|err| unreachable!("{err}"))
}

fn attrs(pairs: &[(&str, Value)]) -> Vec<(TargetPath, Value)> {
    pairs.iter().map(|(p, v)| (path(p), v.clone())).collect()
}

fn s(text: &str) -> Value {
    Value::Str(text.to_owned())
}

fn user(pairs: &[(&str, Value)]) -> Json {
    create_user_body(&attrs(pairs), &CreateSettings::default())
        .unwrap_or_else(|err| unreachable!("{err}"))
}

fn change(p: &str, op: PatchOp, new: Value) -> AttrChange {
    AttrChange {
        path: path(p),
        old: None,
        new,
        op,
    }
}

fn patch(ops: Json) -> Json {
    json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops })
}

#[test]
fn create_user_doc_sample() {
    let body = user(&[
        ("externalId", s("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")),
        (
            "userName",
            s("Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"),
        ),
        ("active", s("True")),
        (
            "emails[type eq \"work\"].value",
            s("Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"),
        ),
        ("name.formatted", s("givenName familyName")),
        ("name.familyName", s("familyName")),
        ("name.givenName", s("givenName")),
    ]);
    assert_eq!(
        body,
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": true,
            "emails": [{
                "primary": true,
                "type": "work",
                "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
            }],
            "meta": {
                "resourceType": "User"
            },
            "name": {
                "formatted": "givenName familyName",
                "familyName": "familyName",
                "givenName": "givenName"
            },
            "roles": []
        })
    );
}

#[test]
fn create_user_default_template_shapes() {
    let body = user(&[
        ("userName", s("bjensen@contoso.com")),
        ("active", s("False")),
        ("displayName", s("Barbara Jensen")),
        ("title", Value::Null),
        ("preferredLanguage", s("")),
        ("emails[type eq \"work\"].value", s("bjensen@contoso.com")),
        ("addresses[type eq \"work\"].streetAddress", s("1 Main St")),
        ("addresses[type eq \"work\"].postalCode", s("98052")),
        ("phoneNumbers[type eq \"work\"].value", s("+1 555 0100")),
        ("phoneNumbers[type eq \"mobile\"].value", s("+1 555 0101")),
        ("phoneNumbers[type eq \"fax\"].value", Value::Null),
        (&format!("{ENT}:employeeNumber"), s("701984")),
        (&format!("{ENT}:department"), s("Tour Operations")),
        (
            &format!("{ENT}:manager"),
            s("26118915-6090-4610-87e4-49d8ca9f808d"),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:uniFLOWOnline:2.0:User:localUsername",
            s("bjensen"),
        ),
    ]);
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "userName": "bjensen@contoso.com",
            "active": false,
            "displayName": "Barbara Jensen",
            "emails": [{"primary": true, "type": "work", "value": "bjensen@contoso.com"}],
            "addresses": [{"type": "work", "streetAddress": "1 Main St", "postalCode": "98052"}],
            "phoneNumbers": [
                {"type": "work", "value": "+1 555 0100"},
                {"type": "mobile", "value": "+1 555 0101"}
            ],
            ENT: {"employeeNumber": "701984", "department": "Tour Operations"},
            "urn:ietf:params:scim:schemas:extension:uniFLOWOnline:2.0:User": {"localUsername": "bjensen"},
            "meta": {"resourceType": "User"},
            "roles": []
        })
    );
}

#[test]
fn create_user_settings_change_primary_and_roles() {
    let settings = CreateSettings {
        primary_types: vec![PrimaryType {
            attr: "phoneNumbers".into(),
            type_value: "mobile".into(),
        }],
        empty_roles: false,
    };
    let body = create_user_body(
        &attrs(&[
            ("userName", s("u")),
            ("emails[type eq \"work\"].value", s("u@contoso.com")),
            ("emails[type eq \"work\"].primary", s("True")),
            ("phoneNumbers[type eq \"mobile\"].value", s("1")),
        ]),
        &settings,
    );
    assert_eq!(
        body,
        Ok(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "userName": "u",
            "emails": [{"type": "work", "value": "u@contoso.com", "primary": true}],
            "phoneNumbers": [{"type": "mobile", "value": "1", "primary": true}],
            "meta": {"resourceType": "User"}
        }))
    );
}

#[test]
fn create_user_roles_single_and_complex() {
    let single = user(&[
        ("userName", s("u")),
        ("roles[primary eq \"True\"].value", s("Admin")),
    ]);
    assert_eq!(
        single.get("roles"),
        Some(
            &json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}])
        )
    );
    let single_from_roles = user(&[(
        "roles[primary eq \"True\"].value",
        Value::Roles(vec![AppRole {
            id: "r1".to_owned(),
            value: "Admin".to_owned(),
            display_name: "Administrator".to_owned(),
        }]),
    )]);
    assert_eq!(single_from_roles.get("roles"), single.get("roles"));
    let complex = user(&[(
        "roles",
        Value::Roles(vec![
            AppRole {
                id: "r1".to_owned(),
                value: "Admin".to_owned(),
                display_name: "Admin".to_owned(),
            },
            AppRole {
                id: "r2".to_owned(),
                value: "User".to_owned(),
                display_name: "User".to_owned(),
            },
        ]),
    )]);
    assert_eq!(
        complex.get("roles"),
        Some(&json!([
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"},
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "User", "value": "User"}
        ]))
    );
}

#[test]
fn create_user_rejects_multi_valued_into_single_valued() {
    let err = create_user_body(
        &attrs(&[(
            "emails[type eq \"other\"].value",
            Value::Multi(vec!["smtp:a@x".into(), "smtp:b@x".into()]),
        )]),
        &CreateSettings::default(),
    )
    .err();
    assert_eq!(
        err.as_ref().map(|e| e.code().as_str()),
        Some("SchemaPropertyCanOnlyAcceptValue")
    );
    assert_eq!(
        err.map(|e| e.path),
        Some("emails[type eq \"other\"].value".to_owned())
    );
}

#[test]
fn create_group_doc_sample() {
    let body = create_group_body(&attrs(&[
        ("externalId", s("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")),
        ("displayName", s("displayName")),
        ("members", Value::Multi(vec!["u1".into(), "u2".into()])),
    ]));
    assert_eq!(
        body,
        Ok(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {
                "resourceType": "Group"
            }
        }))
    );
}

#[test]
fn patch_update_doc_samples_default_mode() {
    let body = patch_body(
        &[
            change(
                "emails[type eq \"work\"].value",
                PatchOp::Replace,
                s("updatedEmail@microsoft.com"),
            ),
            change("name.familyName", PatchOp::Replace, s("updatedFamilyName")),
        ],
        ScimMode::Default,
    );
    assert_eq!(
        body,
        patch(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]))
    );
    let body = patch_body(
        &[change(
            "userName",
            PatchOp::Replace,
            s("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"),
        )],
        ScimMode::Default,
    );
    assert_eq!(
        body,
        patch(
            json!([{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}])
        )
    );
    let body = patch_body(
        &[
            change(
                "emails[type eq \"work\"].value",
                PatchOp::Replace,
                s("a@contoso.com"),
            ),
            change(
                "addresses[type eq \"work\"].formatted",
                PatchOp::Replace,
                s("1 Main St"),
            ),
            change(&format!("{ENT}:department"), PatchOp::Add, s("Retail")),
        ],
        ScimMode::Default,
    );
    assert_eq!(
        body,
        patch(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@contoso.com"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].formatted", "value": "1 Main St"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Retail"}
        ]))
    );
}

#[test]
fn patch_add_single_valued_both_modes() {
    let changes = [change("nickName", PatchOp::Add, s("Babs"))];
    assert_eq!(
        patch_body(&changes, ScimMode::Default),
        patch(json!([{"op": "Add", "path": "nickName", "value": "Babs"}]))
    );
    assert_eq!(
        patch_body(&changes, ScimMode::Aad062020),
        patch(json!([{"op": "add", "path": "nickName", "value": "Babs"}]))
    );
}

#[test]
fn patch_booleans_both_modes() {
    let changes = [change(
        "emails[type eq \"work\"].primary",
        PatchOp::Replace,
        s("true"),
    )];
    assert_eq!(
        patch_body(&changes, ScimMode::Default),
        patch(
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].primary", "value": "True"}])
        )
    );
    assert_eq!(
        patch_body(&changes, ScimMode::Aad062020),
        patch(
            json!([{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}])
        )
    );
}

#[test]
fn patch_flag_mode_merges_plain_replaces() {
    let changes = [
        change("displayName", PatchOp::Replace, s("Bjfe")),
        change(
            "emails[type eq \"work\"].value",
            PatchOp::Replace,
            s("x@contoso.com"),
        ),
        change("name.givenName", PatchOp::Replace, s("Kkom")),
        change("name.familyName", PatchOp::Replace, s("Unua")),
        change(
            &format!("{ENT}:employeeNumber"),
            PatchOp::Replace,
            s("Aklq"),
        ),
        change(
            &format!("{ENT}:department"),
            PatchOp::Add,
            s("Tech Infrastructure"),
        ),
    ];
    assert_eq!(
        patch_body(&changes, ScimMode::Aad062020),
        patch(json!([
            {"op": "replace", "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
            }},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x@contoso.com"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Tech Infrastructure"}
        ]))
    );
    assert_eq!(
        patch_body(&changes, ScimMode::Default),
        patch(json!([
            {"op": "Replace", "path": "displayName", "value": "Bjfe"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@contoso.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Kkom"},
            {"op": "Replace", "path": "name.familyName", "value": "Unua"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Aklq"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Tech Infrastructure"}
        ]))
    );
    let pair = [
        change("active", PatchOp::Replace, s("False")),
        change("userName", PatchOp::Replace, s("someone")),
    ];
    assert_eq!(
        patch_body(&pair, ScimMode::Aad062020),
        patch(json!([{"op": "replace", "value": {"active": false, "userName": "someone"}}]))
    );
}

#[test]
fn patch_remove_carries_the_old_value() {
    let remove = AttrChange {
        path: path("emails[type eq \"work\"].value"),
        old: Some("old@contoso.com".into()),
        new: Value::Null,
        op: PatchOp::Remove,
    };
    assert_eq!(
        patch_body(std::slice::from_ref(&remove), ScimMode::Default),
        patch(
            json!([{"op": "Remove", "path": "emails[type eq \"work\"].value", "value": "old@contoso.com"}])
        )
    );
    let bare = AttrChange {
        old: None,
        ..remove
    };
    assert_eq!(
        patch_body(&[bare], ScimMode::Aad062020),
        patch(json!([{"op": "remove", "path": "emails[type eq \"work\"].value"}]))
    );
}

#[test]
fn disable_and_enable_both_modes() {
    assert_eq!(
        disable_body(ScimMode::Default),
        patch(json!([{"op": "Replace", "path": "active", "value": "False"}]))
    );
    assert_eq!(
        enable_body(ScimMode::Default),
        patch(json!([{"op": "Replace", "path": "active", "value": "True"}]))
    );
    assert_eq!(
        disable_body(ScimMode::Aad062020),
        patch(json!([{"op": "replace", "path": "active", "value": false}]))
    );
    assert_eq!(
        enable_body(ScimMode::Aad062020),
        patch(json!([{"op": "replace", "path": "active", "value": true}]))
    );
}

#[test]
fn manager_link_both_modes() {
    let id = "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2";
    assert_eq!(
        manager_body(id, ScimMode::Default),
        patch(
            json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": id}])
        )
    );
    assert_eq!(
        manager_body(id, ScimMode::Aad062020),
        patch(
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": id}])
        )
    );
    let replace = patch_body(
        &[change(&format!("{ENT}:manager"), PatchOp::Replace, s(id))],
        ScimMode::Default,
    );
    assert_eq!(
        replace,
        patch(
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": id}])
        )
    );
}

#[test]
fn manager_removal_both_modes() {
    let old = "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2";
    assert_eq!(
        manager_removal_body(old, ScimMode::Default),
        patch(
            json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": [{"value": old}]}])
        )
    );
    assert_eq!(
        manager_removal_body(old, ScimMode::Aad062020),
        patch(json!([{"op": "remove", "path": format!("manager[value eq \"{old}\"]")}]))
    );
    assert_eq!(
        manager_removal_body("a\"b", ScimMode::Aad062020)["Operations"][0]["path"],
        json!("manager[value eq \"a\\\"b\"]"),
        "the id is quoted as a filter literal"
    );
}

#[test]
fn group_display_name_update() {
    let changes = [change(
        "displayName",
        PatchOp::Replace,
        s("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"),
    )];
    assert_eq!(
        patch_body(&changes, ScimMode::Default),
        patch(
            json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}])
        )
    );
}

#[test]
fn members_default_mode() {
    let add = vec!["f648f8d5ea4e4cd38e9c".to_owned()];
    assert_eq!(
        member_bodies(&add, &[], ScimMode::Default, 100),
        vec![patch(
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}])
        )]
    );
    let remove = vec!["u1091".to_owned()];
    assert_eq!(
        member_bodies(&[], &remove, ScimMode::Default, 100),
        vec![patch(
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1091"}]}])
        )]
    );
}

#[test]
fn members_flag_mode() {
    let add = vec!["10263a6910a84ef9a581dd9b8dcc0eae".to_owned()];
    assert_eq!(
        member_bodies(&add, &[], ScimMode::Aad062020, 100),
        vec![patch(
            json!([{"op": "add", "path": "members", "value": [{"value": "10263a6910a84ef9a581dd9b8dcc0eae"}]}])
        )]
    );
    let remove = vec!["7f4bc1a3-285e-48ae-8202-5accb43efb0e".to_owned()];
    assert_eq!(
        member_bodies(&[], &remove, ScimMode::Aad062020, 100),
        vec![patch(
            json!([{"op": "remove", "path": "members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}])
        )]
    );
}

#[test]
fn members_are_batched() {
    let ids: Vec<String> = ["a", "b", "c"].iter().map(|id| (*id).to_owned()).collect();
    let gone: Vec<String> = ["x", "y"].iter().map(|id| (*id).to_owned()).collect();
    assert_eq!(
        member_bodies(&ids, &gone, ScimMode::Default, 2),
        vec![
            patch(
                json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "a"}, {"$ref": null, "value": "b"}]}])
            ),
            patch(
                json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "c"}]}])
            ),
            patch(
                json!([{"op": "Remove", "path": "members", "value": [{"value": "x"}, {"value": "y"}]}])
            ),
        ]
    );
    assert_eq!(
        member_bodies(&[], &gone, ScimMode::Aad062020, 2),
        vec![patch(json!([
            {"op": "remove", "path": "members[value eq \"x\"]"},
            {"op": "remove", "path": "members[value eq \"y\"]"}
        ]))]
    );
    assert_eq!(member_bodies(&ids, &[], ScimMode::Aad062020, 0).len(), 3);
    assert_eq!(
        member_bodies(&[], &[], ScimMode::Default, 10),
        Vec::<Json>::new()
    );
}

#[test]
fn roles_patch_default_mode_is_json_string_encoded() {
    let role1234 = AppRole {
        id: "06b07648-ecfe-589f-9d2f-6325724a46ee".to_owned(),
        value: "25".to_owned(),
        display_name: "Role1234".to_owned(),
    };
    let expected = patch(json!([{
        "op": "Add",
        "path": "roles",
        "value": [{"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]
    }]));
    let single = change(
        "roles[primary eq \"True\"].value",
        PatchOp::Add,
        Value::Roles(vec![role1234.clone()]),
    );
    assert_eq!(patch_body(&[single], ScimMode::Default), expected);
    let complex = change("roles", PatchOp::Add, Value::Roles(vec![role1234]));
    assert_eq!(patch_body(&[complex], ScimMode::Default), expected);
}

#[test]
fn roles_patch_flag_mode_uses_post_format() {
    let admin = AppRole {
        id: "r1".to_owned(),
        value: "Admin".to_owned(),
        display_name: "Administrator".to_owned(),
    };
    let single = change(
        "roles[primary eq \"True\"].value",
        PatchOp::Add,
        Value::Roles(vec![admin.clone()]),
    );
    assert_eq!(
        patch_body(&[single], ScimMode::Aad062020),
        patch(json!([{"op": "add", "path": "roles", "value": [
            {"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}
        ]}]))
    );
    let complex = change("roles", PatchOp::Add, Value::Roles(vec![admin]));
    assert_eq!(
        patch_body(&[complex], ScimMode::Aad062020),
        patch(json!([{"op": "add", "path": "roles", "value": [
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Administrator", "value": "Admin"}
        ]}]))
    );
}

#[test]
fn roles_patch_assertive_replaces_the_whole_list() {
    let changes = [change(
        "roles",
        PatchOp::Replace,
        Value::Roles(vec![
            AppRole {
                id: "r1".to_owned(),
                value: "User".to_owned(),
                display_name: "User".to_owned(),
            },
            AppRole {
                id: "r2".to_owned(),
                value: "Admin".to_owned(),
                display_name: "Admin".to_owned(),
            },
        ]),
    )];
    let expected = patch(json!([{"op": "replace", "path": "roles", "value": [
        {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"},
        {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}
    ]}]));
    assert_eq!(patch_body(&changes, ScimMode::Default), expected);
    assert_eq!(patch_body(&changes, ScimMode::Aad062020), expected);
}

#[test]
fn multi_valued_target_patch_value_is_element_list() {
    let changes = [change(
        "emails",
        PatchOp::Add,
        Value::Multi(vec!["a@x".into(), "b@x".into()]),
    )];
    assert_eq!(
        patch_body(&changes, ScimMode::Default),
        patch(
            json!([{"op": "Add", "path": "emails", "value": [{"value": "a@x"}, {"value": "b@x"}]}])
        )
    );
}
