//! `entra-sim target serve`: the built-in SCIM 2.0 target on 127.0.0.1 until Ctrl-C.

use crate::cli::ServeArgs;
use crate::error::AppError;
use crate::target::{self, TargetConfig};

pub async fn serve(args: ServeArgs) -> Result<i32, AppError> {
    let faults = match &args.fault {
        Some(spec) => {
            target::parse_spec(spec).map_err(|e| AppError::Input(format!("--fault: {e}")))?
        }
        None => Vec::new(),
    };
    let jwks = match &args.jwks {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| AppError::Input(format!("--jwks {}: {e}", path.display())))?;
            let jwks = target::Jwks::parse(&text)
                .map_err(|e| AppError::Input(format!("--jwks {}: {e}", path.display())))?;
            Some(jwks)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| AppError::Local(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::Local(e.to_string()))?;
    println!("SCIM target listening at http://{addr}/scim/v2 (Ctrl-C to stop)");
    if jwks.is_some() {
        println!("issuer keys at http://{addr}/.well-known/jwks.json");
    }
    match (&args.token, &jwks) {
        (None, None) => println!("no --token given: requests are accepted without a bearer token"),
        (None, Some(_)) => {
            println!("no --token given: requests need a bearer JWT these keys verify")
        }
        (Some(_), _) => {}
    }
    let config = TargetConfig {
        token: args.token.clone(),
        jwks,
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
