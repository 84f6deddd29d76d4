//! `entra-sim target serve`: the built-in SCIM 2.0 target on 127.0.0.1 until Ctrl-C.

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
    let oauth = args
        .oauth_client
        .clone()
        .map(|(client_id, client_secret)| OAuthClientConfig {
            client_id,
            client_secret,
            token_lifetime: args.token_lifetime.to_std().unwrap_or_default(),
        });
    if let Some(client) = &oauth {
        println!(
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
