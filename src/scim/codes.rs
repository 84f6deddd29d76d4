//! Entra's provisioning-log error codes entra-sim produces (spec §3), by their log names: the ones
//! this layer reads from a server's answer, and the two the planner decides without one.

use std::fmt;

/// An `errorCode` as it appears in a provisioning log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Unparseable / non-SCIM body, a 400 from the server, or a 404 where a query wanted 200.
    SystemForCrossDomainIdentityManagementServiceIncompatible,
    /// A query returned more than one resource.
    SystemForCrossDomainIdentityManagementMultipleEntriesInResponse,
    /// Test Connection was refused (401/403/501 on the probe).
    SystemForCrossDomainIdentityManagementCredentialValidationFailure,
    /// The connected object is gone (404 on a read/PATCH/DELETE by id).
    InvalidAnchor,
    /// 401 on an object operation.
    Unauthorized,
    /// 403 on an object operation.
    InsufficientRights,
    /// 405.
    MethodNotAllowed,
    /// 409 (a uniqueness conflict), whatever the request. The spec's table says `EntryConflict`,
    /// but real logs name this code for a 409: on a create (the Airtable sample log in
    /// SumoLogic/sumologic-documentation's Graph provisioning-log integration page; Microsoft Q&A
    /// 5828857) and on a disabling PATCH (Microsoft Q&A 1185756, "User must be Active.").
    SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering,
    /// 422.
    UnprocessableEntity,
    /// 429.
    TooManyRequests,
    /// 500.
    InternalServerError,
    /// 501.
    NotImplemented,
    /// A transport failure or an HTTP status the table has no row for.
    WebExceptionProtocolError,
    /// The request timed out.
    Timeout,
    /// A multi-valued source value for a single-valued target attribute.
    SchemaPropertyCanOnlyAcceptValue,
    /// The planner's: no matching attribute has a value, so the object cannot be matched or
    /// created.
    ImportSkipped,
    /// The planner's: an expression of the attribute mappings failed for the object.
    ExpressionEvaluationFailed,
}

impl ErrorCode {
    /// The code's name in provisioning logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SystemForCrossDomainIdentityManagementServiceIncompatible => {
                "SystemForCrossDomainIdentityManagementServiceIncompatible"
            }
            Self::SystemForCrossDomainIdentityManagementMultipleEntriesInResponse => {
                "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse"
            }
            Self::SystemForCrossDomainIdentityManagementCredentialValidationFailure => {
                "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
            }
            Self::InvalidAnchor => "InvalidAnchor",
            Self::Unauthorized => "Unauthorized",
            Self::InsufficientRights => "InsufficientRights",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering => {
                "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"
            }
            Self::UnprocessableEntity => "UnprocessableEntity",
            Self::TooManyRequests => "TooManyRequests",
            Self::InternalServerError => "InternalServerError",
            Self::NotImplemented => "NotImplemented",
            Self::WebExceptionProtocolError => "WebExceptionProtocolError",
            Self::Timeout => "Timeout",
            Self::SchemaPropertyCanOnlyAcceptValue => "SchemaPropertyCanOnlyAcceptValue",
            Self::ImportSkipped => "ImportSkipped",
            Self::ExpressionEvaluationFailed => "ExpressionEvaluationFailed",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
