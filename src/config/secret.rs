//! The bearer token: a [`Secret`] that never prints or serialises its value, and the
//! [`TokenSource`] a job names (environment variable, file, inline, or Entra's own JWT), resolved
//! only when a command actually talks to the target.

use std::fmt;
use std::path::PathBuf;

/// A secret string. `Debug` and `Display` print `[redacted]`; it implements no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that builds the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where the target's bearer token comes from (exactly one per job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `token_env`: an environment variable's name.
    Env(String),
    /// `token_file`: a file (resolved relative to the job file) whose content, trailing
    /// whitespace removed, is the token.
    File(PathBuf),
    /// `token`: inline in the job file (accepted with a warning).
    Inline(Secret),
    /// `entra_jwt`: no secret; Entra's own JWT, signed with the state directory's key
    /// ([`crate::auth::jwt`]).
    EntraJwt(crate::auth::jwt::EntraJwt),
}

/// Why the token could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The environment variable is unset.
    #[error("environment variable {0} (token_env) is not set")]
    EnvMissing(String),
    /// The token file could not be read.
    #[error("cannot read token_file {path}: {source}")]
    File {
        /// The token file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The token is empty.
    #[error("the token from {0} is empty")]
    Empty(String),
    /// The JWT's key could not be read, made or used.
    #[error("entra_jwt: {0}")]
    Jwt(#[from] crate::auth::jwt::JwtError),
}

impl TokenSource {
    /// Fetches the token; `env` looks up an environment variable (a parameter so tests need not
    /// touch the process environment; pass `|k| std::env::var(k).ok()`). An `entra_jwt` is
    /// signed with the key of `state_dir` (made on first use) as issued at `now` (Unix seconds).
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
        state_dir: &std::path::Path,
        now: i64,
    ) -> Result<Secret, TokenError> {
        let (value, origin) = match self {
            TokenSource::Env(name) => (
                env(name).ok_or_else(|| TokenError::EnvMissing(name.clone()))?,
                format!("token_env {name}"),
            ),
            TokenSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| TokenError::File {
                    path: path.clone(),
                    source,
                })?;
                (
                    text.trim_end().to_owned(),
                    format!("token_file {}", path.display()),
                )
            }
            TokenSource::Inline(secret) => {
                (secret.expose().to_owned(), "the inline token".to_owned())
            }
            TokenSource::EntraJwt(jwt) => {
                let key = crate::auth::jwt::SigningKey::load_or_create(state_dir)?;
                return Ok(key.sign(&jwt.claims(now))?);
            }
        };
        if value.is_empty() {
            Err(TokenError::Empty(origin))
        } else {
            Ok(Secret(value))
        }
    }
}
