//! `compare-modes --probe`: sends both dialects of every difference to scratch objects on the
//! target — Replace/replace, "False"/false, a merged path-less replace, member removal by value
//! list and by filter — reads the result back, and reports which form the server really applies.
//! The requests are a [`ProbeFlow`] driven by the runner; the scratch objects are deleted.

use crate::error::AppError;
use crate::plan::probe::{ProbeFailure, ProbeFlow};
use crate::runner::{self, Transport};

pub use crate::plan::probe::{ProbeResult, Verdict};

/// Runs every probe over `transport`, cleaning up the scratch objects afterwards.
pub async fn probe(transport: &dyn Transport, tag: &str) -> Result<Vec<ProbeResult>, AppError> {
    let mut flow = ProbeFlow::new(tag);
    runner::conclude(&mut flow, transport)
        .await
        .map_err(|failure| match failure {
            ProbeFailure::Scratch(e) => AppError::ProbeCreate(e),
            ProbeFailure::Local(e) => AppError::ProbePath(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Reply;
    use crate::runner::Scripted;
    use serde_json::json;

    fn created(id: &str) -> Reply {
        Scripted::json(201, json!({"id": id}))
    }

    fn no_content() -> Reply {
        Reply::Http {
            status: 204,
            retry_after: None,
            body: Vec::new(),
        }
    }

    /// A server that accepts every PATCH and changes nothing: each probe is accepted but not
    /// applied, except enabling a user who was active all along.
    #[tokio::test]
    async fn a_server_that_ignores_patches_applies_nothing() {
        let user = json!({"id": "u0", "displayName": "entra-sim probe", "active": true, "name": {"givenName": "Probe"}});
        let group = json!({"id": "g", "members": [{"value": "u1"}, {"value": "u2"}]});
        let mut script = vec![created("u0"), created("u1"), created("u2"), created("g")];
        for _ in 0..8 {
            script.extend([no_content(), Scripted::json(200, user.clone())]);
        }
        for _ in 0..2 {
            script.extend([no_content(), Scripted::json(200, group.clone())]);
        }
        script.extend((0..4).map(|_| no_content()));
        let transport = Scripted::new(script);
        let results = probe(&transport, "t").await.unwrap();
        let sent = transport.lines();
        assert_eq!(sent.len(), 4 + 16 + 4 + 4);
        assert_eq!(
            &sent[..4],
            ["POST /Users", "POST /Users", "POST /Users", "POST /Groups"]
        );
        assert_eq!(&sent[4..6], ["PATCH /Users/u0", "GET /Users/u0"]);
        assert_eq!(&sent[20..22], ["PATCH /Groups/g", "GET /Groups/g"]);
        assert_eq!(
            &sent[24..],
            [
                "DELETE /Groups/g",
                "DELETE /Users/u0",
                "DELETE /Users/u1",
                "DELETE /Users/u2"
            ]
        );
        let applied: Vec<(&str, &str, bool)> = results
            .iter()
            .map(|r| (r.mode.as_str(), r.check.as_str(), r.applied))
            .collect();
        assert_eq!(applied.len(), 10);
        assert!(results.iter().all(|r| r.accepted));
        assert_eq!(
            applied.iter().filter(|(_, _, applied)| *applied).count(),
            2,
            "only the two enables read back as intended: {applied:?}"
        );
        assert_eq!(
            results[0].detail,
            "accepted but not applied; read back \"entra-sim probe\""
        );
        assert_eq!(
            results[8].detail,
            "accepted but not applied; read back members left: 2"
        );
        let verdict = Verdict::of(&results);
        assert!(!verdict.default && !verdict.aad_opt_scim062020);
    }

    /// A scratch user the server refuses: the probe stops there, with nothing to clean up.
    #[tokio::test]
    async fn a_refused_scratch_user_stops_the_probe() {
        let transport = Scripted::new([Scripted::json(400, json!({"detail": "no"}))]);
        let error = probe(&transport, "t").await.unwrap_err();
        assert_eq!(transport.lines(), ["POST /Users"]);
        assert!(matches!(error, AppError::ProbeCreate(_)), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("cannot create a scratch object on the target: "),
            "{error}"
        );
    }

    /// No scratch group: the user probes run, and the group's failure is a result of its own.
    #[tokio::test]
    async fn a_refused_group_is_reported_and_the_users_deleted() {
        let user =
            json!({"id": "u0", "displayName": "x", "active": false, "name": {"givenName": "x"}});
        let mut script = vec![created("u0"), created("u1"), created("u2")];
        script.push(Scripted::json(500, json!({"detail": "no groups"})));
        for _ in 0..8 {
            script.extend([no_content(), Scripted::json(200, user.clone())]);
        }
        script.extend((0..3).map(|_| no_content()));
        let transport = Scripted::new(script);
        let results = probe(&transport, "t").await.unwrap();
        let sent = transport.lines();
        assert_eq!(
            &sent[sent.len() - 3..],
            ["DELETE /Users/u0", "DELETE /Users/u1", "DELETE /Users/u2"]
        );
        let last = results.last().unwrap();
        assert_eq!(
            (last.check.as_str(), last.mode.as_str()),
            ("group with members", "both")
        );
        assert!(
            last.detail
                .starts_with("cannot create a scratch object on the target: ")
        );
    }
}
