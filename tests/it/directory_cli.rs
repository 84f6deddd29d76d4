//! `entra-sim directory generate` and `directory mutate` run as a user would: the files they write
//! are deterministic, load with the real loaders, and the job file points at them.

use std::path::Path;

use crate::support::Test;
use entra_sim::config;
use entra_sim::directory::Directory;

fn load(path: &Path) -> Directory {
    let text = std::fs::read_to_string(path).unwrap();
    Directory::parse(&path.display().to_string(), &text).unwrap_or_else(|p| panic!("{p}"))
}

#[test]
fn generate_writes_a_tenant_and_a_job_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tenant.jsonl");
    let job = dir.path().join("jobs").join("tenant.yaml");
    std::fs::create_dir_all(job.parent().unwrap()).unwrap();
    let mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/scim-default.yaml");
    let args = [
        "directory",
        "generate",
        "--users",
        "400",
        "--groups",
        "12",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--job-out",
        job.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
    ];
    let stdout = Test::new().args(args).run().success().stdout.clone();
    assert!(stdout.contains("wrote 400 users and 12 groups"), "{stdout}");
    let first = std::fs::read(&out).unwrap();
    Test::new().args(args).run().success();
    assert!(
        first == std::fs::read(&out).unwrap(),
        "same seed, same bytes"
    );

    let loaded = config::load_job(&job).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.directory.users().len(), 400);
    assert_eq!(loaded.directory.groups().len(), 12);
    assert!(
        loaded.assignments.len() >= 9,
        "{}",
        loaded.assignments.len()
    );
    assert_eq!(loaded.target.url, "http://127.0.0.1:8080/scim/v2");
    let text = std::fs::read_to_string(&job).unwrap();
    assert!(text.contains("directory: \"../tenant.jsonl\""), "{text}");
    assert!(text.contains("token_env: ENTRA_SIM_TOKEN"), "{text}");
}

#[test]
fn mutate_applies_k_changes_and_the_result_loads() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = dir.path().join("tenant.yaml");
    let changed = dir.path().join("changed.jsonl");
    Test::new()
        .args([
            "directory",
            "generate",
            "--users",
            "300",
            "--groups",
            "10",
            "--out",
            tenant.to_str().unwrap(),
        ])
        .run()
        .success();
    let stdout = Test::new()
        .args([
            "directory",
            "mutate",
            "--in",
            tenant.to_str().unwrap(),
            "--changes",
            "40",
            "--seed",
            "2",
            "--out",
            changed.to_str().unwrap(),
        ])
        .run()
        .success()
        .stdout
        .clone();
    assert!(stdout.starts_with("applied 40 changes"), "{stdout}");
    let before = load(&tenant);
    let after = load(&changed);
    assert!(after.users().len() <= before.users().len());
    let differing = after
        .users()
        .iter()
        .filter(|u| before.user(&u.object_id) != Some(u))
        .count();
    assert!(differing > 0);
}
