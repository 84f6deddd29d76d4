//! Issue 16, part 3: with no secret token, entra-sim sends Entra's own JWT. The built-in target,
//! given the JWKS `entra-sim jwks` prints, verifies every request's bearer JWT itself; a wrong
//! audience or an expired token (the job's `claims`) is refused; the private key appears in no
//! output and nowhere in the state directory but its own file.

use std::path::Path;

use entra_sim::target::{self, AuthSeen, Jwks, RunningTarget, TargetConfig};

use crate::support::Output;
use crate::support::{Test, repo, tenant, user};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// A two-user job in `d` with `target.entra_jwt` (plus `claims`, a YAML flow map, if given).
fn write_job(d: &Path, url: &str, claims: &str) {
    let a = user("a1").nick("alice").given("Alice").title("CEO").yaml();
    let b = user("b2")
        .nick("bob")
        .given("Bob")
        .title("Engineer")
        .manager("a1")
        .yaml();
    std::fs::write(d.join("directory.yaml"), tenant(&[a, b], &[])).unwrap();
    let claims = if claims.is_empty() {
        String::new()
    } else {
        format!("    claims: {claims}\n")
    };
    std::fs::write(
        d.join("job.yaml"),
        format!(
            "directory: directory.yaml\nmapping: {}\nscope: all\ntarget:\n  url: {url}\n  entra_jwt:\n    tenant_id: {TENANT}\n{claims}",
            repo("mappings/uni-tel.yaml").display()
        ),
    )
    .unwrap();
}

/// `entra-sim jwks` for the job in `d`, and a target that requires JWTs verifying against it.
async fn target_trusting_the_job(d: &Path) -> (String, RunningTarget) {
    let jwks = Test::new()
        .args(["jwks", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(jwks.code, 0, "{}", jwks.stderr);
    let target = target::spawn(TargetConfig {
        jwks: Some(Jwks::parse(&jwks.stdout).unwrap()),
        ..TargetConfig::default()
    })
    .await
    .unwrap();
    (jwks.stdout, target)
}

fn auth_seen(target: &RunningTarget) -> Vec<AuthSeen> {
    target.requests().iter().map(|r| r.auth).collect()
}

#[tokio::test]
async fn a_job_with_no_secret_sends_entra_s_jwt_which_verifies_against_the_printed_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_job(d, "http://127.0.0.1:9/scim/v2", "");
    let (printed, target) = target_trusting_the_job(d).await;
    let jwks: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    for (field, value) in [
        ("kty", "RSA"),
        ("use", "sig"),
        ("alg", "RS256"),
        ("e", "AQAB"),
    ] {
        assert_eq!(key[field], value, "{field}");
    }
    assert!(key["kid"].is_string());
    // 2048 bits, base64url without padding.
    assert_eq!(key["n"].as_str().unwrap().len(), 342);
    let again = Test::new()
        .args(["jwks", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(again.stdout, printed, "one key per state directory");

    // The target serves the same keys at the server root, to anyone.
    let served = reqwest::get(format!("http://{}/.well-known/jwks.json", target.addr()))
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.json::<serde_json::Value>().await.unwrap(), jwks);

    write_job(d, target.base_url(), "");
    let mut transcript = printed.clone();
    for args in [
        &["test-connection", "--job", "job.yaml"][..],
        &["cycle", "--job", "job.yaml", "--verbose"][..],
        &[
            "provision-on-demand",
            "--job",
            "job.yaml",
            "--user",
            "bob@contoso.com",
        ][..],
    ] {
        let out = Test::new().args(args).current_dir(d).run_async().await;
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
        transcript.push_str(&out.stdout);
        transcript.push_str(&out.stderr);
    }
    assert_eq!(
        target.snapshot().users.len(),
        2,
        "the cycle created both users"
    );
    let seen = auth_seen(&target);
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(
        seen.iter().all(|a| *a == AuthSeen::Valid),
        "every request carries a JWT the target verifies: {seen:?}"
    );

    // Neither the private key nor a JWT is ever shown; the key is in its own file only.
    assert!(
        !transcript.contains("eyJ"),
        "a JWT was printed:\n{transcript}"
    );
    let key_file = d.join(".entra-sim/job/entra-jwt-key.pem");
    let pem = std::fs::read_to_string(&key_file).unwrap();
    let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(body.len() > 20, "a 2048-bit PKCS#8 key");
    for line in &body {
        assert!(!transcript.contains(line), "key material printed");
    }
    for file in walk(&d.join(".entra-sim")) {
        if file == key_file {
            continue;
        }
        let bytes = std::fs::read(&file).unwrap();
        for line in &body {
            assert!(
                !bytes.windows(line.len()).any(|w| w == line.as_bytes()),
                "key material in {}",
                file.display()
            );
        }
    }
}

async fn refused(claims: &str) -> (Output, Vec<AuthSeen>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_job(d, "http://127.0.0.1:9/scim/v2", claims);
    let (_, target) = target_trusting_the_job(d).await;
    write_job(d, target.base_url(), claims);
    let out = Test::new()
        .args(["test-connection", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    (out, auth_seen(&target))
}

#[tokio::test]
async fn a_wrong_audience_or_an_expired_token_is_refused_by_a_verifying_server() {
    for claims in ["{aud: api://some-other-app}", "{exp: 1000000000}"] {
        let (out, seen) = refused(claims).await;
        assert_ne!(out.code, 0, "{claims}: {}", out.stdout);
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|a| *a == AuthSeen::Invalid),
            "{claims}: {seen:?}"
        );
        assert!(!out.stdout.contains("eyJ") && !out.stderr.contains("eyJ"));
    }
    let (out, seen) = refused("{}").await;
    assert_eq!(
        out.code, 0,
        "no override: accepted ({seen:?}) {}",
        out.stderr
    );
}

#[tokio::test]
async fn jwks_needs_a_job_whose_target_uses_entra_jwt() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_job(d, "http://127.0.0.1:9/scim/v2", "");
    let text = std::fs::read_to_string(d.join("job.yaml")).unwrap();
    let text = text.replace(
        &format!("  entra_jwt:\n    tenant_id: {TENANT}\n"),
        "  token_env: T\n",
    );
    std::fs::write(d.join("job.yaml"), text).unwrap();
    let out = Test::new()
        .args(["jwks", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("job.yaml: target: has no entra_jwt block"),
        "{}",
        out.stderr
    );
    assert!(!d.join(".entra-sim").exists(), "no key made");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// `target serve --jwks FILE` as a user starts it: the keys at the server root, and a bad file
/// refused as bad input.
#[tokio::test]
async fn target_serve_publishes_the_jwks_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_job(d, "http://127.0.0.1:9/scim/v2", "");
    let printed = Test::new()
        .args(["jwks", "--job", "job.yaml"])
        .current_dir(d)
        .run_async()
        .await
        .stdout;
    std::fs::write(d.join("jwks.json"), &printed).unwrap();
    let mut child = Test::new()
        .args(["target", "serve", "--port", "0", "--jwks"])
        .arg(d.join("jwks.json"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = String::new();
    for _ in 0..2 {
        std::io::BufRead::read_line(&mut out, &mut lines).unwrap();
    }
    let url = lines
        .split_whitespace()
        .find(|w| w.ends_with("/.well-known/jwks.json"))
        .unwrap_or_else(|| panic!("no JWKS URL in {lines:?}"))
        .to_owned();
    let served: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    let scim = reqwest::get(url.replace("/.well-known/jwks.json", "/scim/v2/Users"))
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        served,
        serde_json::from_str::<serde_json::Value>(&printed).unwrap()
    );
    assert_eq!(scim.status(), 401, "SCIM needs a JWT the keys verify");

    std::fs::write(d.join("bad.json"), "{\"keys\": []}").unwrap();
    let bad = Test::new()
        .args(["target", "serve", "--port", "0", "--jwks", "bad.json"])
        .current_dir(d)
        .run_async()
        .await;
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    bad.stderr_contains("--jwks bad.json: holds no key");
}

/// `run --virtual-time` never touches the job's state: its JWT key is made in the copy.
#[tokio::test]
async fn a_virtual_run_makes_no_key_in_the_job_s_state() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = target::spawn(TargetConfig::default()).await.unwrap();
    write_job(d, target.base_url(), "");
    let out = Test::new()
        .args([
            "run",
            "--job",
            "job.yaml",
            "--virtual-time",
            "--until",
            "2h",
        ])
        .current_dir(d)
        .run_async()
        .await;
    out.status(0);
    assert_eq!(target.snapshot().users.len(), 2);
    let seen = auth_seen(&target);
    assert!(seen.iter().all(|a| *a == AuthSeen::Present), "{seen:?}");
    assert!(
        !d.join(".entra-sim").exists(),
        "the job's state is untouched"
    );
}
