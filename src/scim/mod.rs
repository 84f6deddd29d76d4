//! What entra-sim puts on the wire, and how it reads what comes back — pure data in, data out, no
//! HTTP (spec §2, §3, §6.6, §12).
//!
//! - [`url`]: the Tenant URL, its feature flags, and the [`ScimMode`] they select.
//! - [`path`]: target attribute paths (`emails[type eq "work"].value`, full-URN extension paths).
//! - [`schema`]: the built-in attribute-type table deciding booleans and references.
//! - [`create`]: `POST /Users` and `POST /Groups` bodies.
//! - [`diff`](mod@diff): desired state vs the resource read from the server → [`AttrChange`]s.
//! - [`patch`]: PATCH bodies in both modes (updates, disable/enable, manager, members, roles).
//! - [`query`]: matching filters, get-by-id paths, Test Connection probes.
//! - [`response`]: status + body → Entra [`Outcome`] with error code, reason text and retry class.

pub mod codes;
pub mod create;
pub mod diff;
pub mod http_status;
pub mod patch;
pub mod path;
pub mod query;
pub mod response;
pub mod schema;
pub mod url;
pub mod wire_value;

#[cfg(test)]
mod tests;

pub use codes::ErrorCode;
pub use create::{CreateSettings, PrimaryType, create_group_body, create_user_body};
pub use diff::{AttrChange, PatchOp, RoleFunction, diff};
pub use http_status::dotnet_status_name;
pub use patch::{
    disable_body, enable_body, manager_body, manager_removal_body, member_bodies, patch_body,
};
pub use path::{PathError, TargetPath, ValueFilter, filter_literal};
pub use query::{
    ResourceKind, encode_segment, eq_query, get_by_id_path, match_query, resource_path,
    test_connection_probes,
};
pub use response::{
    Failure, OpKind, Outcome, RetryAfter, RetryClass, ScimError, TransportKind, classify,
    classify_write,
};
pub use schema::{AttrShape, AttrType};
pub use url::{ScimMode, UrlError, split_tenant_url};
pub use wire_value::{ShapeError, ShapeProblem};
