//! `entra-sim drift`: reads back every provisioned object — users, and groups *with* their members,
//! which Entra itself never reads — and reports where the target no longer matches what entra-sim
//! exported or what the mapping says: changed attributes, missing or extra members, objects deleted
//! behind Entra's back, duplicates by matching attribute. Exit code 1 on drift, so it can gate CI.
//! The reads are a [`DriftFlow`] driven by the runner.

use std::collections::HashMap;

use rand::SeedableRng;

use crate::cli::JobArgs;
use crate::clock::{Clock, SystemClock};
use crate::error::AppError;
use crate::expr::EvalContext;
use crate::output::outln;
use crate::plan::desired::{self, Sources};
use crate::plan::drift::{Connected, DriftFlow};
use crate::plan::{Anchor, ObjectKey, SourceObject};
use crate::runner::{self, Transport};

pub use crate::plan::drift::Drift;

/// Checks every connected object of the job; exit code 1 when anything drifted.
pub async fn run(args: JobArgs) -> Result<i32, AppError> {
    let loaded = super::load(&args.job)?;
    let token = loaded.token()?;
    let client = loaded.client(&loaded.base_url, &token)?;
    let store = loaded.store()?;
    let objects = source_objects(&loaded);
    let anchors = store.anchors()?;
    let drifts = drifts(&client, &objects, &anchors).await;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&drifts)?)?;
    } else {
        for d in &drifts {
            let line = format!(
                "{:<14} {} '{}' ({}): {}",
                d.kind, d.object_type, d.name, d.target_id, d.detail
            );
            // The detail and the id are the server's words.
            outln!("{}", crate::output::printable(line))?;
        }
        outln!(
            "{} object(s) checked, {} drift(s)",
            anchors.len(),
            drifts.len()
        )?;
    }
    Ok(if drifts.is_empty() { 0 } else { 1 })
}

/// The job's source objects, mapped as a cycle would map them now.
fn source_objects(loaded: &super::Loaded) -> Vec<SourceObject> {
    let sources = Sources {
        directory: &loaded.job.directory,
        assignments: loaded.job.assignment_index(),
        scope: loaded.job.scope,
    };
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut ctx = EvalContext {
        now: SystemClock.now(),
        rng: &mut rng,
    };
    desired::detailed_objects(&loaded.compiled, &sources, &mut ctx)
}

/// Reads back each connection in `anchors` over `transport` and compares it with `objects`.
async fn drifts(
    transport: &dyn Transport,
    objects: &[SourceObject],
    anchors: &[(ObjectKey, Anchor)],
) -> Vec<Drift> {
    let by_key: HashMap<&ObjectKey, &SourceObject> = objects.iter().map(|o| (&o.key, o)).collect();
    let connected: Vec<Connected> = anchors
        .iter()
        .map(|(key, anchor)| Connected {
            key,
            anchor,
            object: by_key.get(key).copied(),
        })
        .collect();
    let names: HashMap<String, String> = connected
        .iter()
        .map(|c| {
            let name = c.object.map_or(&c.key.object_id, |o| &o.name);
            (c.anchor.target_id.clone(), name.clone())
        })
        .collect();
    let mut flow = DriftFlow::new(connected, &names);
    runner::conclude(&mut flow, transport).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ObjectSpec, Reply};
    use crate::runner::Scripted;
    use crate::scim::TargetPath;
    use serde_json::json;

    fn object(key: &ObjectKey, name: &str, spec: ObjectSpec) -> SourceObject {
        SourceObject {
            key: key.clone(),
            name: name.into(),
            fingerprint: String::new(),
            in_scope: true,
            out_of_scope_reason: None,
            spec,
            manager: None,
            members: Vec::new(),
            steps: Vec::new(),
            error: None,
        }
    }

    fn anchor(target_id: &str, members: &[&str]) -> Anchor {
        Anchor {
            target_id: target_id.into(),
            manager: None,
            members: members.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn not_found() -> Reply {
        Scripted::json(
            404,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "no such user"}),
        )
    }

    /// A connected object the target no longer has is `deleted`; the next one is still read.
    #[tokio::test]
    async fn a_missing_object_is_reported_deleted() {
        let (gone, kept) = (ObjectKey::user("u1"), ObjectKey::user("u2"));
        let anchors = [(gone.clone(), anchor("t1", &[])), (kept, anchor("t2", &[]))];
        let objects = [object(&gone, "gone@example.com", ObjectSpec::default())];
        let transport = Scripted::new([
            not_found(),
            Scripted::json(200, json!({"id": "t2", "userName": "kept"})),
        ]);
        let drifts = drifts(&transport, &objects, &anchors).await;
        assert_eq!(transport.lines(), ["GET /Users/t1", "GET /Users/t2"]);
        assert_eq!(
            drifts,
            [Drift {
                object_type: "User".into(),
                name: "gone@example.com".into(),
                target_id: "t1".into(),
                kind: "deleted".into(),
                detail: "the object no longer exists in the target".into(),
            }]
        );
    }

    /// A changed attribute, then a duplicate by matching attribute (one query per value).
    #[tokio::test]
    async fn a_changed_attribute_and_a_duplicate_are_reported() {
        let key = ObjectKey::user("u1");
        let user_name = TargetPath::parse("userName").unwrap();
        let display = TargetPath::parse("displayName").unwrap();
        let spec = ObjectSpec {
            update: vec![(display, crate::expr::Value::Str("Alice".into()), false)],
            matching: vec![(user_name, Some("alice".into()))],
            ..ObjectSpec::default()
        };
        let objects = [object(&key, "alice", spec)];
        let anchors = [(key, anchor("t1", &[]))];
        let two = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
            "Resources": [{"id": "t1", "userName": "alice"}, {"id": "t9", "userName": "alice"}]
        });
        let transport = Scripted::new([
            Scripted::json(
                200,
                json!({"id": "t1", "userName": "alice", "displayName": "Eve"}),
            ),
            Scripted::json(200, two),
        ]);
        let drifts = drifts(&transport, &objects, &anchors).await;
        assert_eq!(
            transport.lines(),
            ["GET /Users/t1", "GET /Users?filter=userName+eq+%22alice%22"]
        );
        let kinds: Vec<(&str, &str)> = drifts
            .iter()
            .map(|d| (d.kind.as_str(), d.detail.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "changed",
                    "displayName: target has \"Eve\", mapping says \"Alice\""
                ),
                ("duplicate", "more than one User has userName \"alice\""),
            ]
        );
    }

    /// A group read with its members: who is missing and who was added, by name where known.
    #[tokio::test]
    async fn missing_and_extra_members_are_named() {
        let (group, member) = (ObjectKey::group("g1"), ObjectKey::user("u1"));
        let objects = [object(&member, "bob@example.com", ObjectSpec::default())];
        let anchors = [
            (group, anchor("tg", &["tu", "tx"])),
            (member, anchor("tu", &[])),
        ];
        let transport = Scripted::new([
            Scripted::json(
                200,
                json!({"id": "tg", "displayName": "G", "members": [{"value": "tx"}, {"value": "ty"}]}),
            ),
            Scripted::json(200, json!({"id": "tu", "userName": "bob"})),
        ]);
        let drifts = drifts(&transport, &objects, &anchors).await;
        let kinds: Vec<(&str, &str, &str)> = drifts
            .iter()
            .map(|d| (d.kind.as_str(), d.name.as_str(), d.detail.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("missingMembers", "g1", "bob@example.com"),
                ("extraMembers", "g1", "ty"),
            ]
        );
    }

    /// A server that cannot be read is reported, not fatal.
    #[tokio::test]
    async fn an_unreachable_target_makes_every_object_unreadable() {
        let key = ObjectKey::user("u1");
        let anchors = [(key, anchor("t1", &[]))];
        let transport = Scripted::new([]);
        let drifts = drifts(&transport, &[], &anchors).await;
        assert_eq!(drifts.len(), 1);
        assert_eq!(drifts[0].kind, "unreadable");
        assert_eq!(drifts[0].name, "u1");
    }
}
