//! Each quirk over HTTP: the strict answer without it, the real server's answer with it (errors
//! in the RFC 7644 shape).

use serde_json::json;

use super::*;
use crate::target::Quirk;

const ADSCIM: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// A target with `quirks` on, and one without.
async fn on_and_off(quirks: &[Quirk]) -> (Harness, Harness) {
    let on = start_with(TargetConfig {
        quirks: quirks.to_vec(),
        ..config()
    })
    .await;
    (on, start().await)
}

fn total(r: &Reply) -> u64 {
    r.body["totalResults"].as_u64().unwrap()
}

#[tokio::test]
async fn case_sensitive_filter_finds_only_the_exact_case() {
    let (on, off) = on_and_off(&[Quirk::CaseSensitiveFilter]).await;
    for h in [&on, &off] {
        h.create_user("Ann@x.com").await;
        h.create_group("Readers", &[]).await;
    }
    let other_case = "/Users?filter=userName+eq+%22ann%40X.com%22";
    let exact = "/Users?filter=userName+eq+%22Ann%40x.com%22";
    let group = "/Groups?filter=displayName+eq+%22readers%22";
    assert_eq!(total(&off.get(other_case).await), 1);
    assert_eq!(total(&off.get(group).await), 1);
    let r = on.get(other_case).await;
    assert_eq!((r.status, total(&r)), (200, 0), "{}", r.body);
    assert_eq!(r.body["Resources"], json!([]));
    assert_eq!(total(&on.get(group).await), 0);
    assert_eq!(total(&on.get(exact).await), 1);
    let either = "/Users?filter=userName+eq+%22ann%40X.com%22+or+externalId+eq+%22none%22";
    assert_eq!(total(&off.get(either).await), 1);
    assert_eq!(total(&on.get(either).await), 0);
    let both = "/Users?filter=userName+eq+%22Ann%40x.com%22+and+active+eq+true";
    assert_eq!(total(&on.get(both).await), 1);
    // Other attributes keep their own case rules.
    let by_sw = "/Users?filter=userName+sw+%22ann%22";
    assert_eq!(total(&on.get(by_sw).await), 1);
}

#[tokio::test]
async fn no_uniqueness_creates_duplicates() {
    let (on, off) = on_and_off(&[Quirk::NoUniqueness]).await;
    for h in [&on, &off] {
        h.create_user("dup@x").await;
        h.create_group("team", &[]).await;
    }
    let user = json!({"schemas": [USER_URN], "userName": "DUP@x"});
    let group = json!({"schemas": [GROUP_URN], "displayName": "team"});
    off.send("POST", "/Users", Some(user.clone()))
        .await
        .assert_error(409, Some("uniqueness"));
    off.send("POST", "/Groups", Some(group.clone()))
        .await
        .assert_error(409, Some("uniqueness"));
    assert_eq!(on.send("POST", "/Users", Some(user)).await.status, 201);
    assert_eq!(on.send("POST", "/Groups", Some(group)).await.status, 201);
    assert_eq!(
        total(&on.get("/Groups?filter=displayName+eq+%22team%22").await),
        2
    );
    assert_eq!(
        total(&on.get("/Users?filter=userName+eq+%22dup%40x%22").await),
        2
    );
}

#[tokio::test]
async fn ignore_excluded_attributes_returns_members() {
    let (on, off) = on_and_off(&[Quirk::IgnoreExcludedAttributes]).await;
    for h in [&on, &off] {
        let u = h.create_user("m@x").await;
        let g = h.create_group("g", &[&u]).await;
        let by_id = h
            .get(&format!("/Groups/{g}?excludedAttributes=members"))
            .await;
        let by_filter = h
            .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22g%22")
            .await;
        let quirky = std::ptr::eq(h, &on);
        assert_eq!(
            by_id.body.get("members").is_some(),
            quirky,
            "{}",
            by_id.body
        );
        assert_eq!(
            by_filter.body["Resources"][0].get("members").is_some(),
            quirky,
            "{}",
            by_filter.body
        );
    }
}

#[tokio::test]
async fn ignore_pagination_answers_everything_on_one_page() {
    let (on, off) = on_and_off(&[Quirk::IgnorePagination]).await;
    for h in [&on, &off] {
        for i in 0..7 {
            h.create_user(&format!("p{i}@x")).await;
        }
    }
    let page = "/Users?startIndex=3&count=2";
    let r = off.get(page).await;
    assert_eq!(
        (
            r.body["startIndex"].clone(),
            r.body["itemsPerPage"].clone(),
            r.body["totalResults"].clone()
        ),
        (json!(3), json!(2), json!(7))
    );
    assert_eq!(r.body["Resources"][0]["userName"], "p2@x");
    let r = on.get(page).await;
    assert_eq!(
        (
            r.body["startIndex"].clone(),
            r.body["itemsPerPage"].clone(),
            r.body["totalResults"].clone()
        ),
        (json!(1), json!(7), json!(7))
    );
    assert_eq!(r.body["Resources"][0]["userName"], "p0@x");
}

#[tokio::test]
async fn strict_booleans_refuse_string_active() {
    let (on, off) = on_and_off(&[Quirk::StrictBooleans]).await;
    let body = json!({"schemas": [USER_URN], "userName": "b@x", "active": "False"});
    let r = off.send("POST", "/Users", Some(body.clone())).await;
    assert_eq!((r.status, r.body["active"].clone()), (201, json!(false)));
    on.send("POST", "/Users", Some(body))
        .await
        .assert_error(400, Some("invalidValue"));
    let id = on.create_user("b@x").await;
    let path = format!("/Users/{id}");
    for ops in [
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
        json!([{"op": "Replace", "value": {"active": "False"}}]),
    ] {
        on.patch(&path, ops)
            .await
            .assert_error(400, Some("invalidValue"));
    }
    let off_id = off.create_user("b2@x").await;
    let r = off
        .patch(
            &format!("/Users/{off_id}"),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!((r.status, r.body["active"].clone()), (200, json!(false)));
    let r = on
        .patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!((r.status, r.body["active"].clone()), (200, json!(false)));
}

#[tokio::test]
async fn reject_adscim_urn_refuses_entras_group_schema() {
    let (on, off) = on_and_off(&[Quirk::RejectAdscimUrn]).await;
    let body = json!({"schemas": [GROUP_URN, ADSCIM], "displayName": "ad"});
    assert_eq!(
        off.send("POST", "/Groups", Some(body.clone())).await.status,
        201
    );
    let r = on.send("POST", "/Groups", Some(body)).await;
    r.assert_error(400, Some("invalidValue"));
    assert!(
        r.body["detail"].as_str().unwrap().contains(ADSCIM),
        "{}",
        r.body
    );
    // Without the URN the group is created; users are not affected.
    on.create_group("plain", &[]).await;
    on.create_user("u@x").await;
}

#[tokio::test]
async fn reject_remove_with_value_wants_a_filter_path() {
    let (on, off) = on_and_off(&[Quirk::RejectRemoveWithValue]).await;
    for h in [&on, &off] {
        let quirky = std::ptr::eq(h, &on);
        let m = h.create_user("boss@x").await;
        let u = h.create_user("u@x").await;
        let g = h.create_group("g", &[&u]).await;
        let set_manager =
            json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": {"value": m}}]);
        assert_eq!(
            h.patch(&format!("/Users/{u}"), set_manager).await.status,
            200
        );
        let by_list = [
            (
                format!("/Groups/{g}"),
                json!([{"op": "Remove", "path": "members", "value": [{"value": u}]}]),
            ),
            (
                format!("/Users/{u}"),
                json!([{"op": "Remove", "path": format!("{ENT}:manager"), "value": [{"value": m}]}]),
            ),
        ];
        for (path, ops) in by_list {
            let r = h.patch(&path, ops).await;
            if quirky {
                r.assert_error(400, Some("invalidValue"));
            } else {
                assert!(
                    r.status == 200 || r.status == 204,
                    "{} {}",
                    r.status,
                    r.body
                );
            }
        }
        if quirky {
            let r = h
                .patch(
                    &format!("/Groups/{g}"),
                    json!([{"op": "Remove", "path": format!("members[value eq \"{u}\"]")}]),
                )
                .await;
            assert_eq!(r.status, 204, "{}", r.body);
            assert_eq!(h.group(&g)["members"], json!([]));
        }
    }
}

#[tokio::test]
async fn manager_complex_only_refuses_a_plain_id() {
    let (on, off) = on_and_off(&[Quirk::ManagerComplexOnly]).await;
    for h in [&on, &off] {
        let quirky = std::ptr::eq(h, &on);
        let m = h.create_user("boss@x").await;
        let u = h.create_user("u@x").await;
        let plain = [
            json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": m}]),
            json!([{"op": "Add", "value": {format!("{ENT}:manager"): m}}]),
            json!([{"op": "Add", "value": {ENT: {"manager": m}}}]),
        ];
        for ops in plain {
            let r = h.patch(&format!("/Users/{u}"), ops).await;
            if quirky {
                r.assert_error(400, Some("invalidValue"));
            } else {
                assert_eq!(r.status, 200, "{}", r.body);
            }
        }
        let complex =
            json!([{"op": "Replace", "path": format!("{ENT}:manager"), "value": {"value": m}}]);
        let r = h.patch(&format!("/Users/{u}"), complex).await;
        assert_eq!(
            (r.status, r.body[ENT]["manager"]["value"].clone()),
            (200, json!(m))
        );
        // A POST body is strict either way: its manager must already be complex.
        let create = json!({"schemas": [USER_URN, ENT], "userName": "n@x", ENT: {"manager": m}});
        let r = h.send("POST", "/Users", Some(create)).await;
        r.assert_error(400, Some("invalidValue"));
    }
}
