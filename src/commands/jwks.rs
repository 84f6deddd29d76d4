//! `entra-sim jwks`: the public JWKS of the key that signs a job's Entra JWT, made on first use.

use crate::auth::jwt::SigningKey;
use crate::cli::JwksArgs;
use crate::config::TokenSource;
use crate::error::AppError;
use crate::output::outln;

pub fn run(args: &JwksArgs) -> Result<i32, AppError> {
    let job = super::load_settings(&args.job)?;
    if !matches!(job.target.token, TokenSource::EntraJwt(_)) {
        return Err(AppError::NoEntraJwt {
            file: args.job.clone(),
        });
    }
    let key = SigningKey::load_or_create(&job.settings.state_dir).map_err(|source| {
        AppError::SigningKey {
            file: args.job.clone(),
            source,
        }
    })?;
    let text = serde_json::to_string_pretty(&key.jwks())?;
    outln!("{text}")?;
    Ok(0)
}
