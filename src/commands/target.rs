//! `entra-sim target serve`: the built-in SCIM 2.0 target on 127.0.0.1 until Ctrl-C.

use std::io::Write;

use crate::cli::ServeArgs;
use crate::error::{AppError, argument};
use crate::output::outln;
use crate::target::{self, OAuthClientConfig, TargetConfig};

pub async fn serve(args: ServeArgs) -> Result<i32, AppError> {
    let faults = match &args.fault {
        Some(spec) => target::parse_spec(spec).map_err(|e| argument("--fault")(e.into()))?,
        None => Vec::new(),
    };
    let jwks = match &args.jwks {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| argument(format!("--jwks {}", path.display()))(e.into()))?;
            let jwks = target::Jwks::parse(&text)
                .map_err(|e| argument(format!("--jwks {}", path.display()))(e.into()))?;
            Some(jwks)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|source| AppError::Listen {
            port: args.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(AppError::Serve)?;
    outln!("SCIM target listening at http://{addr}/scim/v2 (Ctrl-C to stop)")?;
    // Parsed here rather than by clap, whose error would repeat the value (the secret).
    let oauth = match args.oauth_client.as_deref().map(|v| v.split_once(':')) {
        None => None,
        Some(Some((id, secret))) if !id.is_empty() && !secret.is_empty() => {
            Some(OAuthClientConfig {
                client_id: id.to_owned(),
                client_secret: secret.to_owned(),
                token_lifetime: args.token_lifetime.to_std().unwrap_or_default(),
            })
        }
        Some(_) => {
            return Err(AppError::OAuthClientNotIdSecret);
        }
    };
    if let Some(client) = &oauth {
        // Not println!: a caller that read only the first line (the URL) may have closed stdout.
        let _ = writeln!(
            std::io::stdout(),
            "OAuth token endpoint at http://{addr}/oauth2/token for client {:?} (tokens live {}s)",
            client.client_id,
            client.token_lifetime.as_secs()
        );
    }
    if jwks.is_some() {
        let _ = writeln!(
            std::io::stdout(),
            "issuer keys at http://{addr}/.well-known/jwks.json"
        );
    }
    let requires = match (&args.token, &oauth, &jwks) {
        (None, None, None) => {
            Some("no --token given: requests are accepted without a bearer token")
        }
        (None, None, Some(_)) => {
            Some("no --token given: requests need a bearer JWT these keys verify")
        }
        (None, Some(_), Some(_)) => Some(
            "no --token given: requests need a bearer JWT these keys verify or a token the OAuth endpoint issued",
        ),
        _ => None,
    };
    if let Some(line) = requires {
        let _ = writeln!(std::io::stdout(), "{line}");
    }
    let config = TargetConfig {
        token: args.token.clone(),
        oauth,
        jwks,
        faults,
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
