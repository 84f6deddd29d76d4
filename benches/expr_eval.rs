//! Evaluation throughput of the default SCIM user mapping's expressions (§6.3) over 100,000
//! synthetic users: 5 timed runs, median evaluations per second printed. std::time only.

#![allow(clippy::disallowed_methods)] // a benchmark measures wall-clock time

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use entra_sim::expr::{EvalContext, Value, parse};
use rand::SeedableRng;
use rand::rngs::StdRng;

const USERS: usize = 100_000;
const RUNS: usize = 5;

/// The §6.3 mapping's expressions: the two expression mappings, Direct mappings as `[attr]`, and a
/// regex Replace as a typical custom mapping.
const MAPPING: &[&str] = &[
    r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#,
    r#"Join(" ", [givenName], [surname])"#,
    "[userPrincipalName]",
    "[displayName]",
    "[jobTitle]",
    "[mail]",
    "[mailNickname]",
    "[department]",
    "[telephoneNumber]",
    r#"Replace([telephoneNumber], , "[()\\s-]+", , "", , )"#,
];

fn user(i: usize) -> BTreeMap<String, Value> {
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        a.insert(k.to_owned(), Value::Str(v));
    };
    put(
        "IsSoftDeleted",
        if i.is_multiple_of(10) {
            "True"
        } else {
            "False"
        }
        .to_owned(),
    );
    put("givenName", format!("Given{i}"));
    put("surname", format!("Surname{}", i % 977));
    put("userPrincipalName", format!("user{i}@contoso.com"));
    put("displayName", format!("Given{i} Surname{}", i % 977));
    put(
        "jobTitle",
        ["Engineer", "Manager", "Analyst"][i % 3].to_owned(),
    );
    put("mail", format!("user{i}@contoso.com"));
    put("mailNickname", format!("user{i}"));
    put("department", format!("Dept{}", i % 40));
    put(
        "telephoneNumber",
        format!("+1 (555) {:03}-{:04}", i % 1000, i % 10_000),
    );
    a
}

fn main() {
    let exprs: Vec<_> = MAPPING.iter().filter_map(|src| parse(src).ok()).collect();
    assert_eq!(
        exprs.len(),
        MAPPING.len(),
        "every benchmark expression parses"
    );
    let users: Vec<_> = (0..USERS).map(user).collect();
    let mut rng = StdRng::seed_from_u64(0);
    let now = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut ctx = EvalContext { now, rng: &mut rng };

    let mut per_kind: Vec<(&str, f64)> = Vec::new();
    for (src, e) in MAPPING.iter().zip(&exprs) {
        let start = Instant::now();
        for u in &users {
            black_box(e.evaluate(u, &mut ctx).ok());
        }
        per_kind.push((src, USERS as f64 / start.elapsed().as_secs_f64()));
    }

    let mut rates = Vec::with_capacity(RUNS);
    for run in 1..=RUNS {
        let start = Instant::now();
        let mut evaluations = 0usize;
        for u in &users {
            for e in &exprs {
                black_box(e.evaluate(u, &mut ctx).ok());
                evaluations += 1;
            }
        }
        let rate = evaluations as f64 / start.elapsed().as_secs_f64();
        println!("run {run}: {evaluations} evaluations, {rate:.0} evaluations/s");
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates.get(RUNS / 2).copied().unwrap_or_default();
    println!("per expression (evaluations/s, one pass):");
    for (src, rate) in per_kind {
        println!("  {rate:>12.0}  {src}");
    }
    println!(
        "median: {median:.0} evaluations/s over {USERS} users x {} expressions (single thread)",
        MAPPING.len()
    );
}
