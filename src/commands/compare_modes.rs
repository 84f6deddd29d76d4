//! `entra-sim compare-modes`: the next cycle's planned writes rendered in the default dialect and in
//! the `aadOptscim062020` dialect (§2.5), side by side, with every difference pointed out — so a
//! developer knows whether their server needs the flag.

use rand::SeedableRng;
use serde::Serialize;

use crate::cli::CompareArgs;
use crate::engine;
use crate::error::AppError;
use crate::output::outln;
use crate::plan::Request;
use crate::scim::ScimMode;

/// One write in both dialects.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Pair {
    object: String,
    default: Request,
    aad_opt_scim062020: Request,
    differences: Vec<String>,
}

async fn planned(
    loaded: &super::Loaded,
    store: &crate::store::Store,
    mode: ScimMode,
) -> Result<Vec<(String, Request)>, AppError> {
    let (report, planner) = super::plan::dry_run(loaded, store, mode).await?;
    if let Some(reason) = report.job_failure {
        return Err(AppError::PlanningStopped(reason));
    }
    Ok(planner
        .changes
        .into_iter()
        .flat_map(|c| {
            let object = format!("{} '{}'", c.object_type, c.name);
            c.requests.into_iter().map(move |r| (object.clone(), r))
        })
        .collect())
}

/// Where two JSON values differ, as `path: a → b` lines.
fn differences(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                differences(
                    &format!("{path}.{key}"),
                    x.get(key).unwrap_or(&J::Null),
                    y.get(key).unwrap_or(&J::Null),
                    out,
                );
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} → {b}")),
        _ => {}
    }
}

pub async fn run(args: CompareArgs) -> Result<i32, AppError> {
    let loaded = super::load(&args.job)?;
    let store = loaded.store()?;
    let default = planned(&loaded, &store, ScimMode::Default).await?;
    let flagged = planned(&loaded, &store, ScimMode::Aad062020).await?;
    let pairs: Vec<Pair> = default
        .into_iter()
        .zip(flagged)
        .map(|((object, a), (_, b))| Pair::of(object, a, b))
        .collect();
    let probes = if args.probe {
        let client = loaded.tenant_client()?;
        let tag = engine::guid(&mut rand::rngs::StdRng::from_os_rng());
        Some(super::probe::probe(&client, &tag[..8]).await?)
    } else {
        None
    };
    if args.json {
        let verdict = probes.as_deref().map(super::probe::Verdict::of);
        let out = serde_json::json!({ "writes": pairs, "probe": probes, "verdict": verdict });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(0);
    }
    print_pairs(&pairs)?;
    if let Some(probes) = probes {
        print_probes(&probes)?;
    }
    Ok(0)
}

impl Pair {
    /// The write to `object` as `a` (default) and `b` (flagged), and where they differ.
    fn of(object: String, a: Request, b: Request) -> Self {
        let mut diffs = Vec::new();
        if a.path != b.path {
            diffs.push(format!("path: {} → {}", a.path, b.path));
        }
        differences(
            "body",
            a.body.as_ref().unwrap_or(&serde_json::Value::Null),
            b.body.as_ref().unwrap_or(&serde_json::Value::Null),
            &mut diffs,
        );
        Pair {
            object,
            default: a,
            aad_opt_scim062020: b,
            differences: diffs,
        }
    }
}

/// The writes that differ, both bodies and each difference, then a count.
fn print_pairs(pairs: &[Pair]) -> Result<(), AppError> {
    let differing: Vec<&Pair> = pairs.iter().filter(|p| !p.differences.is_empty()).collect();
    for pair in &differing {
        outln!(
            "{}: {} {}",
            pair.object,
            pair.default.method.as_str(),
            pair.default.path
        )?;
        let show = |r: &Request| r.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        outln!("  default          {}", show(&pair.default))?;
        outln!("  aadOptscim062020 {}", show(&pair.aad_opt_scim062020))?;
        for d in &pair.differences {
            outln!("    ≠ {d}")?;
        }
    }
    outln!(
        "{} planned write(s); {} differ between the default and aadOptscim062020 dialects",
        pairs.len(),
        differing.len()
    )?;
    Ok(())
}

/// What each probe showed, and the verdict.
fn print_probes(probes: &[super::probe::ProbeResult]) -> Result<(), AppError> {
    outln!("probe on scratch objects:")?;
    for p in probes {
        let verdict = match (p.accepted, p.applied) {
            (true, true) => "applied",
            (true, false) => "accepted, NOT applied",
            _ => "rejected",
        };
        outln!("  {:<18} {:<70} {verdict} {}", p.mode, p.check, p.detail)?;
    }
    outln!("{}", super::probe::Verdict::of(probes).line())?;
    Ok(())
}
