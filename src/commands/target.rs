//! `entra-sim target serve`: the built-in SCIM 2.0 target on 127.0.0.1 until Ctrl-C.

use std::io::Write;

use crate::cli::ServeArgs;
use crate::error::AppError;
use crate::target::{self, OAuthClientConfig, TargetConfig};

pub async fn serve(args: ServeArgs) -> Result<i32, AppError> {
    let faults = match &args.fault {
        Some(spec) => {
            target::parse_spec(spec).map_err(|e| AppError::Input(format!("--fault: {e}")))?
        }
        None => Vec::new(),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| AppError::Local(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::Local(e.to_string()))?;
    println!("SCIM target listening at http://{addr}/scim/v2 (Ctrl-C to stop)");
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
            return Err(AppError::Input(
                "--oauth-client: write the client as ID:SECRET, both non-empty".into(),
            ));
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
    } else if args.token.is_none() {
        println!("no --token given: requests are accepted without a bearer token");
    }
    let config = TargetConfig {
        token: args.token.clone(),
        oauth,
        faults,
        max_recorded: args.max_recorded,
        ..TargetConfig::default()
    };
    target::serve(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| AppError::Local(e.to_string()))?;
    Ok(0)
}
