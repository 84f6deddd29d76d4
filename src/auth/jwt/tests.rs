//! The JWT checked by an independent verifier: `jsonwebtoken`'s decoding with a key built from
//! the printed JWKS's `n` and `e` alone, as a server configured with the JWKS would check it.

use super::*;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

const TENANT: &str = "0b6a1f9e-3c1d-4b8a-9f1e-2d3c4b5a6978";

fn config(claims: Map<String, Value>) -> EntraJwt {
    EntraJwt {
        tenant_id: TENANT.to_owned(),
        app_id: "4e2c7a61-8f0b-4d9e-a3c5-1b2d3e4f5a6b".to_owned(),
        claims,
    }
}

/// The decoding key from the JWKS text, as a server would build it.
fn key_from_jwks(jwks: &Value) -> (String, DecodingKey) {
    let jwk = &jwks["keys"][0];
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "RS256");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    (jwk["kid"].as_str().unwrap().to_owned(), key)
}

fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[ENTRA_AUDIENCE]);
    v.set_issuer(&[format!("https://sts.windows.net/{TENANT}/")]);
    v.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
    v.validate_nbf = true;
    v
}

#[allow(clippy::disallowed_methods)] // a JWT is checked against the real clock, as a server does
fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

#[test]
fn an_independent_verifier_accepts_the_jwt_with_entra_s_audience_issuer_and_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::load_or_create(dir.path()).unwrap();
    let jwks: Value = serde_json::from_str(&key.jwks().to_string()).unwrap();
    let (kid, decoding) = key_from_jwks(&jwks);
    let issued = now();
    let token = key.sign(&config(Map::new()).claims(issued)).unwrap();

    let header = decode_header(token.expose()).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
    let data = decode::<Map<String, Value>>(token.expose(), &decoding, &validation()).unwrap();
    let c = data.claims;
    assert_eq!(c["aud"], "8adf8e6e-67b2-4cf2-a259-e3dc5476c621");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(c["tid"], TENANT);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["appid"], "4e2c7a61-8f0b-4d9e-a3c5-1b2d3e4f5a6b");
    assert_eq!(c["oid"], c["sub"]);
    assert_eq!(c["iat"], issued);
    assert_eq!(c["nbf"], issued);
    let lifetime = c["exp"].as_i64().unwrap() - issued;
    assert!((60 * 60..=90 * 60).contains(&lifetime), "{lifetime}");
}

#[test]
fn a_wrong_audience_or_an_expired_token_is_refused_by_the_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::load_or_create(dir.path()).unwrap();
    let (_, decoding) = key_from_jwks(&key.jwks());
    let wrong_aud = config(Map::from_iter([("aud".to_owned(), "api://other".into())]));
    let token = key.sign(&wrong_aud.claims(now())).unwrap();
    let err = decode::<Map<String, Value>>(token.expose(), &decoding, &validation()).unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::InvalidAudience
    );

    let expired = config(Map::from_iter([("exp".to_owned(), 1_000_000_000.into())]));
    let token = key.sign(&expired.claims(now())).unwrap();
    let err = decode::<Map<String, Value>>(token.expose(), &decoding, &validation()).unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::ExpiredSignature
    );

    let no_tid = config(Map::from_iter([("tid".to_owned(), Value::Null)]));
    assert!(!no_tid.claims(now()).contains_key("tid"));
}

#[test]
fn the_key_is_made_once_per_state_directory_private_to_its_owner_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let first = SigningKey::load_or_create(&state).unwrap();
    let again = SigningKey::load_or_create(&state).unwrap();
    assert_eq!(first.kid(), again.kid());
    assert_eq!(first.jwks(), again.jwks());
    let other = SigningKey::load_or_create(&dir.path().join("other")).unwrap();
    assert_ne!(first.kid(), other.kid());

    let path = state.join(KEY_FILE);
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        std::fs::read_dir(&state).unwrap().count(),
        1,
        "no temporary file left"
    );
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let shown = format!("{first:?} {} {}", first.jwks(), first.kid());
    assert!(!shown.contains(&body[..40]), "{shown}");
    assert!(shown.contains("[redacted]"));
}

#[test]
fn a_damaged_key_file_is_an_error_that_shows_none_of_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(KEY_FILE),
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n",
    )
    .unwrap();
    let err = SigningKey::load_or_create(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains(KEY_FILE) && err.contains("remove it"), "{err}");
    assert!(!err.contains("c2VjcmV0"), "{err}");
}
