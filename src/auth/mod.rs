//! How entra-sim authenticates to the SCIM server beyond a static bearer token: OAuth 2.0 client
//! credentials (`oauth`), whose access tokens the HTTP client asks for per request.

pub mod oauth;
