//! `entra-sim test-connection`: Entra's "Test Connection" (spec §2.2) — a user query on the
//! precedence-1 matching attribute with a random GUID, and a group probe when groups are
//! provisioned; success is 200 with an empty ListResponse.

use rand::SeedableRng;

use crate::cli::JobArgs;
use crate::engine::guid;
use crate::error::AppError;
use crate::output::outln;
use crate::plan::{Method, Reply, Request, wire};
use crate::scim::{self, OpKind, Outcome, TargetPath};

/// The result of one probe.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    path: String,
    status: Option<u16>,
    succeeded: bool,
    error_code: Option<String>,
    message: Option<String>,
}

fn matching_path(compiled: &crate::plan::desired::CompiledObject) -> Option<TargetPath> {
    compiled
        .attributes
        .iter()
        .filter(|a| a.matching.is_some())
        .min_by_key(|a| a.matching)
        .map(|a| a.target.clone())
}

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
    let mut probes = Vec::new();
    let mut unreachable = false;
    for path in scim::test_connection_probes(&user_match, group_match.as_ref(), &id) {
        let request = Request {
            method: Method::Get,
            path: path.clone(),
            body: None,
        };
        let reply = client.send(&request).await;
        let status = match &reply {
            Reply::Http { status, .. } => Some(*status),
            Reply::Transport { .. } | Reply::NoToken { .. } => None,
        };
        unreachable |= matches!(reply, Reply::Transport { connect: true, .. });
        let outcome = wire::outcome(OpKind::TestConnection, reply);
        let probe = match outcome {
            Outcome::Failure(f) => Probe { path, status, succeeded: false, error_code: Some(f.code.as_str().to_string()), message: Some(f.reason) },
            Outcome::Match { .. } => Probe {
                path,
                status,
                succeeded: false,
                error_code: Some("SystemForCrossDomainIdentityManagementServiceIncompatible".into()),
                message: Some("The probe for a random GUID returned a resource; the filter is not being applied.".into()),
            },
            _ => Probe { path, status, succeeded: true, error_code: None, message: None },
        };
        probes.push(probe);
        if unreachable {
            // The second probe would only repeat that nothing answers.
            break;
        }
    }
    let ok = probes.iter().all(|p| p.succeeded);
    if args.json {
        let out = serde_json::json!({ "succeeded": ok, "tenantUrl": base_url, "probes": probes });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        for p in &probes {
            let status = p
                .status
                .map_or("no response".to_string(), |s| s.to_string());
            outln!("GET {base_url}{} → {status}", p.path)?;
            if let (Some(code), Some(message)) = (&p.error_code, &p.message) {
                outln!("  {code}: {message}")?;
            }
        }
        if ok {
            outln!("The supplied credentials are authorized to enable provisioning.")?;
        }
    }
    if ok {
        Ok(0)
    } else if unreachable {
        // Nothing answered, so nothing can be said of the credentials.
        Err(AppError::Unreachable(base_url))
    } else {
        Err(AppError::ConnectionRefused)
    }
}
