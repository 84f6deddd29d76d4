//! One test per pitfall (docs/entra-behaviour.md, "Pitfalls a SCIM server meets", 1–10, 12, 13):
//! what Entra sends, and what a correct server answers.

use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn pitfall_01_test_connection_probe_gets_empty_list_without_scim_headers() {
    let h = start().await;
    let resp = h
        .http
        .get(h.url("/Users?filter=userName+eq+\"7f0e4c1a-7e4b-4bd7-9d4a-0b0b3c1f2d11\""))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let r = Harness::reply(resp).await;
    assert_eq!(r.status, 200);
    assert!(r.content_type().starts_with(SCIM));
    assert_eq!(
        r.body,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
               "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0})
    );
    let g = h
        .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22c0ffee%22")
        .await;
    assert_eq!((g.status, g.body["totalResults"].clone()), (200, json!(0)));
}

#[tokio::test]
async fn pitfall_02_capitalised_ops_are_accepted() {
    let h = start().await;
    let id = h.create_user("ops@contoso.com").await;
    for op in ["Add", "Replace", "REPLACE", "add"] {
        let r = h
            .patch(
                &format!("/Users/{id}"),
                json!([{"op": op, "path": "nickName", "value": op}]),
            )
            .await;
        assert_eq!((r.status, r.body["nickName"].clone()), (200, json!(op)));
    }
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Remove", "path": "nickName"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("nickName").is_none());
}

#[tokio::test]
async fn pitfall_03_string_booleans_disable_and_enable() {
    let h = start().await;
    let id = h.create_user("bool@contoso.com").await;
    for (value, want) in [
        (json!("False"), false),
        (json!("True"), true),
        (json!("false"), false),
        (json!(true), true),
    ] {
        let r = h
            .patch(
                &format!("/Users/{id}"),
                json!([{"op": "Replace", "path": "active", "value": value}]),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            h.get(&format!("/Users/{id}")).await.body["active"],
            json!(want)
        );
    }
}

#[tokio::test]
async fn pitfall_04_member_removal_by_value_removes_only_those() {
    let h = start().await;
    let a = h.create_user("a@x").await;
    let b = h.create_user("b@x").await;
    let c = h.create_user("c@x").await;
    let g = h.create_group("Team", &[&a, &b, &c]).await;
    let r = h
        .patch(
            &format!("/Groups/{g}"),
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": b}]}]),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(h.group(&g)["members"], json!([{"value": a}, {"value": c}]));
    // aadOptscim062020 form.
    let r = h
        .patch(
            &format!("/Groups/{g}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(h.group(&g)["members"], json!([{"value": c}]));
}

#[tokio::test]
async fn pitfall_05_pathless_replace_with_dotted_and_urn_keys() {
    let h = start().await;
    let id = h.create_user("dotted@contoso.com").await;
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                format!("{ENT}:employeeNumber"): "Aklq",
            }}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = h.get(&format!("/Users/{id}")).await.body;
    assert_eq!(
        u["name"],
        json!({"givenName": "Kkom", "familyName": "Unua"})
    );
    assert_eq!(u[ENT]["employeeNumber"], "Aklq");
    assert_eq!(u["displayName"], "Bjfe");
    let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| !k.contains('.') || k.starts_with("urn:")),
        "{keys:?}"
    );
    assert!(u.get(format!("{ENT}:employeeNumber")).is_none());
    // The Add variant and the 2021 sample with an active boolean.
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Add", "value": {"name.middleName": "M"}},
                   {"op": "replace", "value": {"active": false, "userName": "someone"}}]),
        )
        .await;
    assert_eq!(
        (
            r.body["name"]["middleName"].clone(),
            r.body["active"].clone()
        ),
        (json!("M"), json!(false))
    );
    assert_eq!(r.body["userName"], "someone");
}

#[tokio::test]
async fn pitfall_06_manager_as_plain_id_in_colon_path() {
    let h = start().await;
    let boss = h.create_user("boss@x").await;
    let boss2 = h.create_user("boss2@x").await;
    let id = h.create_user("emp@x").await;
    let path = format!("{ENT}:manager");
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Add", "path": path, "value": boss}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = &h.get(&format!("/Users/{id}")).await.body[ENT]["manager"];
    assert_eq!(m["value"], json!(boss));
    assert_eq!(m["$ref"], json!(h.url(&format!("/Users/{boss}"))));
    assert_eq!(h.target.users()[2][ENT]["manager"]["value"], json!(boss));
    h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": path, "value": boss2}]),
    )
    .await;
    assert_eq!(
        h.get(&format!("/Users/{id}")).await.body[ENT]["manager"]["value"],
        json!(boss2)
    );
    h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": path, "value": ""}]),
    )
    .await;
    assert!(
        h.get(&format!("/Users/{id}")).await.body[ENT]
            .get("manager")
            .is_none()
    );
    h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Add", "path": path, "value": {"value": boss}}]),
    )
    .await;
    h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Remove", "path": path}]),
    )
    .await;
    let u = h.get(&format!("/Users/{id}")).await.body;
    assert!(u.get(ENT).and_then(|e| e.get("manager")).is_none(), "{u}");
}

#[tokio::test]
async fn pitfall_07_filtered_multivalued_paths_create_the_element() {
    let h = start().await;
    let id = h.create_user("mv@x").await;
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w@x"},
                {"op": "Add", "path": "addresses[type eq \"work\"].formatted", "value": "1 Main St"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 (555) 010"},
                {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true},
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["emails"],
        json!([{"type": "work", "value": "w@x", "primary": true}])
    );
    assert_eq!(
        r.body["addresses"],
        json!([{"type": "work", "formatted": "1 Main St"}])
    );
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 (555) 010"}])
    );
    // The element now exists, so an update changes it in place.
    h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w2@x"}]),
    )
    .await;
    let f = h
        .get("/Users?filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22W2@x%22")
        .await;
    assert_eq!(f.body["totalResults"], 1);
    assert_eq!(
        f.body["Resources"][0]["emails"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn pitfall_08_groups_without_members() {
    let h = start().await;
    let u = h.create_user("m@x").await;
    let g = h.create_group("Readers", &[&u]).await;
    let one = h
        .get(&format!("/Groups/{g}?excludedAttributes=members"))
        .await;
    assert_eq!(one.status, 200);
    assert!(one.body.get("members").is_none());
    assert_eq!(one.body["id"], json!(g));
    let list = h
        .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22readers%22")
        .await;
    assert_eq!(list.body["totalResults"], 1);
    assert!(list.body["Resources"][0].get("members").is_none());
    // Entra creates groups with no members.
    let r = h
        .send(
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP_URN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                        "externalId": "8aa1a0c0", "displayName": "Empty", "meta": {"resourceType": "Group"}})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["meta"]["resourceType"], "Group");
    assert_eq!(r.body["members"], json!([]));
}

#[tokio::test]
async fn pitfall_09_scim_media_type_in_and_out() {
    let h = start().await;
    let body = json!({"schemas": [USER_URN], "userName": "media@x"}).to_string();
    let cases = [
        (Some("application/scim+json; charset=utf-8"), 201),
        (Some("application/json"), 409),
        (Some("Application/JSON;charset=UTF-8"), 409),
        (Some("text/plain"), 415),
        (Some("application/x-www-form-urlencoded"), 415),
        (None, 415),
    ];
    for (ct, want) in cases {
        let mut req = h
            .http
            .post(h.url("/Users"))
            .bearer_auth(TOKEN)
            .body(body.clone());
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let r = Harness::reply(req.send().await.unwrap()).await;
        assert_eq!(r.status, want, "{ct:?}: {}", r.body);
        assert!(r.content_type().starts_with(SCIM), "{ct:?}");
        if want == 415 {
            r.assert_error(415, None);
        }
    }
}

#[tokio::test]
async fn pitfall_10_disabled_users_stay_readable() {
    let h = start().await;
    let id = h.create_user("Gone@Contoso.com").await;
    h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    let one = h.get(&format!("/Users/{id}")).await;
    assert_eq!(
        (one.status, one.body["active"].clone()),
        (200, json!(false))
    );
    let f = h
        .get("/Users?filter=userName+eq+%22gone%40contoso.com%22")
        .await;
    assert_eq!(f.body["totalResults"], 1);
    // Entra's routine re-enable does not conflict.
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn pitfall_12_custom_extension_not_in_schemas() {
    let h = start().await;
    let ext = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    for (i, body) in [
        json!({"schemas": [USER_URN], "userName": "c1@x", format!("{ext}:localUsername"): "c1"}),
        json!({"schemas": [USER_URN], "userName": "c2@x", ext: {"localUsername": "c2"}}),
    ]
    .into_iter()
    .enumerate()
    {
        let r = h.send("POST", "/Users", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body[ext]["localUsername"], json!(format!("c{}", i + 1)));
    }
    let id = h.target.users()[0]["id"].as_str().unwrap().to_string();
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Replace", "path": format!("{ext}:localUsername"), "value": "renamed"}]),
        )
        .await;
    assert_eq!(r.body[ext]["localUsername"], "renamed");
    let f = h
        .get(&format!(
            "/Users?filter={ext}:localUsername+eq+%22renamed%22"
        ))
        .await;
    assert_eq!(f.body["totalResults"], 1, "{}", f.body);
}

#[tokio::test]
async fn pitfall_13_roles_both_shapes() {
    let h = start().await;
    let r = h
        .send(
            "POST",
            "/Users",
            Some(json!({"schemas": [USER_URN], "userName": "r@x",
                        "roles": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["roles"][0]["primary"], json!(true));
    let id = r.body["id"].as_str().unwrap();
    let encoded = "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}";
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Add", "path": "roles", "value": [{"value": encoded}]}]),
        )
        .await;
    assert_eq!(r.body["roles"][1], json!({"value": encoded}));
    let r = h
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "roles", "value": [{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"}]}]),
        )
        .await;
    assert_eq!(r.body["roles"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.body["roles"][0]["value"], Value::from("User"));
}
