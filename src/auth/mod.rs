//! How entra-sim authenticates to the SCIM server beyond a static bearer token: OAuth 2.0 client
//! credentials (`oauth`), whose access tokens the HTTP client asks for per request, and `jwt`,
//! the JWT Entra signs itself when an app has no secret token.

pub mod jwt;
pub mod oauth;
