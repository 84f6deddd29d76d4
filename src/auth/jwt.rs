//! Entra's own JWT: with no secret token, Entra sends a bearer JWT it signs itself (spec §2.1:
//! `iss` `https://sts.windows.net/<tenantId>/`, `aud` `8adf8e6e-67b2-4cf2-a259-e3dc5476c621`).
//! entra-sim signs one shaped the same with an RSA-2048 key it generates once per state
//! directory (`entra-jwt-key.pem`, PKCS#8, mode 0600) and publishes the public half as a JWKS
//! (`entra-sim jwks`), so a server can test its validation path without a tenant.
//!
//! The private key is a secret: it is read and written here only, and neither it nor any error
//! about it is ever shown (a [`SigningKey`] prints as `[redacted]`).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Map, Value};

use crate::config::Secret;

/// The audience of Entra's JWT for every custom (non-gallery) app (spec §2.1).
pub const ENTRA_AUDIENCE: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";

/// How long a JWT lives. Entra's access tokens live a random 60–90 minutes by default
/// ("Access tokens in the Microsoft identity platform", learn.microsoft.com,
/// entra/identity-platform/access-tokens, "Token lifetime"); the provisioning service's own is
/// UNCONFIRMED, so entra-sim takes the shortest.
pub const LIFETIME_SECS: i64 = 60 * 60;

/// A JWT this close to its `exp` is signed anew before it is sent.
pub const RENEW_MARGIN_SECS: i64 = 5 * 60;

/// The key's file in the state directory.
pub const KEY_FILE: &str = "entra-jwt-key.pem";

/// The modulus size of Entra's signing keys (`n` of the keys its JWKS publishes is 2048 bits).
const KEY_BITS: usize = 2048;

/// `target.entra_jwt`: who the JWT says issued it and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraJwt {
    /// `tid`, and the tenant in `iss`.
    pub tenant_id: String,
    /// `appid`: the given one, or a stable GUID derived from the job's name.
    pub app_id: String,
    /// `claims`: claims set or replaced last (for negative tests: a wrong `aud`, an `exp` in
    /// the past); a `null` removes the claim.
    pub claims: Map<String, Value>,
}

impl EntraJwt {
    /// The claims of a JWT issued at `now` (Unix seconds).
    ///
    /// The set is that of an app-only v1.0 access token, as Microsoft's "Access token claims
    /// reference" (learn.microsoft.com, entra/identity-platform/access-token-claims-reference)
    /// lists it: `aud`, `iss`, `iat`, `nbf`, `exp`, `appid`, `idtyp` (`app` for an app-only
    /// token), `oid` and `sub` (for an app, its service principal), `tid`, `ver` (`1.0`, the
    /// version whose issuer is `https://sts.windows.net/<tenant>/`). The opaque claims (`aio`,
    /// `rh`, `uti`) are left out: servers must not read them.
    pub fn claims(&self, now: i64) -> Map<String, Value> {
        // The provisioning service's service principal in the tenant: not known, so stable.
        let oid = crate::provlog::stable_guid("entra-sim jwt principal", &self.app_id);
        let mut claims = Map::new();
        let mut put = |k: &str, v: Value| {
            claims.insert(k.to_owned(), v);
        };
        put("aud", ENTRA_AUDIENCE.into());
        put("iss", self.issuer().into());
        put("iat", now.into());
        put("nbf", now.into());
        put("exp", (now + LIFETIME_SECS).into());
        put("appid", self.app_id.clone().into());
        put("idtyp", "app".into());
        put("oid", oid.clone().into());
        put("sub", oid.into());
        put("tid", self.tenant_id.clone().into());
        put("ver", "1.0".into());
        for (k, v) in &self.claims {
            if v.is_null() {
                claims.remove(k);
            } else {
                claims.insert(k.clone(), v.clone());
            }
        }
        claims
    }

    /// `https://sts.windows.net/<tenant_id>/`.
    pub fn issuer(&self) -> String {
        format!("https://sts.windows.net/{}/", self.tenant_id)
    }
}

/// Why the key could not be read, made or used. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The state directory or the key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The key file holds no usable RSA private key.
    #[error("{0}: not an RSA private key in PKCS#8 PEM; remove it to have a new key made")]
    BadKey(PathBuf),
    /// Key generation or signing failed.
    #[error("cannot {0} (the key itself is not shown)")]
    Crypto(&'static str),
}

/// The RSA key JWTs are signed with, and its public JWK.
pub struct SigningKey {
    key: EncodingKey,
    kid: String,
    public: Jwk,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl SigningKey {
    /// The key of `state_dir`, made (and the directory with it) on first use.
    pub fn load_or_create(state_dir: &Path) -> Result<SigningKey, JwtError> {
        let path = state_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(pem) => Self::from_pem(&pem).ok_or(JwtError::BadKey(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(state_dir, &path),
            Err(source) => Err(JwtError::Io { path, source }),
        }
    }

    /// A new key, written to `path` whole or not at all: into a private temporary file first,
    /// then linked into place, so a concurrent process reads either no file or the whole key
    /// (and the first to link wins; the other uses its key).
    fn create(state_dir: &Path, path: &Path) -> Result<SigningKey, JwtError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| JwtError::Io { path, source }
        };
        std::fs::create_dir_all(state_dir).map_err(io(state_dir))?;
        let private = rsa::PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
            .map_err(|_| JwtError::Crypto("generate an RSA key"))?;
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| JwtError::Crypto("encode the RSA key"))?;
        let temp = state_dir.join(format!("{KEY_FILE}.{}.tmp", std::process::id()));
        let written = write_private(&temp, pem.as_bytes()).map_err(io(&temp));
        let linked = written.and_then(|()| std::fs::hard_link(&temp, path).map_err(io(path)));
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => Self::from_pem(pem.as_bytes()).ok_or(JwtError::Crypto("read the new key")),
            Err(JwtError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                Self::load_or_create(state_dir)
            }
            Err(e) => Err(e),
        }
    }

    fn from_pem(pem: &[u8]) -> Option<SigningKey> {
        let key = EncodingKey::from_rsa_pem(pem).ok()?;
        let mut public = Jwk::from_encoding_key(&key, Algorithm::RS256).ok()?;
        // RFC 7638 thumbprint: stable for the key, as Entra's `kid`s are per key.
        let kid = public.thumbprint(ThumbprintHash::SHA256).ok()?;
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        Some(SigningKey { key, kid, public })
    }

    /// The key's id, the `kid` of its JWTs and its JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWKS: `{"keys": [{"kty": "RSA", "use": "sig", "kid", "n", "e", "alg": "RS256"}]}`.
    pub fn jwks(&self) -> Value {
        serde_json::json!({ "keys": [self.public] })
    }

    /// `claims` signed: header `alg: RS256`, `typ: JWT`, `kid`.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<Secret, JwtError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map(Secret::new)
            .map_err(|_| JwtError::Crypto("sign the JWT"))
    }
}

/// Writes `bytes` to a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests;
