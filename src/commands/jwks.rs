//! `entra-sim jwks`: the public JWKS of the key that signs a job's Entra JWT, made on first use.

use crate::auth::jwt::SigningKey;
use crate::cli::JwksArgs;
use crate::config::TokenSource;
use crate::error::AppError;

pub fn run(args: &JwksArgs) -> Result<i32, AppError> {
    let job = super::load_settings(&args.job)?;
    if !matches!(job.target.token, TokenSource::EntraJwt(_)) {
        return Err(AppError::Input(format!(
            "{}: target: has no entra_jwt block, so its requests carry no JWT of entra-sim's",
            args.job.display()
        )));
    }
    let key = SigningKey::load_or_create(&job.settings.state_dir)
        .map_err(|e| AppError::Local(format!("{}: target: entra_jwt: {e}", args.job.display())))?;
    let text =
        serde_json::to_string_pretty(&key.jwks()).map_err(|e| AppError::Local(e.to_string()))?;
    println!("{text}");
    Ok(0)
}
