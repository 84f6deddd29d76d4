//! Classifying what a SCIM server answered into Entra's outcomes (spec §3): success (with the
//! resource and its `id`), no match / one match / duplicates for queries, or a failure carrying the
//! log error code, the reason text in Entra's format, a retry class, and whether it is a credential
//! failure. Reading is tolerant where Entra is (string or integer `status`, string or numeric `id`,
//! extra attributes) and strict where Entra is (a body that is not SCIM JSON).
//!
//! Reason texts end after the web response; the log layer appends Entra's ". This operation was
//! retried N times. It will be retried again after this date: …" suffix. No text ever contains an
//! Authorization header or bearer token, even if a server echoes one back.

use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use crate::scim::codes::ErrorCode;
use crate::scim::http_status::dotnet_status_name;
use crate::scim::path::{get_ci, scalar_text};

/// Which request a response answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// A Test Connection probe (credential validation).
    TestConnection,
    /// A matching query (`GET /Users?filter=…`).
    Query,
    /// A read of a connected object (`GET /Users/{id}`).
    GetById,
    /// `POST`.
    Create,
    /// `PATCH`.
    Update,
    /// `DELETE`.
    Delete,
}

/// When a server's `Retry-After` says to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 120`.
    Seconds(u64),
    /// `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
    At(DateTime<Utc>),
}

/// What Entra does next with the object or job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryClass {
    /// Nothing to retry.
    Success,
    /// Retried in the next cycle ("retried in 40 minutes").
    NextCycle,
    /// Escrowed: parked and retried on the escrow schedule.
    Escrow,
    /// The job goes into quarantine.
    Quarantine,
    /// Retried automatically (429), after the server's `Retry-After` when it sent a readable one.
    AutoRetry(Option<RetryAfter>),
}

/// Whether a transport failure was a timeout or another protocol/connection error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No response within the request timeout.
    Timeout,
    /// Connection refused/reset, TLS or HTTP protocol failure.
    Protocol,
}

/// The SCIM error message body (`urn:ietf:params:scim:api:messages:2.0:Error`), as far as present.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScimError {
    /// `status`, whether the server sent it as a string or an integer.
    pub status: Option<String>,
    /// `scimType`.
    pub scim_type: Option<String>,
    /// `detail`.
    pub detail: Option<String>,
}

/// A failed operation as Entra logs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The log error code.
    pub code: ErrorCode,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The reason text (`StatusCode: Conflict Message: … Web Response: {…}`).
    pub reason: String,
    /// What happens next.
    pub retry: RetryClass,
    /// True for credential failures (401/403, and 501 on Test Connection): they feed quarantine.
    pub credential: bool,
    /// The parsed SCIM error body, if the server sent one.
    pub scim_error: Option<ScimError>,
}

/// The classified response.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A write or read succeeded; `id` and `resource` are present when the server sent a resource.
    Success {
        /// The resource's `id` (always present after a create).
        id: Option<String>,
        /// The resource the server returned.
        resource: Option<Json>,
    },
    /// A query found nothing (empty ListResponse); `claimed` is the `totalResults` the server
    /// stated with it (0 when absent) — above 0 is an inconsistency worth a warning.
    NoMatch {
        /// The stated `totalResults`.
        claimed: u64,
    },
    /// A query found exactly one resource.
    Match {
        /// Its `id`: the anchor.
        id: String,
        /// The resource as returned.
        resource: Json,
    },
    /// The operation failed.
    Failure(Failure),
}

const WEB_EXCEPTION: &str = "Processing of the HTTP request resulted in an exception. Please see the HTTP response returned by the 'Response' property of this exception for details.";
const NOT_DESERIALIZABLE: &str = "We are not able to deserialize the resource received from your SCIM endpoint because your SCIM endpoint is not fully compatible with the Azure Active Directory SCIM client. Here is the resource we received from your SCIM endpoint:";
const COMPLIANCE_404: &str = "SCIM Compliance issue: An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response.";
const INVALID_CREDENTIALS: &str = "You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account.";
/// Bodies longer than this are cut in reason texts (an HTML error page can be large).
const MAX_BODY_CHARS: usize = 4000;

impl Outcome {
    /// A request that got no HTTP response: `Timeout` or `WebExceptionProtocolError`, retried next cycle.
    pub fn transport(kind: TransportKind, message: &str) -> Self {
        let code = match kind {
            TransportKind::Timeout => ErrorCode::Timeout,
            TransportKind::Protocol => ErrorCode::WebExceptionProtocolError,
        };
        Self::Failure(Failure {
            code,
            status: None,
            reason: redact(message),
            retry: RetryClass::NextCycle,
            credential: false,
            scim_error: None,
        })
    }

    /// No access token could be obtained for the request (`message` says why): a credential
    /// failure of the job, `SystemForCrossDomainIdentityManagementCredentialValidationFailure`
    /// with Entra's invalid-credentials text, whatever the operation.
    pub fn no_token(message: &str) -> Self {
        Self::Failure(Failure {
            code: ErrorCode::SystemForCrossDomainIdentityManagementCredentialValidationFailure,
            status: None,
            reason: format!("{INVALID_CREDENTIALS} {}", redact(message)),
            retry: RetryClass::Quarantine,
            credential: true,
            scim_error: None,
        })
    }

    /// The retry class; [`RetryClass::Success`] for anything but a failure.
    pub fn retry_class(&self) -> RetryClass {
        match self {
            Self::Failure(failure) => failure.retry.clone(),
            _ => RetryClass::Success,
        }
    }

    /// True for a credential failure.
    pub fn is_credential_failure(&self) -> bool {
        matches!(self, Self::Failure(failure) if failure.credential)
    }
}

/// Classifies one HTTP response to an operation of kind `op`.
pub fn classify(op: OpKind, status: u16, retry_after: Option<&str>, body: &[u8]) -> Outcome {
    classify_as(op, status, retry_after, body, true)
}

/// As [`classify`], but the resource a create or update answered with is only checked (a JSON
/// object, with an `id` after a create) and its `id` taken, never built: `resource` is `None`.
/// For the engine's writes, which need no more of the reply.
pub fn classify_write(op: OpKind, status: u16, retry_after: Option<&str>, body: &[u8]) -> Outcome {
    classify_as(op, status, retry_after, body, false)
}

fn classify_as(
    op: OpKind,
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    keep: bool,
) -> Outcome {
    if (200..300).contains(&status) {
        success(op, status, body, keep)
    } else {
        Outcome::Failure(failure(op, status, retry_after, body))
    }
}

fn success(op: OpKind, status: u16, body: &[u8], keep: bool) -> Outcome {
    let object = || {
        serde_json::from_slice::<Json>(body)
            .ok()
            .filter(Json::is_object)
    };
    match op {
        OpKind::Delete => Outcome::Success {
            id: None,
            resource: None,
        },
        OpKind::Update if body.iter().all(u8::is_ascii_whitespace) => Outcome::Success {
            id: None,
            resource: None,
        },
        OpKind::TestConnection | OpKind::Query => match object() {
            Some(list) => list_outcome(status, list, body),
            None => incompatible(status, body),
        },
        OpKind::Create | OpKind::Update if !keep => match written_id(body) {
            Some(None) if op == OpKind::Create => incompatible(status, body),
            Some(id) => Outcome::Success { id, resource: None },
            None => incompatible(status, body),
        },
        OpKind::Create | OpKind::GetById | OpKind::Update => match object() {
            Some(resource) => match (op, resource_id(&resource)) {
                (OpKind::Create, None) => incompatible(status, body),
                (_, id) => Outcome::Success {
                    id,
                    resource: Some(resource),
                },
            },
            None => incompatible(status, body),
        },
    }
}

/// The `id` of the resource in `body`, as [`resource_id`] reads it from the parsed body, without
/// building the rest of it: `None` if `body` is not a JSON object or would not parse as one. Only
/// the members named `id` in some case are kept, in a map that orders and replaces them as the
/// parsed body's does; every other value is checked as parsing it would be (UTF-8, escapes,
/// number range, depth) and dropped.
fn written_id(body: &[u8]) -> Option<Option<String>> {
    let Ids(ids) = serde_json::from_slice(body).ok()?;
    Some(resource_id(&ids))
}

/// The members named `id` in some case of a JSON object, as [`written_id`] reads them.
struct Ids(Json);
/// A member name: kept only if it is `id` in some case.
struct Name(Option<String>);
/// Any JSON value, checked and dropped.
struct Checked;

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: Error>(self, name: &str) -> Result<Name, E> {
                Ok(Name(
                    name.eq_ignore_ascii_case("id").then(|| name.to_owned()),
                ))
            }
        }
        d.deserialize_str(V)
    }
}
impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Checked, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: Error>(self, _: bool) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_i64<E: Error>(self, _: i64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_u64<E: Error>(self, _: u64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_f64<E: Error>(self, _: f64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_str<E: Error>(self, _: &str) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_unit<E: Error>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
                while seq.next_element::<Checked>()?.is_some() {}
                Ok(Checked)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
                while map.next_entry::<Checked, Checked>()?.is_some() {}
                Ok(Checked)
            }
        }
        d.deserialize_any(V)
    }
}
impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ids, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ids;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ids, A::Error> {
                let mut ids = serde_json::Map::new();
                while let Some(Name(name)) = map.next_key()? {
                    match name {
                        Some(name) => {
                            ids.insert(name, map.next_value()?);
                        }
                        None => {
                            map.next_value::<Checked>()?;
                        }
                    }
                }
                Ok(Ids(Json::Object(ids)))
            }
        }
        d.deserialize_map(V)
    }
}

fn list_outcome(status: u16, list: Json, body: &[u8]) -> Outcome {
    let total = get_ci(&list, "totalResults")
        .and_then(scalar_text)
        .and_then(|text| text.parse::<u64>().ok());
    let resources = match get_ci(&list, "Resources") {
        Some(Json::Array(resources)) => resources.as_slice(),
        Some(_) => return incompatible(status, body),
        None if total == Some(0) => &[],
        None => return incompatible(status, body),
    };
    match resources {
        [] => Outcome::NoMatch {
            claimed: total.unwrap_or(0),
        },
        [resource] => match resource_id(resource) {
            Some(id) => Outcome::Match {
                id,
                resource: resource.clone(),
            },
            None => incompatible(status, body),
        },
        several => Outcome::Failure(Failure {
            code: ErrorCode::SystemForCrossDomainIdentityManagementMultipleEntriesInResponse,
            status: Some(status),
            reason: format!(
                "The SCIM endpoint returned {} resources for a query that must match at most one. Web Response: {}",
                several.len(),
                body_text(body)
            ),
            retry: RetryClass::Escrow,
            credential: false,
            scim_error: None,
        }),
    }
}

fn failure(op: OpKind, status: u16, retry_after: Option<&str>, body: &[u8]) -> Failure {
    let probe = op == OpKind::TestConnection;
    let query = matches!(op, OpKind::TestConnection | OpKind::Query);
    let by_id = matches!(op, OpKind::GetById | OpKind::Update | OpKind::Delete);
    let (code, retry, credential) = match status {
        401 | 403 | 501 if probe => (
            ErrorCode::SystemForCrossDomainIdentityManagementCredentialValidationFailure,
            RetryClass::Quarantine,
            true,
        ),
        404 if query => (
            ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible,
            RetryClass::Quarantine,
            false,
        ),
        404 if by_id => (ErrorCode::InvalidAnchor, RetryClass::Escrow, false),
        400 => (
            ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible,
            RetryClass::Escrow,
            false,
        ),
        401 => (ErrorCode::Unauthorized, RetryClass::Escrow, true),
        403 => (ErrorCode::InsufficientRights, RetryClass::Escrow, true),
        405 => (ErrorCode::MethodNotAllowed, RetryClass::Escrow, false),
        409 => (
            ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering,
            RetryClass::Escrow,
            false,
        ),
        422 => (ErrorCode::UnprocessableEntity, RetryClass::Escrow, false),
        429 => (
            ErrorCode::TooManyRequests,
            RetryClass::AutoRetry(retry_after.and_then(parse_retry_after)),
            false,
        ),
        500 => (ErrorCode::InternalServerError, RetryClass::NextCycle, false),
        501 => (ErrorCode::NotImplemented, RetryClass::Escrow, false),
        _ => (
            ErrorCode::WebExceptionProtocolError,
            RetryClass::NextCycle,
            false,
        ),
    };
    let web = format!(
        "StatusCode: {} Message: {WEB_EXCEPTION} Web Response: {}",
        dotnet_status_name(status),
        body_text(body)
    );
    let reason = match (status, code) {
        (404, ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible) => {
            format!("{COMPLIANCE_404} {web}")
        }
        (_, ErrorCode::SystemForCrossDomainIdentityManagementCredentialValidationFailure) => {
            format!("{INVALID_CREDENTIALS} {web}")
        }
        _ => web,
    };
    Failure {
        code,
        status: Some(status),
        reason,
        retry,
        credential,
        scim_error: scim_error(body),
    }
}

fn incompatible(status: u16, body: &[u8]) -> Outcome {
    Outcome::Failure(Failure {
        code: ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible,
        status: Some(status),
        reason: format!("{NOT_DESERIALIZABLE} {}", body_text(body)),
        retry: RetryClass::Escrow,
        credential: false,
        scim_error: None,
    })
}

/// A resource's `id` as a string, whether the server sent a string or a number.
fn resource_id(resource: &Json) -> Option<String> {
    match get_ci(resource, "id")? {
        Json::String(id) if !id.is_empty() => Some(id.clone()),
        Json::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

fn scim_error(body: &[u8]) -> Option<ScimError> {
    let json = serde_json::from_slice::<Json>(body)
        .ok()
        .filter(Json::is_object)?;
    let text = |key: &str| {
        get_ci(&json, key)
            .and_then(scalar_text)
            .map(|text| redact(&text))
    };
    let error = ScimError {
        status: text("status"),
        scim_type: text("scimType"),
        detail: text("detail"),
    };
    (error != ScimError::default()).then_some(error)
}

fn parse_retry_after(value: &str) -> Option<RetryAfter> {
    let value = value.trim();
    value
        .parse::<u64>()
        .map(RetryAfter::Seconds)
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc2822(value)
                .ok()
                .map(|at| RetryAfter::At(at.with_timezone(&Utc)))
        })
}

/// The body as it appears after `Web Response:`: lossy UTF-8, trimmed, cut, redacted.
fn body_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let cut: String = text.chars().take(MAX_BODY_CHARS).collect();
    let cut = if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    };
    redact(&cut)
}

static SECRET_PATTERN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)(authorization["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+|(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*"#).ok()
});

/// Replaces Authorization header values and bearer/basic credentials with `[redacted]`; if the
/// pattern could not be built, the whole text is withheld rather than risk a leak.
fn redact(text: &str) -> String {
    match SECRET_PATTERN.as_ref() {
        Some(pattern) => pattern
            .replace_all(text, |caps: &regex::Captures<'_>| {
                match (caps.get(1), caps.get(2), caps.get(3)) {
                    (Some(prefix), _, _) => format!("{}[redacted]", prefix.as_str()),
                    (None, Some(scheme), Some(space)) => {
                        format!("{}{}[redacted]", scheme.as_str(), space.as_str())
                    }
                    _ => "[redacted]".to_owned(),
                }
            })
            .into_owned(),
        None => "[redacted]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const WEB: &str = "Message: Processing of the HTTP request resulted in an exception. Please see the HTTP response returned by the 'Response' property of this exception for details. Web Response:";

    fn failure_of(outcome: Outcome) -> Failure {
        match outcome {
            Outcome::Failure(failure) => failure,
            other => unreachable!("expected a failure, got {other:?}"),
        }
    }

    fn bytes(json: &Json) -> Vec<u8> {
        json.to_string().into_bytes()
    }

    #[test]
    fn written_id_reads_the_id_as_the_parsed_body_does() {
        let bodies: [&[u8]; 24] = [
            br#"{"id":"5d48","userName":"u","emails":[{"value":"a@b","primary":true}]}"#,
            br#"{"userName":"u","ID":"upper"}"#,
            br#"{"Id":"first","iD":"second"}"#,
            br#"{"id":"one","ID":"two","id":"three"}"#,
            br#"{"ID":"ci","id":null}"#,
            br#"{"id":null,"ID":"ci"}"#,
            br#"{"id":""}"#,
            br#"{"id":42,"n":-1.5e3}"#,
            br#"{"id":{"value":"x"}}"#,
            br#"{"\u0069d":"escaped name","x":"\"quoted\" \u00e9"}"#,
            br#"{}"#,
            br#"  {"id":"padded"}  "#,
            br#"[{"id":"x"}]"#,
            br#""id""#,
            br#"null"#,
            b"",
            br#"{"id":"x"} trailing"#,
            br#"{"id":"x","big":1e400}"#,
            br#"{"id":"x","s":"\ud800"}"#,
            b"{\"id\":\"x\",\"s\":\"\xff\"}",
            br#"{"id":"x","s":"\q"}"#,
            br#"{"id":"x","o":{"a":[1,{"b":true}],"c":null}}"#,
            br#"{"id":"x","o":{"a":[1,}}"#,
            br#"{"id":"x",}"#,
        ];
        let deep = format!(r#"{{"id":"x","d":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        for body in bodies.iter().copied().chain([deep.as_bytes()]) {
            let parsed = serde_json::from_slice::<Json>(body)
                .ok()
                .filter(Json::is_object)
                .map(|resource| resource_id(&resource));
            assert_eq!(
                written_id(body),
                parsed,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Rows where a careless reading would part from the parsed body's.
        assert_eq!(
            written_id(br#"{"Id":"first","iD":"second"}"#),
            Some(Some("first".into()))
        );
        assert_eq!(written_id(br#"{"ID":"ci","id":null}"#), Some(None));
        assert_eq!(written_id(br#"{"id":42}"#), Some(Some("42".into())));
        assert_eq!(written_id(br#"{"id":"x","big":1e400}"#), None);
        assert_eq!(written_id(deep.as_bytes()), None);
    }

    #[test]
    fn a_write_keeps_the_id_not_the_resource() {
        let created = json!({"id": "5d48", "userName": "u"});
        for op in [OpKind::Create, OpKind::Update] {
            assert_eq!(
                classify_write(op, 201, None, &bytes(&created)),
                Outcome::Success {
                    id: Some("5d48".into()),
                    resource: None
                }
            );
            assert_eq!(
                classify_write(op, 200, None, b"<html>ok</html>"),
                classify(op, 200, None, b"<html>ok</html>")
            );
        }
        let no_id = json!({"userName": "u"});
        assert_eq!(
            classify_write(OpKind::Create, 201, None, &bytes(&no_id)),
            classify(OpKind::Create, 201, None, &bytes(&no_id))
        );
        assert_eq!(
            classify_write(OpKind::Update, 200, None, &bytes(&no_id)),
            Outcome::Success {
                id: None,
                resource: None
            }
        );
        for op in [OpKind::Query, OpKind::GetById, OpKind::Delete] {
            assert_eq!(
                classify_write(op, 200, None, &bytes(&created)),
                classify(op, 200, None, &bytes(&created))
            );
        }
        assert_eq!(
            classify_write(OpKind::Create, 409, None, &bytes(&created)),
            classify(OpKind::Create, 409, None, &bytes(&created))
        );
    }

    #[test]
    fn success_rows() {
        let created = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "5d48a0a8e9f04aa38008", "userName": "u", "extra": {"x": 1}});
        for status in [200, 201] {
            assert_eq!(
                classify(OpKind::Create, status, None, &bytes(&created)),
                Outcome::Success {
                    id: Some("5d48a0a8e9f04aa38008".into()),
                    resource: Some(created.clone())
                }
            );
        }
        assert_eq!(
            classify(OpKind::Update, 200, None, &bytes(&created)),
            Outcome::Success {
                id: Some("5d48a0a8e9f04aa38008".into()),
                resource: Some(created.clone())
            }
        );
        for op in [OpKind::Update, OpKind::Delete] {
            assert_eq!(
                classify(op, 204, None, b""),
                Outcome::Success {
                    id: None,
                    resource: None
                }
            );
        }
        assert_eq!(
            classify(OpKind::Update, 200, None, b"  \n"),
            Outcome::Success {
                id: None,
                resource: None
            }
        );
        assert_eq!(
            classify(OpKind::Delete, 200, None, b"<html>ok</html>"),
            Outcome::Success {
                id: None,
                resource: None
            }
        );
        assert_eq!(
            classify(OpKind::GetById, 200, None, &bytes(&created)),
            Outcome::Success {
                id: Some("5d48a0a8e9f04aa38008".into()),
                resource: Some(created)
            }
        );
        assert_eq!(
            classify(OpKind::Create, 200, None, b"").retry_class(),
            RetryClass::Escrow
        );
    }

    #[test]
    fn query_rows() {
        let empty = json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":20});
        for op in [OpKind::Query, OpKind::TestConnection] {
            assert_eq!(
                classify(op, 200, None, &bytes(&empty)),
                Outcome::NoMatch { claimed: 0 }
            );
        }
        assert_eq!(
            classify(OpKind::Query, 200, None, br#"{"totalResults":0}"#),
            Outcome::NoMatch { claimed: 0 }
        );
        assert_eq!(
            classify(
                OpKind::Query,
                200,
                None,
                br#"{"totalResults":"0","resources":[]}"#
            ),
            Outcome::NoMatch { claimed: 0 }
        );
        assert_eq!(
            classify(
                OpKind::Query,
                200,
                None,
                br#"{"totalResults":1,"Resources":[]}"#
            ),
            Outcome::NoMatch { claimed: 1 },
            "a count with nothing listed is kept, for the warning"
        );
        let user = json!({"id": "2819c223", "userName": "bjensen"});
        let one = json!({"totalResults": 1, "Resources": [user]});
        assert_eq!(
            classify(OpKind::Query, 200, None, &bytes(&one)),
            Outcome::Match {
                id: "2819c223".into(),
                resource: user
            }
        );
        let two = json!({"totalResults": 2, "Resources": [{"id": "a"}, {"id": "b"}]});
        let failure = failure_of(classify(OpKind::Query, 200, None, &bytes(&two)));
        assert_eq!(
            failure.code,
            ErrorCode::SystemForCrossDomainIdentityManagementMultipleEntriesInResponse
        );
        assert_eq!(failure.retry, RetryClass::Escrow);
        assert!(
            failure
                .reason
                .starts_with("The SCIM endpoint returned 2 resources"),
            "{}",
            failure.reason
        );
        let no_id = json!({"totalResults": 1, "Resources": [{"userName": "x"}]});
        let failure = failure_of(classify(OpKind::Query, 200, None, &bytes(&no_id)));
        assert_eq!(
            failure.code,
            ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible
        );
        let single_resource_not_list = json!({"id": "a", "userName": "x"});
        let failure = failure_of(classify(
            OpKind::Query,
            200,
            None,
            &bytes(&single_resource_not_list),
        ));
        assert_eq!(
            failure.code,
            ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible
        );
    }

    #[test]
    fn query_404_is_a_compliance_failure_that_quarantines() {
        let body = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"not found"}"#;
        for op in [OpKind::Query, OpKind::TestConnection] {
            let failure = failure_of(classify(op, 404, None, body));
            assert_eq!(
                failure.code,
                ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible
            );
            assert_eq!(failure.retry, RetryClass::Quarantine);
            assert!(!failure.credential);
            assert_eq!(
                failure.reason,
                format!(
                    "SCIM Compliance issue: An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response. StatusCode: NotFound {WEB} {}",
                    String::from_utf8_lossy(body)
                )
            );
        }
    }

    #[test]
    fn error_status_rows() {
        let cases: &[(OpKind, u16, ErrorCode, RetryClass, bool)] = &[
            (
                OpKind::Create,
                400,
                ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Update,
                401,
                ErrorCode::Unauthorized,
                RetryClass::Escrow,
                true,
            ),
            (
                OpKind::Query,
                401,
                ErrorCode::Unauthorized,
                RetryClass::Escrow,
                true,
            ),
            (
                OpKind::Update,
                403,
                ErrorCode::InsufficientRights,
                RetryClass::Escrow,
                true,
            ),
            (
                OpKind::Delete,
                405,
                ErrorCode::MethodNotAllowed,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::GetById,
                404,
                ErrorCode::InvalidAnchor,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Update,
                404,
                ErrorCode::InvalidAnchor,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Delete,
                404,
                ErrorCode::InvalidAnchor,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Create,
                409,
                ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Update,
                409,
                ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Delete,
                409,
                ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Update,
                422,
                ErrorCode::UnprocessableEntity,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::Create,
                429,
                ErrorCode::TooManyRequests,
                RetryClass::AutoRetry(None),
                false,
            ),
            (
                OpKind::Create,
                500,
                ErrorCode::InternalServerError,
                RetryClass::NextCycle,
                false,
            ),
            (
                OpKind::Create,
                501,
                ErrorCode::NotImplemented,
                RetryClass::Escrow,
                false,
            ),
            (
                OpKind::TestConnection,
                401,
                ErrorCode::SystemForCrossDomainIdentityManagementCredentialValidationFailure,
                RetryClass::Quarantine,
                true,
            ),
            (
                OpKind::TestConnection,
                403,
                ErrorCode::SystemForCrossDomainIdentityManagementCredentialValidationFailure,
                RetryClass::Quarantine,
                true,
            ),
            (
                OpKind::TestConnection,
                501,
                ErrorCode::SystemForCrossDomainIdentityManagementCredentialValidationFailure,
                RetryClass::Quarantine,
                true,
            ),
            (
                OpKind::Create,
                404,
                ErrorCode::WebExceptionProtocolError,
                RetryClass::NextCycle,
                false,
            ),
            (
                OpKind::Create,
                415,
                ErrorCode::WebExceptionProtocolError,
                RetryClass::NextCycle,
                false,
            ),
            (
                OpKind::Update,
                503,
                ErrorCode::WebExceptionProtocolError,
                RetryClass::NextCycle,
                false,
            ),
            (
                OpKind::Query,
                302,
                ErrorCode::WebExceptionProtocolError,
                RetryClass::NextCycle,
                false,
            ),
        ];
        for (op, status, code, retry, credential) in cases {
            let outcome = classify(*op, *status, None, b"");
            assert_eq!(outcome.retry_class(), *retry, "{op:?} {status}");
            assert_eq!(
                outcome.is_credential_failure(),
                *credential,
                "{op:?} {status}"
            );
            let failure = failure_of(outcome);
            assert_eq!(
                (failure.code, failure.status),
                (*code, Some(*status)),
                "{op:?} {status}"
            );
            assert!(
                failure.reason.contains(&format!(
                    "StatusCode: {} {WEB}",
                    dotnet_status_name(*status)
                )),
                "{}",
                failure.reason
            );
        }
        let probe = failure_of(classify(OpKind::TestConnection, 401, None, b"{}"));
        assert!(probe.reason.starts_with("You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account. StatusCode: Unauthorized"));
    }

    #[test]
    fn reason_text_matches_entras_format() {
        let body = br#"{ "schemas" : [ "urn:ietf:params:scim:api:messages:2.0:Error" ], "status" : "409", "detail" : "User must be Active." }"#;
        let failure = failure_of(classify(OpKind::Update, 409, None, body));
        assert_eq!(
            failure.reason,
            r#"StatusCode: Conflict Message: Processing of the HTTP request resulted in an exception. Please see the HTTP response returned by the 'Response' property of this exception for details. Web Response: { "schemas" : [ "urn:ietf:params:scim:api:messages:2.0:Error" ], "status" : "409", "detail" : "User must be Active." }"#
        );
        let body = br#"{"scimType":"invalidSyntax","detail":"Invalid SCIM Patch: Impossible to search on a mono valued attribute.","schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400"}"#;
        let failure = failure_of(classify(OpKind::Update, 400, None, body));
        assert_eq!(
            failure.code.as_str(),
            "SystemForCrossDomainIdentityManagementServiceIncompatible"
        );
        assert_eq!(
            failure.reason,
            r#"StatusCode: BadRequest Message: Processing of the HTTP request resulted in an exception. Please see the HTTP response returned by the 'Response' property of this exception for details. Web Response: {"scimType":"invalidSyntax","detail":"Invalid SCIM Patch: Impossible to search on a mono valued attribute.","schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400"}"#
        );
        assert_eq!(
            failure.scim_error,
            Some(ScimError {
                status: Some("400".into()),
                scim_type: Some("invalidSyntax".into()),
                detail: Some(
                    "Invalid SCIM Patch: Impossible to search on a mono valued attribute.".into()
                ),
            })
        );
    }

    #[test]
    fn retry_after_is_read_when_readable() {
        let at = |value: &str| failure_of(classify(OpKind::Update, 429, Some(value), b"")).retry;
        assert_eq!(
            at("120"),
            RetryClass::AutoRetry(Some(RetryAfter::Seconds(120)))
        );
        let date = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        assert_eq!(
            at("Wed, 21 Oct 2015 07:28:00 GMT"),
            RetryClass::AutoRetry(date.map(RetryAfter::At))
        );
        assert_eq!(at("soon"), RetryClass::AutoRetry(None));
    }

    #[test]
    fn transport_failures() {
        let timeout = Outcome::transport(TransportKind::Timeout, "The operation has timed out.");
        assert_eq!(timeout.retry_class(), RetryClass::NextCycle);
        let failure = failure_of(timeout);
        assert_eq!(
            (failure.code, failure.status, failure.reason.as_str()),
            (ErrorCode::Timeout, None, "The operation has timed out.")
        );
        let refused = failure_of(Outcome::transport(
            TransportKind::Protocol,
            "connection refused; Authorization: Bearer s3cr3t",
        ));
        assert_eq!(refused.code, ErrorCode::WebExceptionProtocolError);
        assert_eq!(refused.retry, RetryClass::NextCycle);
        assert_eq!(
            refused.reason,
            "connection refused; Authorization: [redacted]"
        );
    }

    #[test]
    fn tolerant_reading() {
        let numeric_id = br#"{"id": 12345, "userName": "u"}"#;
        assert!(
            matches!(classify(OpKind::Create, 201, None, numeric_id), Outcome::Success { id: Some(id), .. } if id == "12345")
        );
        let integer_status = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":409,"detail":"exists"}"#;
        let failure = failure_of(classify(OpKind::Create, 409, None, integer_status));
        assert_eq!(
            failure.scim_error.and_then(|e| e.status),
            Some("409".into())
        );
        let group = json!({"id": "927fa2c08dcb4a7fae9e", "displayName": "g", "members": [{"value": "u1"}, {"value": "u2"}]});
        let listed = json!({"totalResults": 1, "Resources": [group]});
        assert_eq!(
            classify(OpKind::Query, 200, None, &bytes(&listed)),
            Outcome::Match {
                id: "927fa2c08dcb4a7fae9e".into(),
                resource: group
            }
        );
    }

    #[test]
    fn non_json_and_html_bodies() {
        let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
        for (op, status) in [
            (OpKind::Create, 201),
            (OpKind::Query, 200),
            (OpKind::GetById, 200),
            (OpKind::Update, 200),
        ] {
            let failure = failure_of(classify(op, status, None, html));
            assert_eq!(
                failure.code,
                ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible,
                "{op:?}"
            );
            assert_eq!(failure.retry, RetryClass::Escrow);
            assert_eq!(
                failure.reason,
                "We are not able to deserialize the resource received from your SCIM endpoint because your SCIM endpoint is not fully compatible with the Azure Active Directory SCIM client. Here is the resource we received from your SCIM endpoint: <html><body><h1>502 Bad Gateway</h1></body></html>"
            );
        }
        let failure = failure_of(classify(OpKind::Create, 500, None, html));
        assert_eq!(failure.code, ErrorCode::InternalServerError);
        assert_eq!(failure.scim_error, None);
        assert!(
            failure
                .reason
                .ends_with("Web Response: <html><body><h1>502 Bad Gateway</h1></body></html>")
        );
        let failure = failure_of(classify(OpKind::Create, 201, None, b"[1,2]"));
        assert_eq!(
            failure.code,
            ErrorCode::SystemForCrossDomainIdentityManagementServiceIncompatible
        );
        let huge = "x".repeat(MAX_BODY_CHARS + 10);
        let failure = failure_of(classify(OpKind::Create, 500, None, huge.as_bytes()));
        assert!(failure.reason.ends_with(&format!("{}…", "x".repeat(10))));
        assert!(!failure.reason.contains(&huge));
    }

    #[test]
    fn never_echoes_credentials() {
        let body = br#"{"detail":"bad token","headers":{"Authorization":"Bearer eyJ0eXAi.abc-def_ghi"},"echo":"bearer eyJ0eXAi.abc-def_ghi","basic":"Basic dXNlcjpwYXNz"}"#;
        let failure = failure_of(classify(OpKind::Update, 401, None, body));
        assert!(!failure.reason.contains("eyJ0eXAi"), "{}", failure.reason);
        assert!(
            !failure.reason.contains("dXNlcjpwYXNz"),
            "{}",
            failure.reason
        );
        assert!(
            failure.reason.contains("bearer [redacted]"),
            "{}",
            failure.reason
        );
        let failure = failure_of(classify(
            OpKind::Create,
            201,
            None,
            b"Authorization: Bearer eyJ0eXAi",
        ));
        assert!(!failure.reason.contains("eyJ0eXAi"), "{}", failure.reason);
    }
}
