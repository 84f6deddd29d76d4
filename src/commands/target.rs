//! `entra-sim target serve`: the built-in SCIM 2.0 target on 127.0.0.1 until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use crate::cli::ServeArgs;
use crate::error::{AppError, argument};
use crate::output::outln;
use crate::target::{self, OAuthClientConfig, TargetConfig};

pub async fn serve(args: ServeArgs) -> Result<i32, AppError> {
    let faults = match &args.fault {
        Some(spec) => target::parse_spec(spec).map_err(|e| argument("--fault")(e.into()))?,
        None => Vec::new(),
    };
    let quirks = args
        .quirks
        .iter()
        .map(|q| q.parse::<target::Quirk>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| argument("--quirk")(e.into()))?;
    let jwks = args.jwks.as_deref().map(read_jwks).transpose()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|source| AppError::Listen {
            port: args.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(AppError::Serve)?;
    outln!("SCIM target listening at http://{addr}/scim/v2 (Ctrl-C to stop)")?;
    let oauth = oauth_client(&args)?;
    announce(addr, &args, oauth.as_ref(), jwks.is_some());
    if !quirks.is_empty() {
        let names: Vec<&str> = quirks.iter().map(|q| q.name()).collect();
        let _ = writeln!(std::io::stdout(), "quirks on: {}", names.join(", "));
    }
    let config = TargetConfig {
        token: args.token.clone(),
        oauth,
        jwks,
        faults,
        quirks,
        max_recorded: args.max_recorded,
        ..TargetConfig::default()
    };
    target::serve(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(AppError::Serve)?;
    Ok(0)
}

/// The issuer keys of `--jwks`.
fn read_jwks(path: &Path) -> Result<target::Jwks, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| argument(format!("--jwks {}", path.display()))(e.into()))?;
    target::Jwks::parse(&text).map_err(|e| argument(format!("--jwks {}", path.display()))(e.into()))
}

/// `--oauth-client ID:SECRET`, parsed here rather than by clap, whose error would repeat the
/// value (the secret).
fn oauth_client(args: &ServeArgs) -> Result<Option<OAuthClientConfig>, AppError> {
    match args.oauth_client.as_deref().map(|v| v.split_once(':')) {
        None => Ok(None),
        Some(Some((id, secret))) if !id.is_empty() && !secret.is_empty() => {
            Ok(Some(OAuthClientConfig {
                client_id: id.to_owned(),
                client_secret: secret.to_owned(),
                token_lifetime: args.token_lifetime.to_std().unwrap_or_default(),
            }))
        }
        Some(_) => Err(AppError::OAuthClientNotIdSecret),
    }
}

/// The endpoints beside SCIM, and what a request needs without a `--token`. Not println!: a
/// caller that read only the first line (the URL) may have closed stdout.
fn announce(addr: SocketAddr, args: &ServeArgs, oauth: Option<&OAuthClientConfig>, has_jwks: bool) {
    if let Some(client) = oauth {
        let _ = writeln!(
            std::io::stdout(),
            "OAuth token endpoint at http://{addr}/oauth2/token for client {:?} (tokens live {}s)",
            client.client_id,
            client.token_lifetime.as_secs()
        );
    }
    if has_jwks {
        let _ = writeln!(
            std::io::stdout(),
            "issuer keys at http://{addr}/.well-known/jwks.json"
        );
    }
    let requires = match (&args.token, oauth, has_jwks) {
        (None, None, false) => {
            Some("no --token given: requests are accepted without a bearer token")
        }
        (None, None, true) => {
            Some("no --token given: requests need a bearer JWT these keys verify")
        }
        (None, Some(_), true) => Some(
            "no --token given: requests need a bearer JWT these keys verify or a token the OAuth endpoint issued",
        ),
        _ => None,
    };
    if let Some(line) = requires {
        let _ = writeln!(std::io::stdout(), "{line}");
    }
}
