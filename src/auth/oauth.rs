//! OAuth 2.0 client credentials (RFC 6749 §4.4): fetches an access token from the job's token
//! endpoint before the first request, reuses it while it lives and fetches the next one before it
//! expires. One [`TokenCache`] is shared by every flow of a cycle; a refresh is single-flight (the
//! flows that need a token while it is being fetched wait for that one fetch).
//!
//! The client secret and the access tokens are [`Secret`]s: no error, log line or `Debug` output
//! holds them, and what a token endpoint echoes back is scrubbed of the secret before it is shown.

use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use crate::config::{ClientAuthMethod, OAuthClient, REDACTED, Secret, redact};

/// The largest token-endpoint answer read; a token response is a few hundred bytes.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;
/// Longest refresh margin: a token is replaced when less than this much of its life is left
/// (or a quarter of its lifetime, when that is shorter — for the short-lived tokens of tests).
const MAX_MARGIN: Duration = Duration::from_secs(60);
/// How much of a token endpoint's error text is shown.
const MAX_DETAIL: usize = 300;

/// Why no access token could be obtained. The text names the token endpoint and which of the
/// three things happened; it never holds the client secret or a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenFailure {
    /// The endpoint answered with an OAuth error (RFC 6749 §5.2), e.g. `invalid_client`.
    #[error("the token endpoint {url} refused the client id {client_id:?}: {detail}")]
    Refused {
        /// The token endpoint.
        url: String,
        /// The client id.
        client_id: String,
        /// The OAuth error, its description and the HTTP status.
        detail: String,
    },
    /// No answer: the endpoint could not be connected to, or timed out.
    #[error("the token endpoint {url} could not be reached: {detail}")]
    Unreachable {
        /// The token endpoint.
        url: String,
        /// The transport error.
        detail: String,
    },
    /// An answer that is neither a token response (§5.1) nor an OAuth error (§5.2).
    #[error("the token endpoint {url} answered {detail}; no access token was obtained")]
    Unusable {
        /// The token endpoint.
        url: String,
        /// What was wrong with the answer (never the body of a success: it may hold a token).
        detail: String,
    },
}

/// What one token request came to ([`TokenCache::check`]), to be shown: the client secret and
/// every token in it redacted.
#[derive(Debug)]
pub struct TokenCheck {
    /// The form sent, the client secret as `[redacted]`.
    pub sent: serde_json::Value,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// The answer's body, its tokens and the client secret redacted.
    pub body: String,
    /// The token and its stated lifetime, or why there is none.
    pub grant: Result<Grant, TokenFailure>,
}

/// An access token and the lifetime its endpoint stated (`expires_in`, when it did).
#[derive(Debug)]
pub struct Grant {
    /// The access token.
    pub token: Secret,
    /// Its lifetime.
    pub expires_in: Option<Duration>,
}

/// A usable access token: the header to send, and which fetch it came from.
#[derive(Clone)]
pub struct Bearer {
    /// `Authorization: Bearer …`, marked sensitive.
    pub header: HeaderValue,
    generation: u64,
}

struct Cached {
    header: HeaderValue,
    /// When to fetch the next one; `None` when the endpoint stated no lifetime (`expires_in` is
    /// only RECOMMENDED): then the token is kept until the SCIM server refuses it.
    refresh_at: Option<Instant>,
    generation: u64,
}

/// The job's OAuth client and its current access token.
pub struct TokenCache {
    http: reqwest::Client,
    client: OAuthClient,
    secret: Secret,
    cached: tokio::sync::Mutex<(Option<Cached>, u64)>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("token_url", &self.client.token_url)
            .field("client_id", &self.client.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache fetching tokens for `client` (its secret resolved) over `http`, which follows no
    /// redirect (a redirect would carry the client secret elsewhere).
    pub fn new(http: reqwest::Client, client: OAuthClient, secret: Secret) -> Self {
        Self {
            http,
            client,
            secret,
            cached: tokio::sync::Mutex::new((None, 0)),
        }
    }

    /// The current token, fetching a new one first when there is none or it is about to expire.
    pub async fn bearer(&self) -> Result<Bearer, TokenFailure> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = &cached.0
            && c.refresh_at.is_none_or(|at| crate::clock::monotonic() < at)
        {
            return Ok(Bearer {
                header: c.header.clone(),
                generation: c.generation,
            });
        }
        cached.0 = None;
        let (header, refresh_at) = self.fetch().await?;
        cached.1 += 1;
        let generation = cached.1;
        cached.0 = Some(Cached {
            header: header.clone(),
            refresh_at,
            generation,
        });
        Ok(Bearer { header, generation })
    }

    /// A token other than `refused` (which the SCIM server answered 401): drops it, unless a
    /// concurrent flow already replaced it, and returns the current one.
    pub async fn renew(&self, refused: &Bearer) -> Result<Bearer, TokenFailure> {
        {
            let mut cached = self.cached.lock().await;
            if cached
                .0
                .as_ref()
                .is_some_and(|c| c.generation == refused.generation)
            {
                cached.0 = None;
            }
        }
        self.bearer().await
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.client.token_url
    }

    /// One token request of its own (the cache untouched), for a check of the endpoint itself:
    /// what was sent and answered, redacted, and the token with the lifetime the endpoint stated.
    pub async fn check(&self) -> TokenCheck {
        let sent = self.sent_form();
        let (status, body) = match self.answer().await {
            Ok(answer) => answer,
            Err(failure) => {
                return TokenCheck {
                    sent,
                    status: None,
                    body: String::new(),
                    grant: Err(failure),
                };
            }
        };
        let grant = if status.is_success() {
            token_response(&body)
                .map(|(token, expires_in)| Grant { token, expires_in })
                .map_err(|e| self.unusable(e))
        } else {
            Err(self.refusal(status, &body))
        };
        let mut shown = self.shown_body(status.is_success(), &body);
        if let Ok(Grant { token, .. }) = &grant {
            // In case the endpoint repeats the token under another name.
            shown = token.redact(&shown);
        }
        TokenCheck {
            sent,
            status: Some(status.as_u16()),
            body: shown,
            grant,
        }
    }

    /// One token request and what its answer means.
    async fn fetch(&self) -> Result<(HeaderValue, Option<Instant>), TokenFailure> {
        let started = crate::clock::monotonic();
        let (status, body) = self.answer().await?;
        if status.is_success() {
            return self.accepted(&body, started);
        }
        Err(self.refusal(status, &body))
    }

    /// Sends one token request and reads its answer (up to [`MAX_TOKEN_RESPONSE`] bytes).
    async fn answer(&self) -> Result<(reqwest::StatusCode, Vec<u8>), TokenFailure> {
        let mut response = self
            .request()
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(&e))? {
            if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
                return Err(self.unusable(format!(
                    "HTTP {} with a body larger than {MAX_TOKEN_RESPONSE} bytes",
                    status.as_u16()
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    /// The form [`TokenCache::request`] sends, the client secret as `[redacted]` (with HTTP
    /// Basic the id and secret travel in the header, not shown).
    fn sent_form(&self) -> serde_json::Value {
        let mut form = serde_json::Map::new();
        form.insert("grant_type".into(), "client_credentials".into());
        if let Some(scope) = &self.client.scope {
            form.insert("scope".into(), scope.as_str().into());
        }
        if self.client.auth_method == ClientAuthMethod::ClientSecretPost {
            form.insert("client_id".into(), self.client.client_id.as_str().into());
            form.insert("client_secret".into(), REDACTED.into());
        }
        serde_json::Value::Object(form)
    }

    /// An answer's body as it may be shown: a success's tokens redacted (and nothing of a
    /// success that is not a JSON object), the client secret scrubbed, cut to length.
    fn shown_body(&self, success: bool, body: &[u8]) -> String {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        match json {
            Some(serde_json::Value::Object(mut fields)) => {
                for (key, value) in fields.iter_mut() {
                    if key.ends_with("_token") {
                        *value = REDACTED.into();
                    }
                }
                self.scrub(&cut(&serde_json::Value::Object(fields).to_string()))
            }
            _ if success => format!(
                "({} bytes that are not a JSON object, not shown)",
                body.len()
            ),
            _ => self.scrub(&cut(&String::from_utf8_lossy(body))),
        }
    }

    /// `grant_type=client_credentials`, form-encoded, the client authenticated in the body or
    /// with HTTP Basic (RFC 6749 §2.3.1, §4.4.2).
    fn request(&self) -> reqwest::RequestBuilder {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.client.scope {
            form.push(("scope", scope));
        }
        let mut request = self
            .http
            .post(&self.client.token_url)
            .header(reqwest::header::ACCEPT, "application/json");
        match self.client.auth_method {
            ClientAuthMethod::ClientSecretPost => {
                form.push(("client_id", &self.client.client_id));
                form.push(("client_secret", self.secret.expose()));
            }
            ClientAuthMethod::ClientSecretBasic => {
                // §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
                request = request.basic_auth(
                    form_encode(&self.client.client_id),
                    Some(form_encode(self.secret.expose())),
                );
            }
        }
        request.form(&form)
    }

    /// A token response (§5.1): the header to send, and when to fetch the next token (its
    /// lifetime counted from `started`, less the margin).
    fn accepted(
        &self,
        body: &[u8],
        started: Instant,
    ) -> Result<(HeaderValue, Option<Instant>), TokenFailure> {
        let (token, lifetime) = token_response(body).map_err(|e| self.unusable(e))?;
        let mut header = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| self.unusable("an access_token an HTTP header cannot carry".to_owned()))?;
        header.set_sensitive(true);
        let refresh_at = lifetime.map(|life| started + life - margin(life));
        Ok((header, refresh_at))
    }

    /// Why an answer other than a success gave no token: an OAuth error (§5.2), a redirect, or
    /// something else, its text scrubbed of the secret.
    fn refusal(&self, status: reqwest::StatusCode, body: &[u8]) -> TokenFailure {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let error = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(|e| e.as_str());
        match error {
            Some(error) if status.is_client_error() => {
                let description = json
                    .as_ref()
                    .and_then(|j| j.get("error_description"))
                    .and_then(|d| d.as_str())
                    .map(|d| format!(": {}", self.scrub(&cut(d))))
                    .unwrap_or_default();
                TokenFailure::Refused {
                    url: self.client.token_url.clone(),
                    client_id: self.client.client_id.clone(),
                    detail: format!(
                        "{}{description} (HTTP {})",
                        self.scrub(&cut(error)),
                        status.as_u16()
                    ),
                }
            }
            _ if status.is_redirection() => self.unusable(format!(
                "HTTP {} (a redirect, not followed)",
                status.as_u16()
            )),
            _ => self.unusable(format!(
                "HTTP {} without an OAuth error: {}",
                status.as_u16(),
                self.scrub(&cut(&String::from_utf8_lossy(body)))
            )),
        }
    }

    fn unreachable(&self, e: &reqwest::Error) -> TokenFailure {
        TokenFailure::Unreachable {
            url: self.client.token_url.clone(),
            detail: self.scrub(&chain(e)),
        }
    }

    fn unusable(&self, detail: String) -> TokenFailure {
        TokenFailure::Unusable {
            url: self.client.token_url.clone(),
            detail,
        }
    }

    /// `text` without the cached access token, in case a server echoed it.
    pub fn redact_access_token(&self, text: &str) -> String {
        match self.cached.try_lock() {
            Ok(cached) => match cached.0.as_ref().and_then(|c| c.header.to_str().ok()) {
                Some(header) => redact(text, header.strip_prefix("Bearer ").unwrap_or(header)),
                None => text.to_owned(),
            },
            Err(_) => text.to_owned(),
        }
    }

    /// `text` without the client secret, in case the endpoint echoed it.
    fn scrub(&self, text: &str) -> String {
        self.secret.redact(text)
    }
}

/// How long before its end a token of `lifetime` is replaced: a quarter of its life, at most
/// [`MAX_MARGIN`].
fn margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(MAX_MARGIN)
}

/// A successful answer (RFC 6749 §5.1): the access token and its lifetime. The error text never
/// holds the body: it may carry a token.
fn token_response(body: &[u8]) -> Result<(Secret, Option<Duration>), String> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| "HTTP 200 with a body that is not JSON".to_owned())?;
    let token = json
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or("a JSON body without a non-empty string access_token")?;
    match json.get("token_type").and_then(|t| t.as_str()) {
        // §7.1: the type is case-insensitive.
        Some(kind) if kind.eq_ignore_ascii_case("bearer") => {}
        Some(kind) => return Err(format!("token_type {:?}, not Bearer", cut(kind))),
        None => return Err("a token response without token_type (required by §5.1)".to_owned()),
    }
    let lifetime = match json.get("expires_in") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => {
            let seconds = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|s| *s > 0)
                .ok_or("expires_in that is not a positive number of seconds")?;
            Some(Duration::from_secs(seconds))
        }
    };
    Ok((Secret::new(token), lifetime))
}

/// `application/x-www-form-urlencoded` (RFC 6749 Appendix B).
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// reqwest's error text followed by each of its causes, `: `-separated (reqwest names the
/// connect or TLS failure only in a cause).
pub(crate) fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_DETAIL) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses_are_read_as_rfc_6749_says() {
        let ok =
            |body: &str| token_response(body.as_bytes()).map(|(t, l)| (t.expose().to_owned(), l));
        assert_eq!(
            ok(r#"{"access_token":"t1","token_type":"bearer","expires_in":3600}"#),
            Ok(("t1".to_owned(), Some(Duration::from_secs(3600))))
        );
        assert_eq!(
            ok(r#"{"access_token":"t2","token_type":"Bearer","expires_in":"60"}"#),
            Ok(("t2".to_owned(), Some(Duration::from_secs(60))))
        );
        assert_eq!(
            ok(r#"{"access_token":"t3","token_type":"Bearer"}"#),
            Ok(("t3".to_owned(), None))
        );
        for (body, expected) in [
            ("<html>", "not JSON"),
            (r#"{"token_type":"Bearer"}"#, "access_token"),
            (r#"{"access_token":"t","token_type":"mac"}"#, "not Bearer"),
            (r#"{"access_token":"t"}"#, "without token_type"),
            (
                r#"{"access_token":"t","token_type":"Bearer","expires_in":0}"#,
                "positive",
            ),
        ] {
            let error = ok(body).unwrap_err();
            assert!(error.contains(expected), "{body}: {error}");
            assert!(!error.contains("\"t\""), "{error}");
        }
    }

    #[test]
    fn the_margin_is_a_quarter_of_a_short_life_and_a_minute_of_a_long_one() {
        assert_eq!(margin(Duration::from_secs(2)), Duration::from_millis(500));
        assert_eq!(margin(Duration::from_secs(3600)), Duration::from_secs(60));
    }

    fn cache(auth_method: ClientAuthMethod) -> TokenCache {
        let client = OAuthClient {
            token_url: "http://127.0.0.1:9/token".into(),
            client_id: "entra".into(),
            client_secret: crate::config::SecretSource::Env("UNUSED".into()),
            scope: Some("scim".into()),
            auth_method,
        };
        TokenCache::new(reqwest::Client::new(), client, Secret::new("s3cret-5e1"))
    }

    /// What a check shows holds neither the client secret nor a token.
    #[test]
    fn a_check_shows_no_secret() {
        let post = cache(ClientAuthMethod::ClientSecretPost);
        assert_eq!(
            post.sent_form(),
            serde_json::json!({"grant_type": "client_credentials", "scope": "scim",
                "client_id": "entra", "client_secret": "[redacted]"})
        );
        let basic = cache(ClientAuthMethod::ClientSecretBasic);
        assert_eq!(
            basic.sent_form(),
            serde_json::json!({"grant_type": "client_credentials", "scope": "scim"})
        );
        let granted = post.shown_body(
            true,
            br#"{"access_token":"at-77","refresh_token":"rt-88","token_type":"Bearer","expires_in":600}"#,
        );
        assert!(
            !granted.contains("at-77") && !granted.contains("rt-88"),
            "{granted}"
        );
        assert!(granted.contains("\"expires_in\":600"), "{granted}");
        assert_eq!(
            post.shown_body(true, b"at-77"),
            "(5 bytes that are not a JSON object, not shown)"
        );
        let echoed = post.shown_body(false, b"bad secret s3cret-5e1");
        assert_eq!(echoed, "bad secret [redacted]");
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(form_encode("a b:c/é~"), "a+b%3Ac%2F%C3%A9%7E");
    }
}
