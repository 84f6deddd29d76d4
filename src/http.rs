//! The HTTP client (reqwest, rustls), the [`Transport`] of every command that talks to a server:
//! sends one planned [`Request`] to the Tenant URL with Entra's headers and turns whatever happens
//! into a [`Reply`]. With `auth::oauth` (the token requests,
//! on this client's connection pool) the only code that imports reqwest.

use std::sync::Mutex;
use std::time::Duration;

use std::sync::Arc;

use crate::auth::oauth::{Bearer, TokenCache};
use crate::clock::Clock;
use crate::config::{Credential, Secret};
use crate::plan::{Method, Reply, Request};
use crate::runner::{FlowId, Sending, Transport};

/// How a client talks to the server: the job's settings that shape each request.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per-request timeout.
    pub timeout: Duration,
    /// A `User-Agent` to send (none by default, as Entra).
    pub user_agent: Option<String>,
    /// The largest response body read; a larger one fails the request unread.
    pub max_response_bytes: u64,
}

/// Sends requests to one SCIM endpoint with one bearer token, or with the access tokens of an
/// OAuth client.
pub struct ScimClient {
    client: reqwest::Client,
    max_response_bytes: u64,
    timeout: Duration,
    base: String,
    /// A secret to scrub from error texts: the static token or the OAuth client secret.
    token: Secret,
    authorization: Authorization,
    /// With Entra's own JWT: the bearer signed anew before it runs out.
    renewal: Option<Renewal>,
}

/// Where each request's `Authorization` header comes from.
enum Authorization {
    /// A static bearer token, the header built once.
    Static(reqwest::header::HeaderValue),
    /// OAuth 2.0 client credentials: the current access token, refreshed as it nears its end.
    OAuth(Box<TokenCache>),
}

/// A bearer replaced before it runs out (Entra's own JWT, signed anew): after `every` seconds
/// of `clock`, the next request carries `sign(now)`.
struct Renewal {
    sign: Box<dyn Fn(i64) -> Option<Secret> + Send + Sync>,
    clock: Arc<dyn Clock>,
    every: i64,
    /// When the current bearer is to be replaced, the bearer, and its token (for `scrub`).
    current: Mutex<(i64, reqwest::header::HeaderValue, Secret)>,
}

impl Renewal {
    /// The bearer to send now, signed anew if it is due.
    fn authorization(&self) -> reqwest::header::HeaderValue {
        let now = self.clock.now().timestamp();
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if now >= current.0
            && let Some(token) = (self.sign)(now)
            && let Ok(header) = bearer(token.expose())
        {
            *current = (now + self.every, header, token);
        }
        current.1.clone()
    }
}

/// `Bearer token`, marked sensitive so that no debug output of a request shows it.
fn bearer(token: &str) -> Result<reqwest::header::HeaderValue, ClientError> {
    let mut header = reqwest::header::HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| ClientError::Token)?;
    header.set_sensitive(true);
    Ok(header)
}

impl std::fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimClient")
            .field("base", &self.base)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// The reply to a request that was never sent: no access token could be obtained.
fn no_token(failure: &crate::auth::oauth::TokenFailure) -> Reply {
    Reply::NoToken {
        message: failure.to_string(),
    }
}

/// Why the client could not be built (the token itself is never shown).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// reqwest refused the settings.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// The token cannot go in a header.
    #[error("the bearer token holds a character an HTTP header cannot carry (a control character)")]
    Token,
}

impl ScimClient {
    /// A client for `base` (the Tenant URL without feature flags) sending `Authorization: Bearer`
    /// with the static token of `credential`, or with access tokens of its OAuth client.
    ///
    /// Headers, as far as real traffic shows them (the README's UNCONFIRMED table):
    /// - no `User-Agent` unless `user_agent` is given: Entra sends none (kortix-ai/suna PR 7297: a
    ///   firewall rule requiring one rejected Entra's Test Connection), as .NET's `HttpClient`
    ///   sends none unless told to;
    /// - `Accept: */*` (reqwest's default, which it always adds): no capture shows Entra's, and
    ///   azure-docs#94189 (a Rails server treated Entra's Test Connection as a request for HTML
    ///   and answered 406) shows it does not ask for JSON — `*/*` and no header read alike there;
    /// - `Content-Type: application/scim+json; charset=utf-8` on bodies (azure-docs#12728).
    ///
    /// Redirects are never followed and no `Referer` is sent: a redirect could carry every
    /// request body (personal data) to another host, and what Entra does with one is not
    /// documented (.NET's `HttpClient`, which follows by default, drops the `Authorization`
    /// header when it does, so a redirected request would not be authorized anyway). A 3xx
    /// answer fails the request, naming its `Location`.
    pub fn new(
        base: &str,
        credential: &Credential,
        options: &ClientOptions,
    ) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .pool_max_idle_per_host(64);
        if let Some(agent) = &options.user_agent {
            builder = builder.user_agent(agent);
        }
        let client = builder
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        let (authorization, token) = match credential {
            // Built once (unless renewed).
            Credential::Bearer(token) => (Authorization::Static(bearer(token.expose())?), token),
            Credential::OAuth(oauth, secret) => (
                Authorization::OAuth(Box::new(TokenCache::new(
                    client.clone(),
                    oauth.clone(),
                    secret.clone(),
                ))),
                secret,
            ),
        };
        Ok(Self {
            token: token.clone(),
            client,
            max_response_bytes: options.max_response_bytes,
            timeout: options.timeout,
            base: base.trim_end_matches('/').to_string(),
            authorization,
            renewal: None,
        })
    }

    /// This client, its bearer (issued at `issued_at`, Unix seconds of `clock`) replaced by
    /// `sign(now)` every `every_secs`: a client that outlives a JWT never sends an expired one.
    pub fn renewing(
        mut self,
        issued_at: i64,
        every_secs: i64,
        clock: Arc<dyn Clock>,
        sign: impl Fn(i64) -> Option<Secret> + Send + Sync + 'static,
    ) -> Self {
        let Authorization::Static(header) = &self.authorization else {
            return self;
        };
        let first = self.token.clone();
        self.renewal = Some(Renewal {
            sign: Box::new(sign),
            clock,
            every: every_secs,
            current: Mutex::new((issued_at + every_secs, header.clone(), first)),
        });
        self
    }

    /// The Tenant URL requests go to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The OAuth client this client gets its access tokens from, if it has one.
    pub fn oauth(&self) -> Option<&TokenCache> {
        match &self.authorization {
            Authorization::OAuth(cache) => Some(cache),
            Authorization::Static(_) => None,
        }
    }

    /// The same client (connection pool, Tenant URL, limits) sending the static bearer `token`
    /// instead: to try an access token obtained apart from the cache.
    pub fn with_bearer(&self, token: &Secret) -> Result<ScimClient, ClientError> {
        Ok(Self {
            client: self.client.clone(),
            max_response_bytes: self.max_response_bytes,
            timeout: self.timeout,
            base: self.base.clone(),
            token: token.clone(),
            authorization: Authorization::Static(bearer(token.expose())?),
            renewal: None,
        })
    }

    /// Sends `request` and waits for the reply.
    async fn deliver(&self, request: &Request) -> Reply {
        let url = format!("{}{}", self.base, request.path);
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let cache = match &self.authorization {
            Authorization::Static(header) => {
                let header = self
                    .renewal
                    .as_ref()
                    .map_or_else(|| header.clone(), Renewal::authorization);
                return self.exchange(method, &url, request, header).await;
            }
            Authorization::OAuth(cache) => cache,
        };
        let bearer = match cache.bearer().await {
            Ok(bearer) => bearer,
            Err(failure) => return no_token(&failure),
        };
        let reply = self
            .exchange(method.clone(), &url, request, bearer.header.clone())
            .await;
        if !matches!(reply, Reply::Http { status: 401, .. }) {
            return reply;
        }
        // A token that should still be live was refused (revoked, or the server's clock runs
        // ahead): one fresh token and one retry; a second 401 is the server's answer.
        match cache.renew(&bearer).await {
            Ok(Bearer { header, .. }) => self.exchange(method, &url, request, header).await,
            Err(failure) => no_token(&failure),
        }
    }

    async fn exchange(
        &self,
        method: reqwest::Method,
        url: &str,
        request: &Request,
        authorization: reqwest::header::HeaderValue,
    ) -> Reply {
        let mut builder = self
            .client
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, authorization);
        if let Some(body) = &request.body {
            builder = builder
                .header("Content-Type", "application/scim+json; charset=utf-8")
                .body(serde_json::to_vec(body).unwrap_or_else(|_| body.to_string().into_bytes()));
        }
        match builder.send().await {
            Ok(response) => self.receive(response).await,
            Err(e) => Reply::Transport {
                timeout: e.is_timeout(),
                connect: e.is_connect(),
                message: self.explain(&e),
            },
        }
    }

    /// A response as a [`Reply`]: a redirect is a failure naming where it pointed, and a body is
    /// read only up to `max_response_bytes`.
    async fn receive(&self, mut response: reqwest::Response) -> Reply {
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if status.is_redirection() {
            let location = header("location").unwrap_or_else(|| "(no Location header)".into());
            return Reply::Transport {
                timeout: false,
                connect: false,
                message: format!(
                    "the server answered {status} redirecting to {location}; redirects are not followed (the request was not sent there)"
                ),
            };
        }
        let retry_after = header("retry-after");
        let limit = self.max_response_bytes;
        let too_large = || Reply::Transport {
            timeout: false,
            connect: false,
            message: format!(
                "the server answered {status} with a body larger than settings.max_response_bytes ({limit} bytes); it was not read"
            ),
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return too_large();
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return too_large();
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Reply::Transport {
                        timeout: e.is_timeout(),
                        connect: false,
                        message: self.explain(&e),
                    };
                }
            }
        }
        Reply::Http {
            status: status.as_u16(),
            retry_after,
            body,
        }
    }

    /// What went wrong, in words: a timeout names the setting that bounds it, a connection that
    /// could not be made names the Tenant URL and the system's reason (say, "Connection
    /// refused"); anything else is reqwest's own text, with the token removed.
    fn explain(&self, error: &reqwest::Error) -> String {
        if error.is_timeout() {
            return format!(
                "the server did not answer within {} s (settings.request_timeout_secs)",
                self.timeout.as_secs()
            );
        }
        if error.is_connect() {
            // The innermost cause is the system's reason; the outer ones repeat the URL.
            let mut reason = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                reason = cause.to_string();
                source = cause.source();
            }
            let reason = self.scrub_text(&reason);
            return format!(
                "could not connect to {} ({reason}); is the server running?",
                self.base
            );
        }
        self.scrub(error)
    }

    /// reqwest's error text, with the token removed in case a server echoed it into a URL.
    fn scrub(&self, error: &reqwest::Error) -> String {
        self.scrub_text(&crate::auth::oauth::chain(error))
    }

    /// `text` without this client's secrets — its bearer token or OAuth client secret, the
    /// current OAuth access token, the current signed JWT — in case a server echoed one into what
    /// it answered ([`crate::config::redact`]).
    pub fn scrub_text(&self, text: &str) -> String {
        let mut text = self.token.redact(text);
        if let Some(cache) = self.oauth() {
            text = cache.redact_access_token(&text);
        }
        if let Some(renewal) = &self.renewal {
            let current = renewal.current.lock().unwrap_or_else(|p| p.into_inner());
            text = current.2.redact(&text);
        }
        text
    }
}

/// The HTTP transport: every request goes to the Tenant URL.
impl Transport for ScimClient {
    fn send<'a>(&'a self, _flow: FlowId, request: &'a Request) -> Sending<'a> {
        Box::pin(self.deliver(request))
    }
}

#[cfg(test)]
impl ScimClient {
    /// The static (or re-signed) bearer the next request would carry.
    fn static_bearer(&self) -> reqwest::header::HeaderValue {
        match (&self.authorization, &self.renewal) {
            (_, Some(renewal)) => renewal.authorization(),
            (Authorization::Static(header), None) => header.clone(),
            (Authorization::OAuth(_), None) => reqwest::header::HeaderValue::from_static(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    /// A JWT is signed anew once its renewal time has come, and not before.
    #[test]
    fn a_renewing_client_signs_a_new_bearer_when_it_is_due() {
        let start = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let clock = Arc::new(FakeClock::new(start));
        let options = ClientOptions {
            timeout: Duration::from_secs(1),
            user_agent: None,
            max_response_bytes: 1,
        };
        let signed = Arc::new(Mutex::new(Vec::new()));
        let log = signed.clone();
        let client = ScimClient::new(
            "http://127.0.0.1:9",
            &Credential::Bearer(Secret::new("first")),
            &options,
        )
        .unwrap()
        .renewing(start.timestamp(), 55 * 60, clock.clone(), move |now| {
            log.lock().unwrap().push(now);
            Some(Secret::new(format!("at-{now}")))
        });
        let sent = |c: &ScimClient| c.static_bearer().to_str().unwrap().to_owned();
        assert_eq!(sent(&client), "Bearer first");
        clock.advance(chrono::Duration::minutes(54));
        assert_eq!(sent(&client), "Bearer first");
        clock.advance(chrono::Duration::minutes(1));
        let due = start.timestamp() + 55 * 60;
        assert_eq!(sent(&client), format!("Bearer at-{due}"));
        clock.advance(chrono::Duration::minutes(30));
        assert_eq!(sent(&client), format!("Bearer at-{due}"));
        assert_eq!(*signed.lock().unwrap(), [due]);
        assert!(client.static_bearer().is_sensitive());
    }
}
