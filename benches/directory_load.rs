//! Generating and loading synthetic tenants of 100,000 and 1,000,000 users in both directory
//! formats (YAML and JSON lines): one timed run each, seconds printed. std::time only.
//! `DIRECTORY_LOAD_USERS=100000` limits the sizes run.

#![allow(clippy::disallowed_methods)] // a benchmark measures wall-clock time

use std::time::Instant;

use entra_sim::directory::generate::{TenantSpec, generate};
use entra_sim::directory::{Directory, DirectoryFormat};

fn main() {
    let sizes: Vec<(usize, usize)> = match std::env::var("DIRECTORY_LOAD_USERS") {
        Ok(n) => n
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .map(|n: usize| (n, (n / 1000).max(1)))
            .collect(),
        Err(_) => vec![(100_000, 500), (1_000_000, 1_000)],
    };
    for (users, groups) in sizes {
        let spec = TenantSpec {
            users,
            groups,
            seed: 1,
        };
        for (format, name) in [
            (DirectoryFormat::Yaml, "tenant.yaml"),
            (DirectoryFormat::JsonLines, "tenant.jsonl"),
        ] {
            let start = Instant::now();
            let mut out = Vec::new();
            if let Err(err) = generate(&spec, format, &mut out) {
                eprintln!("generate: {err}");
                return;
            }
            let generated = start.elapsed();
            let Ok(text) = String::from_utf8(out) else {
                eprintln!("generated text is not UTF-8");
                return;
            };
            let start = Instant::now();
            let loaded = Directory::parse(name, &text);
            let parsed = start.elapsed();
            match loaded {
                Ok(dir) => println!(
                    "{users:>9} users {groups:>5} groups {name:<13} {:>5} MB  generate {:>6.2} s  parse {:>6.2} s  ({} users loaded)",
                    text.len() / 1_000_000,
                    generated.as_secs_f64(),
                    parsed.as_secs_f64(),
                    dir.users().len()
                ),
                Err(problems) => eprintln!("{name}: {}", problems.0.len()),
            }
        }
    }
}
