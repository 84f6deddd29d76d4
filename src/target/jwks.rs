//! Issuer keys the target serves (`target serve --jwks FILE`) at `/.well-known/jwks.json`, and
//! the check of a bearer JWT against them, as a server validating Entra's own JWT does: an
//! RS256 signature by a key of the set (by `kid`), `aud` Entra's audience for custom apps, an
//! `iss` of Entra's v1 token service, `exp` and `nbf` respected (with the verifier's default
//! minute of leeway).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// The audience Entra's JWT carries for every custom app (the target's own copy, so that a
/// wrong constant in the sender cannot pass its own tests).
const AUDIENCE: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
/// Entra's v1 issuer, `https://sts.windows.net/<tenant>/`: any tenant is accepted.
const ISSUER_PREFIX: &str = "https://sts.windows.net/";

/// A parsed JWKS: the document as given and its keys.
#[derive(Clone)]
pub struct Jwks {
    document: Value,
    keys: Vec<(Option<String>, DecodingKey)>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|(kid, _)| kid).collect();
        f.debug_struct("Jwks").field("kids", &kids).finish()
    }
}

impl Jwks {
    /// A JWKS document (`{"keys": [...]}`) with at least one RSA key.
    pub fn parse(text: &str) -> Result<Jwks, String> {
        let document: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let set: JwkSet = serde_json::from_value(document.clone())
            .map_err(|e| format!("not a JWKS ({{\"keys\": [...]}}): {e}"))?;
        let mut keys = Vec::new();
        for (i, jwk) in set.keys.iter().enumerate() {
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("keys[{i}]: {e}"))?;
            keys.push((jwk.common.key_id.clone(), key));
        }
        if keys.is_empty() {
            return Err("holds no key".to_owned());
        }
        Ok(Jwks { document, keys })
    }

    /// The document, served as given.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Whether `token` is a live RS256 JWT for Entra's audience and issuer, signed by one of
    /// the keys (the one its `kid` names, when it names one).
    pub fn accepts(&self, token: &str) -> bool {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return false;
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.validate_nbf = true;
        self.keys
            .iter()
            .filter(|(kid, _)| header.kid.is_none() || *kid == header.kid)
            .any(|(_, key)| {
                jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation).is_ok_and(
                    |data| {
                        data.claims
                            .get("iss")
                            .and_then(Value::as_str)
                            .is_some_and(|iss| {
                                iss.strip_prefix(ISSUER_PREFIX)
                                    .is_some_and(|rest| rest.len() > 1 && rest.ends_with('/'))
                            })
                    },
                )
            })
    }
}
