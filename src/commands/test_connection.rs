//! `entra-sim test-connection`: Entra's "Test Connection" (spec §2.2) — a user query on the
//! precedence-1 matching attribute with a random GUID, and a group probe when groups are
//! provisioned; success is 200 with an empty ListResponse. The probes are a
//! [`ConnectionFlow`] driven by the runner.

use rand::SeedableRng;

use crate::cli::JobArgs;
use crate::engine::guid;
use crate::error::AppError;
use crate::output::outln;
use crate::plan::connection::{ConnectionFlow, ConnectionProbe};
use crate::runner::{self, Transport};
use crate::scim::{self, Outcome, TargetPath};

/// The result of one probe.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    path: String,
    status: Option<u16>,
    succeeded: bool,
    error_code: Option<String>,
    message: Option<String>,
    /// No connection could be made.
    #[serde(skip)]
    unreachable: bool,
}

/// The object's matching attribute of precedence 1 (the lowest precedence number).
pub(super) fn matching_path(compiled: &crate::plan::desired::CompiledObject) -> Option<TargetPath> {
    compiled
        .attributes
        .iter()
        .filter(|a| a.matching.is_some())
        .min_by_key(|a| a.matching)
        .map(|a| a.target.clone())
}

/// Entra's Test Connection against the job's Tenant URL; exit code 0 when it succeeds.
pub async fn run(args: JobArgs) -> Result<i32, AppError> {
    // The job file and its mapping: a test of the connection does not read the directory.
    let (job, compiled) = super::load_mapping(&args.job)?;
    for warning in &job.warnings {
        eprintln!("warning: {warning}");
    }
    let (base_url, _, _) =
        scim::split_tenant_url(&job.target.url).map_err(|source| AppError::TenantUrl {
            file: job.file.clone(),
            source,
        })?;
    let token = super::token_of(&job.file, &job.target, &job.settings.state_dir)?;
    let client = super::client_of(&job.file, &job.settings, &base_url, &token)?;
    let user_match =
        matching_path(&compiled.users).ok_or_else(|| AppError::NoMatchingAttribute {
            mapping: job.mapping_path.clone(),
        })?;
    let group_match = compiled.groups.as_ref().and_then(matching_path);
    let id = guid(&mut rand::rngs::StdRng::from_os_rng());
    let paths = scim::test_connection_probes(&user_match, group_match.as_ref(), &id);
    let probes = test(&client, paths).await;
    let ok = probes.iter().all(|p| p.succeeded);
    if args.json {
        let out = serde_json::json!({ "succeeded": ok, "tenantUrl": base_url, "probes": probes });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        print(&base_url, &probes, ok)?;
    }
    verdict(&probes, &base_url)
}

/// Drives the probes of `paths` over `transport`.
async fn test(transport: &dyn Transport, paths: Vec<String>) -> Vec<Probe> {
    let mut flow = ConnectionFlow::new(paths);
    let probes = runner::conclude(&mut flow, transport).await;
    probes.into_iter().map(Probe::of).collect()
}

impl Probe {
    /// How a probe is shown: a resource found for a random GUID means the filter is ignored.
    fn of(probe: ConnectionProbe) -> Self {
        let ConnectionProbe {
            path,
            status,
            unreachable,
            outcome,
        } = probe;
        let (succeeded, error_code, message) = match outcome {
            Outcome::Failure(f) => (false, Some(f.code.as_str().to_string()), Some(f.reason)),
            Outcome::Match { .. } => (
                false,
                Some("SystemForCrossDomainIdentityManagementServiceIncompatible".into()),
                Some("The probe for a random GUID returned a resource; the filter is not being applied.".into()),
            ),
            _ => (true, None, None),
        };
        Self {
            path,
            status,
            succeeded,
            error_code,
            message,
            unreachable,
        }
    }
}

fn print(base_url: &str, probes: &[Probe], ok: bool) -> Result<(), AppError> {
    for p in probes {
        let status = p
            .status
            .map_or("no response".to_string(), |s| s.to_string());
        outln!("GET {base_url}{} → {status}", p.path)?;
        if let (Some(code), Some(message)) = (&p.error_code, &p.message) {
            outln!("  {code}: {}", crate::output::printable(message.clone()))?;
        }
    }
    if ok {
        outln!("The supplied credentials are authorized to enable provisioning.")?;
    }
    Ok(())
}

/// Exit code 0 when every probe succeeded; otherwise why not.
fn verdict(probes: &[Probe], base_url: &str) -> Result<i32, AppError> {
    if probes.iter().all(|p| p.succeeded) {
        Ok(0)
    } else if probes.iter().any(|p| p.unreachable) {
        // Nothing answered, so nothing can be said of the credentials.
        Err(AppError::Unreachable(base_url.to_owned()))
    } else {
        Err(AppError::ConnectionRefused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Scripted;
    use serde_json::json;

    fn list(resources: Vec<serde_json::Value>) -> crate::plan::Reply {
        Scripted::json(
            200,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": resources.len(), "Resources": resources,
                "startIndex": 1, "itemsPerPage": resources.len()
            }),
        )
    }

    fn paths() -> Vec<String> {
        vec![
            "/Users?filter=userName+eq+%22g%22".into(),
            "/Groups?filter=displayName+eq+%22g%22".into(),
        ]
    }

    async fn tested(script: Vec<crate::plan::Reply>) -> (Vec<Probe>, Vec<String>, String) {
        let transport = Scripted::new(script);
        let probes = test(&transport, paths()).await;
        let message = match verdict(&probes, "https://scim.example") {
            Ok(code) => format!("exit {code}"),
            Err(e) => e.to_string(),
        };
        (probes, transport.lines(), message)
    }

    /// Two empty ListResponses: the credentials are accepted.
    #[tokio::test]
    async fn empty_list_responses_pass() {
        let (probes, sent, message) = tested(vec![list(vec![]), list(vec![])]).await;
        assert_eq!(
            sent,
            paths()
                .iter()
                .map(|p| format!("GET {p}"))
                .collect::<Vec<_>>()
        );
        assert!(probes.iter().all(|p| p.succeeded));
        assert_eq!(message, "exit 0");
    }

    /// A refused token: Entra's credential failure, and the message about credentials.
    #[tokio::test]
    async fn a_401_names_the_credentials() {
        let (probes, _, message) = tested(vec![
            Scripted::json(401, json!({"detail": "no"})),
            list(vec![]),
        ])
        .await;
        assert_eq!(probes[0].status, Some(401));
        assert!(!probes[0].succeeded);
        assert!(probes[0].error_code.is_some());
        assert!(probes[1].succeeded);
        assert!(
            message.contains("the SCIM endpoint or the credentials were not accepted"),
            "{message}"
        );
    }

    /// A server that ignores the filter returns a resource for a random GUID.
    #[tokio::test]
    async fn a_resource_for_a_random_guid_is_incompatible() {
        let (probes, _, _) = tested(vec![
            list(vec![json!({"id": "1", "userName": "x"})]),
            list(vec![]),
        ])
        .await;
        assert_eq!(
            probes[0].error_code.as_deref(),
            Some("SystemForCrossDomainIdentityManagementServiceIncompatible")
        );
    }

    /// Nothing answers: one probe only, and the message names the Tenant URL.
    #[tokio::test]
    async fn an_unreachable_server_is_probed_once() {
        let (probes, sent, message) = tested(vec![]).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(probes[0].status, None);
        assert!(
            message.contains(
                "Test Connection failed: could not connect to https://scim.example; is the server running?"
            ),
            "{message}"
        );
    }
}
