//! Issue 18 (the wire): servers that misbehave — one that redirects elsewhere, one that floods a
//! reply. Each is a few lines of raw HTTP on loopback, so the misbehaviour is exactly what the
//! test says.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{TOKEN, Test, repo, tenant, user};

/// A server on `ip`:0 answering every request with `head` and then `body_len` bytes of `x`
/// (written in 64 KiB pieces); its Tenant URL and the number of requests it received.
async fn raw_server(ip: &str, head: String, body_len: usize) -> (String, Arc<AtomicUsize>) {
    raw_server_with(ip, move |_| (head.clone(), body_len)).await
}

/// [`raw_server`] answering each request by what `answer` makes of its head (request line and
/// headers).
async fn raw_server_with(
    ip: &str,
    answer: impl Fn(&str) -> (String, usize) + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let answer = Arc::new(answer);
    let listener = TcpListener::bind(format!("{ip}:0")).await.unwrap();
    let url = format!("http://{}/scim/v2", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                seen.fetch_add(1, Ordering::SeqCst);
                let (head, body_len) = answer(&String::from_utf8_lossy(&request));
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let piece = vec![b'x'; 64 * 1024];
                let mut left = body_len;
                while left > 0 {
                    let n = left.min(piece.len());
                    if socket.write_all(&piece[..n]).await.is_err() {
                        return;
                    }
                    left -= n;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, count)
}

/// A job with one user (scope: all) against `url`, in `dir`.
fn job(dir: &Path, url: &str, settings: &str) {
    std::fs::write(dir.join("token"), TOKEN).unwrap();
    std::fs::write(
        dir.join("directory.yaml"),
        tenant(
            &[user("a1").nick("alice").given("Alice").title("CEO").yaml()],
            &[],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("job.yaml"),
        format!(
            "directory: directory.yaml\nmapping: {}\ntarget:\n  url: {url}\n  token_file: token\nscope: all\n{settings}",
            repo("mappings/uni-tel.yaml").display()
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let (elsewhere, reached) = raw_server(
        "127.0.0.2",
        "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".into(),
        0,
    )
    .await;
    let location = format!("{elsewhere}/Users");
    let (url, asked) = raw_server(
        "127.0.0.1",
        format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        0,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    job(dir.path(), &url, "");

    let test = Test::new()
        .args(["test-connection", "--job", "job.yaml"])
        .current_dir(dir.path())
        .run_async()
        .await;
    test.status(2);
    assert!(!test.stdout.contains("authorized"), "{}", test.stdout);
    test.stdout_contains(&location);

    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml", "--verbose"])
        .current_dir(dir.path())
        .run_async()
        .await;
    assert_ne!(cycle.code, 0, "{}{}", cycle.stdout, cycle.stderr);
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(dir.path())
        .run_async()
        .await;
    logs.stdout_contains(&format!("redirecting to {location}"));
    assert!(
        asked.load(Ordering::SeqCst) >= 2,
        "the probe and the match were sent"
    );
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "nothing reached the other host"
    );
}

#[tokio::test]
async fn a_reply_larger_than_the_limit_fails_unread() {
    // Chunked: no length announced, so the client stops reading at the limit.
    let chunked_head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nConnection: close\r\n\r\n";
    let (url, _) = raw_server("127.0.0.1", chunked_head.into(), 4 * 1024 * 1024).await;
    let dir = tempfile::tempdir().unwrap();
    job(
        dir.path(),
        &url,
        "settings:\n  max_response_bytes: 1048576\n",
    );
    let test = Test::new()
        .args(["test-connection", "--job", "job.yaml"])
        .current_dir(dir.path())
        .run_async()
        .await;
    test.status(2);
    assert!(
        test.stdout
            .contains("a body larger than settings.max_response_bytes (1048576 bytes)"),
        "{}",
        test.stdout
    );

    // A declared length over the limit is refused before any of the body is read.
    let declared = "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n";
    let (url, _) = raw_server("127.0.0.1", declared.into(), 1024).await;
    job(
        dir.path(),
        &url,
        "settings:\n  max_response_bytes: 1048576\n",
    );
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(dir.path())
        .run_async()
        .await;
    assert_ne!(cycle.code, 0, "{}{}", cycle.stdout, cycle.stderr);
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(dir.path())
        .run_async()
        .await;
    assert!(
        logs.stdout
            .contains("settings.max_response_bytes (1048576 bytes)"),
        "{}",
        logs.stdout
    );
}

#[tokio::test]
async fn a_count_without_resources_is_logged_as_a_warning() {
    fn json(status: &str, body: &str) -> (String, usize) {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        (head, 0)
    }
    let (url, _) = raw_server_with("127.0.0.1", |head| {
        if head.starts_with("GET ") {
            json("200 OK", r#"{"totalResults":1,"Resources":[]}"#)
        } else {
            json(
                "201 Created",
                r#"{"id":"u-1","userName":"alice@contoso.com"}"#,
            )
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    job(dir.path(), &url, "");
    let cycle = Test::new()
        .args(["cycle", "--job", "job.yaml"])
        .current_dir(dir.path())
        .run_async()
        .await;
    cycle.status(0);
    cycle.stdout_contains(
        "warning: The query on userName for User 'alice@contoso.com' answered totalResults 1 but listed no resource; treated as no match",
    );
    let logs = Test::new()
        .args(["logs", "--job", "job.yaml", "--json"])
        .current_dir(dir.path())
        .run_async()
        .await;
    let entries: serde_json::Value = serde_json::from_str(&logs.stdout).unwrap();
    let steps = entries[0]["provisioningSteps"].as_array().unwrap();
    let warning = steps
        .iter()
        .find(|s| s["status"] == "warning")
        .unwrap_or_else(|| panic!("{steps:?}"));
    assert_eq!(warning["provisioningStepType"], "matching");
}

/// A server whose error body carries raw control characters (a terminal escape, a title change,
/// a bell): `cycle` and `logs` print the failure, but none of them reaches the terminal.
#[tokio::test]
async fn a_servers_escapes_never_reach_the_terminal() {
    let body = "{\"detail\": \"no \u{1b}[2J\u{1b}]0;owned\u{7} thanks\"}";
    let head = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (url, _) = raw_server("127.0.0.1", head, 0).await;
    let dir = tempfile::tempdir().unwrap();
    job(dir.path(), &url, "");
    for command in ["cycle", "logs"] {
        let out = Test::new()
            .args([command, "--job", "job.yaml"])
            .current_dir(dir.path())
            .run_async()
            .await;
        out.stdout_contains("failure");
        out.stdout_contains("owned");
        assert!(
            !out.stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{command}: {:?}",
            out.stdout
        );
    }
}
