//! The SCIM API over HTTP: the spec's request samples, error shapes, filters, pagination,
//! projection, PATCH response modes, PUT/DELETE, discovery, auth, the request log, concurrency.

use serde_json::json;

use super::*;
use crate::target::{AuthSeen, PatchResponse, RecordedBody};

fn doc_user() -> Value {
    json!({
        "schemas": [USER_URN, ENT],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "phoneNumbers": [{"type": "work", "value": "+1 (425) 555-0100"}]
    })
}

#[tokio::test]
async fn create_user_from_doc_sample() {
    let h = start().await;
    let r = h.send("POST", "/Users", Some(doc_user())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(id.len(), 20);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        r.body["meta"]["location"],
        json!(h.url(&format!("/Users/{id}")))
    );
    assert_eq!(
        r.headers["location"],
        h.url(&format!("/Users/{id}")).as_str()
    );
    assert_eq!(r.body["meta"]["resourceType"], "User");
    assert_eq!(r.body["meta"]["created"], "1970-01-01T00:00:00.000Z");
    assert_eq!(r.body["phoneNumbers"][0]["value"], "+1 (425) 555-0100");
    assert_eq!(r.body["roles"], json!([]));
    let same = h.get(&format!("/Users/{id}")).await;
    assert_eq!(same.body, r.body);
    // Ids are deterministic per seed.
    let other = start().await;
    let again = other.send("POST", "/Users", Some(doc_user())).await;
    assert_eq!(again.body["id"], r.body["id"]);
}

#[tokio::test]
async fn uniqueness_conflicts() {
    let h = start().await;
    h.create_user("Dup@Contoso.com").await;
    let r = h
        .send(
            "POST",
            "/Users",
            Some(json!({"schemas": [USER_URN], "userName": "dup@contoso.COM"})),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    let b = h.create_user("b@x").await;
    let r = h
        .patch(
            &format!("/Users/{b}"),
            json!([{"op": "Replace", "path": "userName", "value": "DUP@contoso.com"}]),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    h.create_group("Sales", &[]).await;
    let r = h
        .send(
            "POST",
            "/Groups",
            Some(json!({"schemas": [GROUP_URN], "displayName": "sales"})),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn validation_errors() {
    let h = start().await;
    let cases = [
        (
            "POST",
            "/Users",
            json!({"userName": "x"}),
            400,
            Some("invalidSyntax"),
        ),
        (
            "POST",
            "/Users",
            json!({"schemas": [USER_URN]}),
            400,
            Some("invalidValue"),
        ),
        (
            "POST",
            "/Users",
            json!({"schemas": [USER_URN], "userName": "x", "active": "yes"}),
            400,
            Some("invalidValue"),
        ),
        (
            "POST",
            "/Groups",
            json!({"schemas": [USER_URN], "displayName": "g"}),
            400,
            Some("invalidSyntax"),
        ),
        (
            "POST",
            "/Groups",
            json!({"schemas": [GROUP_URN], "displayName": "g", "members": [{"value": "nope"}]}),
            400,
            Some("invalidValue"),
        ),
    ];
    for (method, path, body, status, scim_type) in cases {
        h.send(method, path, Some(body))
            .await
            .assert_error(status, scim_type);
    }
    let raw = h
        .http
        .post(h.url("/Users"))
        .bearer_auth(TOKEN)
        .header("content-type", SCIM)
        .body("{not json")
        .send()
        .await
        .unwrap();
    Harness::reply(raw)
        .await
        .assert_error(400, Some("invalidSyntax"));
}

#[tokio::test]
async fn not_found_shapes() {
    let h = start().await;
    h.get("/Users/5d48a0a8e9f04aa38008")
        .await
        .assert_error(404, None);
    h.send("DELETE", "/Groups/nope", None)
        .await
        .assert_error(404, None);
    h.patch(
        "/Users/nope",
        json!([{"op": "Add", "path": "nickName", "value": "x"}]),
    )
    .await
    .assert_error(404, None);
    h.get("/Nope").await.assert_error(404, None);
    h.get("/Users/%FF").await.assert_error(400, None);
    h.send("DELETE", "/Users", None)
        .await
        .assert_error(405, None);
}

#[tokio::test]
async fn patch_errors_and_response_modes() {
    let h = start().await;
    let id = h.create_user("p@x").await;
    let path = format!("/Users/{id}");
    h.patch(
        &path,
        json!([{"op": "Merge", "path": "nickName", "value": "x"}]),
    )
    .await
    .assert_error(400, Some("invalidSyntax"));
    h.patch(
        &path,
        json!([{"op": "Add", "path": "emails[type eq \"work\"", "value": "x"}]),
    )
    .await
    .assert_error(400, Some("invalidPath"));
    h.patch(&path, json!([{"op": "Remove"}]))
        .await
        .assert_error(400, Some("noTarget"));
    let r = h
        .patch(
            &path,
            json!([{"op": "Remove", "path": "emails[type eq \"home\"]"}]),
        )
        .await;
    assert_eq!(r.status, 200, "remove on a non-matching filter is a no-op");
    // A failing op leaves the resource untouched (all or nothing).
    h.patch(
        &path,
        json!([{"op": "Add", "path": "nickName", "value": "n"}, {"op": "Bogus"}]),
    )
    .await;
    assert!(h.get(&path).await.body.get("nickName").is_none());

    let mut cfg = config();
    cfg.user_patch_response = PatchResponse::NoContent;
    cfg.group_patch_response = PatchResponse::Resource;
    let h2 = start_with(cfg).await;
    let u = h2.create_user("q@x").await;
    let g = h2.create_group("G", &[]).await;
    let r = h2
        .patch(
            &format!("/Users/{u}"),
            json!([{"op": "Add", "path": "title", "value": "t"}]),
        )
        .await;
    assert_eq!((r.status, r.body.clone()), (204, Value::Null));
    let r = h2
        .patch(
            &format!("/Groups/{g}"),
            json!([{"op": "Add", "path": "members", "value": [{"value": u}]}]),
        )
        .await;
    assert_eq!(
        (r.status, r.body["members"].clone()),
        (200, json!([{"value": u}]))
    );
}

#[tokio::test]
async fn filters_over_http() {
    let h = start().await;
    for (name, ext, active) in [
        ("ann@x.com", "E1", true),
        ("bob@y.org", "e2", false),
        ("Cy@x.com", "E3", true),
    ] {
        let r = h
            .send(
                "POST",
                "/Users",
                Some(json!({"schemas": [USER_URN], "userName": name, "externalId": ext, "active": active,
                            "emails": [{"type": "work", "value": name.to_uppercase()}]})),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let cases = [
        ("userName+eq+%22ANN%40x.com%22", 1),
        ("userName%20eq%20%22ann@x.com%22", 1),
        ("externalId+eq+%22e1%22", 0),
        ("externalId+eq+%22E1%22", 1),
        ("userName+co+%22%40x%22", 2),
        ("userName+sw+%22b%22", 1),
        ("userName+ew+%22.com%22", 2),
        ("title+pr", 0),
        ("externalId+pr", 3),
        ("userName+ne+%22bob%40y.org%22", 2),
        ("active+eq+true+and+userName+ew+%22.com%22", 2),
        ("userName+eq+%22bob%40y.org%22+or+externalId+eq+%22E3%22", 2),
        (
            "emails%5Btype+eq+%22work%22%5D.value+eq+%22cy%40x.com%22",
            1,
        ),
        ("not+(active+eq+true)", 1),
    ];
    for (q, want) in cases {
        let r = h.get(&format!("/Users?filter={q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(r.body["totalResults"], json!(want), "{q}");
    }
    for bad in [
        "userName+eq",
        "userName+eq+jyoung",
        "userName+zz+%22a%22",
        "(userName+eq+%22a%22",
    ] {
        h.get(&format!("/Users?filter={bad}"))
            .await
            .assert_error(400, Some("invalidFilter"));
    }
}

#[tokio::test]
async fn pagination_and_projection() {
    let h = start().await;
    for i in 0..11 {
        h.create_user(&format!("page{i:02}@x")).await;
    }
    let mut seen = Vec::new();
    for (start, want) in [(1, 5), (6, 5), (11, 1), (12, 0)] {
        let r = h.get(&format!("/Users?startIndex={start}&count=5")).await;
        assert_eq!(r.body["totalResults"], 11);
        assert_eq!(r.body["startIndex"], start);
        assert_eq!(r.body["itemsPerPage"], want);
        for u in r.body["Resources"].as_array().unwrap() {
            seen.push(u["userName"].as_str().unwrap().to_string());
        }
    }
    let want: Vec<String> = (0..11).map(|i| format!("page{i:02}@x")).collect();
    assert_eq!(seen, want);
    let r = h.get("/Users?count=0").await;
    assert_eq!(
        (
            r.body["totalResults"].clone(),
            r.body["itemsPerPage"].clone()
        ),
        (json!(11), json!(0))
    );
    let r = h
        .get("/Users?startIndex=0&count=2&attributes=userName")
        .await;
    assert_eq!(r.body["startIndex"], 1);
    let first = &r.body["Resources"][0];
    let mut keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    let r = h.get("/Users?excludedAttributes=meta,active&count=1").await;
    assert!(r.body["Resources"][0].get("meta").is_none());
    h.get("/Users?count=abc")
        .await
        .assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn put_and_delete() {
    let h = start().await;
    let u = h.create_user("put@x").await;
    let g = h.create_group("Team", &[&u]).await;
    let r = h
        .send(
            "PUT",
            &format!("/Users/{u}"),
            Some(json!({"schemas": [USER_URN], "userName": "put2@x", "title": "T"})),
        )
        .await;
    assert_eq!((r.status, r.body["title"].clone()), (200, json!("T")));
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    assert_eq!(r.body["id"], json!(u));
    let del = h.send("DELETE", &format!("/Users/{u}"), None).await;
    assert_eq!((del.status, del.body.clone()), (204, Value::Null));
    h.get(&format!("/Users/{u}")).await.assert_error(404, None);
    assert_eq!(h.group(&g)["members"], json!([]));
    assert_eq!(
        h.send("DELETE", &format!("/Groups/{g}"), None).await.status,
        204
    );
}

#[tokio::test]
async fn discovery_endpoints() {
    let h = start().await;
    let spc = h.get("/ServiceProviderConfig").await;
    assert_eq!(spc.body["patch"]["supported"], true);
    let rt = h.get("/ResourceTypes").await;
    assert_eq!(rt.body["totalResults"], 2);
    let schemas = h.get("/Schemas").await;
    assert_eq!(schemas.body["Resources"][0]["id"], USER_URN);
    assert!(schemas.content_type().starts_with(SCIM));
}

#[tokio::test]
async fn auth_is_required_everywhere() {
    let h = start().await;
    let none = Harness::reply(h.http.get(h.url("/Users")).send().await.unwrap()).await;
    none.assert_error(401, None);
    assert_eq!(none.headers["www-authenticate"], "Bearer");
    let wrong = h
        .http
        .get(h.url("/Users"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    Harness::reply(wrong).await.assert_error(401, None);
    let admin = h
        .http
        .get(h.root_url("/_admin/state"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 401);
    let seen: Vec<AuthSeen> = h.target.requests().iter().map(|r| r.auth).collect();
    assert_eq!(seen, [AuthSeen::Missing, AuthSeen::Invalid]);

    let open = start_with(TargetConfig::default()).await;
    assert_eq!(
        open.http
            .get(open.url("/Users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn requests_are_recorded_verbatim() {
    let h = start().await;
    h.get("/Users?filter=userName+eq+%22a%40b%22&aadOptscim062020")
        .await;
    h.create_user("rec@x").await;
    let reqs = h.target.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].path,
        "/scim/v2/Users?filter=userName+eq+%22a%40b%22&aadOptscim062020"
    );
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].status),
        ("GET", Some(200))
    );
    assert_eq!(reqs[0].body, RecordedBody::Empty);
    assert_eq!(
        reqs[1].headers.get("content-type").map(String::as_str),
        Some(SCIM)
    );
    assert_eq!(
        reqs[1].body.json().map(|b| b["userName"].clone()),
        Some(json!("rec@x"))
    );
    assert_eq!(reqs[1].status, Some(201));
    let dump = serde_json::to_string(&reqs).unwrap();
    assert!(!dump.contains(TOKEN) && !dump.to_lowercase().contains("authorization"));
    h.target.clear_requests();
    assert!(h.target.requests().is_empty());
}

#[tokio::test]
async fn concurrent_requests_keep_invariants() {
    let h = std::sync::Arc::new(start().await);
    let g = h.create_group("Crowd", &[]).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let h = h.clone();
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            // Half the tasks race for one userName; the other half create distinct users.
            let name = if i % 2 == 0 {
                "same@x".to_string()
            } else {
                format!("u{i}@x")
            };
            let r = h
                .send(
                    "POST",
                    "/Users",
                    Some(json!({"schemas": [USER_URN], "userName": name})),
                )
                .await;
            if r.status == 201 {
                let id = r.body["id"].as_str().unwrap().to_string();
                let p = h
                    .patch(
                        &format!("/Groups/{g}"),
                        json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]),
                    )
                    .await;
                assert_eq!(p.status, 204);
            }
            r.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 21);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19);
    assert_eq!(h.group(&g)["members"].as_array().map(Vec::len), Some(21));
    assert_eq!(h.target.users().len(), 21);
}
