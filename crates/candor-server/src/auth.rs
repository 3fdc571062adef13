//! API keys: clients send `authorization: Bearer <key>`; the server keeps only the
//! SHA-256 of each key with its tenant, and compares digests in constant time.

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

use crate::error::ServiceError;
use crate::failed_auth::FailedAuth;

/// The tenant a request was authenticated as; put in request extensions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant(pub String);

/// Tenant used for every request when authentication is switched off.
pub const INSECURE_TENANT: &str = "default";

#[derive(Clone)]
pub struct ApiKey {
    pub tenant: String,
    pub sha256: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ApiKey {{ tenant: {:?}, sha256: <redacted> }}",
            self.tenant
        )
    }
}

impl ApiKey {
    /// Parses `tenant:sha256hex`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (tenant, hex) = spec
            .trim()
            .split_once(':')
            .ok_or_else(|| "API key entries look like tenant:sha256hex".to_string())?;
        if tenant.is_empty() {
            return Err("API key entry has an empty tenant".into());
        }
        let bytes = decode_hex(hex.trim())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| format!("API key hash for tenant {tenant:?} is not 64 hex digits"))?;
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&bytes);
        Ok(Self {
            tenant: tenant.to_owned(),
            sha256,
        })
    }
}

/// Hex SHA-256 of a key, as configured (`candor hash-key` prints it).
pub fn hash_key(key: &str) -> String {
    candor_store::digest::sha256_hex(key.as_bytes())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Debug, Clone)]
pub enum AuthMode {
    Keys(Vec<ApiKey>),
    /// Every request is tenant `default`. Needs `--insecure-no-auth`.
    InsecureNoAuth,
}

impl AuthMode {
    /// Finds the tenant for the `authorization` header's value.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Tenant, Status> {
        let keys = match self {
            Self::InsecureNoAuth => return Ok(Tenant(INSECURE_TENANT.into())),
            Self::Keys(keys) => keys,
        };
        let header = header.ok_or_else(|| {
            Status::unauthenticated("missing API key: send `authorization: Bearer <key>`")
        })?;
        let token = bearer_token(header).ok_or_else(|| {
            Status::unauthenticated(
                "the authorization header must read `Bearer <key>` (the key alone is not enough)",
            )
        })?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Check every key so timing does not reveal which tenant's key was close.
        let mut found = None;
        for k in keys {
            if constant_time_eq(&k.sha256, &digest) {
                found = Some(k.tenant.clone());
            }
        }
        found
            .map(Tenant)
            .ok_or_else(|| Status::unauthenticated("invalid API key"))
    }

    /// A tonic interceptor that authenticates and records the tenant. Addresses that
    /// keep failing are refused for a while (see `failed_auth`).
    pub fn interceptor(self) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
        let failures = std::sync::Arc::new(FailedAuth::default());
        move |mut req: Request<()>| {
            let peer = req.remote_addr().map(|a| a.ip());
            let now = std::time::Instant::now();
            if let Some(ip) = peer
                && let Err(wait) = failures.check(ip, now)
            {
                return Err(ServiceError::Overloaded(format!(
                    "too many failed authentication attempts from this address: retry in {} s",
                    wait.as_secs().max(1)
                ))
                .into());
            }
            // A value that is not text cannot be a bearer token: treated as malformed.
            let header = req
                .metadata()
                .get("authorization")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            let tenant = self.authenticate(header.as_deref()).inspect_err(|s| {
                crate::metrics::METRICS.record_error(s.code());
                if let Some(ip) = peer {
                    failures.failed(ip, now);
                }
            })?;
            req.extensions_mut().insert(tenant);
            Ok(req)
        }
    }
}

/// The key of a `Bearer <key>` header value (the scheme in any case).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The tenant the interceptor recorded.
pub fn tenant_of<T>(req: &Request<T>) -> Result<Tenant, Status> {
    req.extensions()
        .get::<Tenant>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_authenticate_their_tenant_only() {
        let mode = AuthMode::Keys(vec![
            ApiKey::parse(&format!("acme:{}", hash_key("k-acme"))).unwrap(),
            ApiKey::parse(&format!("globex:{}", hash_key("k-globex"))).unwrap(),
        ]);
        assert_eq!(mode.authenticate(Some("Bearer k-acme")).unwrap().0, "acme");
        assert_eq!(
            mode.authenticate(Some("bearer  k-globex")).unwrap().0,
            "globex"
        );
        // The key without its scheme is told apart from a missing key.
        let bare = mode.authenticate(Some("k-acme")).unwrap_err();
        assert_eq!(bare.code(), tonic::Code::Unauthenticated);
        assert!(bare.message().contains("key alone"), "{}", bare.message());
        assert_eq!(
            mode.authenticate(Some("Bearer nope")).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        assert_eq!(
            mode.authenticate(None).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
    }

    #[test]
    fn bad_specs_are_rejected() {
        assert!(ApiKey::parse("nocolon").is_err());
        assert!(ApiKey::parse(":abcd").is_err());
        assert!(ApiKey::parse("t:zz").is_err());
        assert!(ApiKey::parse(&format!("t:{}", &hash_key("x")[..62])).is_err());
    }

    #[test]
    fn known_digest() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_redacts_the_hash() {
        let k = ApiKey::parse(&format!("acme:{}", hash_key("k"))).unwrap();
        assert!(!format!("{k:?}").contains(&hash_key("k")[..8]));
    }
}
