//! The bearer token: a [`Secret`] that never prints or serialises its value, and the
//! [`TokenSource`] a job names (environment variable, file, inline, an OAuth 2.0 client whose
//! secret comes from an environment variable or a file, or Entra's own JWT), resolved only when a
//! command actually talks to the target.

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

/// What a redacted secret reads as.
pub const REDACTED: &str = "[redacted]";

/// The shortest secret [`redact`] replaces wherever it occurs.
const REDACTED_ANYWHERE: usize = 8;

impl Secret {
    /// `text` with this secret replaced by `[redacted]` ([`redact`]).
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.0)
    }
}

/// `text` with `secret` replaced by `[redacted]`, in case a server or an endpoint echoed it. A
/// secret shorter than 8 characters is replaced only where it stands alone, not inside a longer
/// run of letters and digits: a token `x` would otherwise garble every word with an x in it, and
/// inside a word those few characters say nothing of the secret.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    if secret.len() >= REDACTED_ANYWHERE {
        return text.replace(secret, REDACTED);
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (at, _) in text.match_indices(secret) {
        let end = at + secret.len();
        if at < from || word(text[..at].chars().next_back()) || word(text[end..].chars().next()) {
            continue;
        }
        out.push_str(&text[from..at]);
        out.push_str(REDACTED);
        from = end;
    }
    out.push_str(&text[from..]);
    out
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
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
    /// `oauth`: access tokens from a token endpoint (OAuth 2.0 client credentials, RFC 6749 §4.4).
    OAuth(OAuthClient),
}

/// `target.oauth`: the client Entra authenticates as at the app's token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The token endpoint (`token_url`).
    pub token_url: String,
    /// `client_id`.
    pub client_id: String,
    /// Where the client secret comes from: `client_secret_env` or `client_secret_file`.
    pub client_secret: SecretSource,
    /// `scope`, sent when given.
    pub scope: Option<String>,
    /// How the client authenticates (`auth_method`).
    pub auth_method: ClientAuthMethod,
}

/// Where a secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file (resolved relative to the job file); its content, trailing whitespace removed.
    File(PathBuf),
}

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// `client_id` and `client_secret` in the form body (the default).
    #[default]
    ClientSecretPost,
    /// HTTP Basic authentication with the form-encoded id and secret.
    ClientSecretBasic,
}

/// Why the token could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The environment variable is unset (its name, and the key naming it without `_env`).
    #[error("environment variable {0} ({1}_env) is not set")]
    EnvMissing(String, String),
    /// The token file could not be read.
    #[error("cannot read {what}_file {path}: {source}")]
    File {
        /// `token` or `client_secret`.
        what: String,
        /// The token file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The token (or client secret) is empty.
    #[error("the secret from {0} is empty")]
    Empty(String),
    /// The JWT's key could not be read, made or used.
    #[error("entra_jwt: {0}")]
    Jwt(#[from] crate::auth::jwt::JwtError),
}

/// What a job authenticates with, resolved: a static bearer token, or an OAuth client with its
/// secret read (the access tokens are fetched by `auth::oauth` as requests need them).
#[derive(Debug, Clone)]
pub enum Credential {
    /// `Authorization: Bearer` with this token.
    Bearer(Secret),
    /// OAuth 2.0 client credentials.
    OAuth(OAuthClient, Secret),
}

impl SecretSource {
    fn read(
        &self,
        env: impl Fn(&str) -> Option<String>,
        what: &str,
    ) -> Result<(String, String), TokenError> {
        match self {
            SecretSource::Env(name) => Ok((
                env(name).ok_or_else(|| TokenError::EnvMissing(name.clone(), what.to_owned()))?,
                format!("{what}_env {name}"),
            )),
            SecretSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| TokenError::File {
                    what: what.to_owned(),
                    path: path.clone(),
                    source,
                })?;
                Ok((
                    text.trim_end().to_owned(),
                    format!("{what}_file {}", path.display()),
                ))
            }
        }
    }
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
    ) -> Result<Credential, TokenError> {
        let (value, origin) = match self {
            TokenSource::Env(name) => SecretSource::Env(name.clone()).read(env, "token")?,
            TokenSource::File(path) => SecretSource::File(path.clone()).read(env, "token")?,
            TokenSource::Inline(secret) => {
                (secret.expose().to_owned(), "the inline token".to_owned())
            }
            TokenSource::OAuth(client) => {
                let (value, origin) = client.client_secret.read(env, "client_secret")?;
                if value.is_empty() {
                    return Err(TokenError::Empty(origin));
                }
                return Ok(Credential::OAuth(client.clone(), Secret(value)));
            }
            TokenSource::EntraJwt(jwt) => {
                let key = crate::auth::jwt::SigningKey::load_or_create(state_dir)?;
                return Ok(Credential::Bearer(key.sign(&jwt.claims(now))?));
            }
        };
        if value.is_empty() {
            Err(TokenError::Empty(origin))
        } else {
            Ok(Credential::Bearer(Secret(value)))
        }
    }
}
