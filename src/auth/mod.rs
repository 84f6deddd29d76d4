//! How entra-sim authenticates to the SCIM server beyond a static bearer token: `jwt`, the JWT
//! Entra signs itself when an app has no secret token.

pub mod jwt;
