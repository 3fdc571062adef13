//! Signed view links: a token that lets a recruiter's browser follow one session (or
//! the sessions of one interview) of one tenant, for a limited time, without the
//! tenant's API key. A token is `<key id>.<payload>.<signature>`: the payload is
//! base64url JSON naming the link id, tenant, scope, whether challenges may be
//! started, and its issue and expiry times; the signature is HMAC-SHA256 over the key
//! id and payload with the server's secret of that id. Keys rotate without a restart:
//! the last key of the ring signs, every key of the ring verifies, so a link outlives
//! a rotation as long as its key stays in the ring (at most `MAX_TTL` after the new
//! key is added).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a link lives when the request does not say.
pub const DEFAULT_TTL: Duration = Duration::from_secs(2 * 3600);
/// The longest a link may live; longer requests are refused, longer tokens rejected.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// Shortest secret accepted: HMAC-SHA256 wants at least its output size of entropy.
pub const MIN_SECRET_BYTES: usize = 32;
/// Domain separation: a signature made here means nothing elsewhere.
const CONTEXT: &[u8] = b"candor-view-link-v1.";
/// Longest token parsed; anything longer is not one of ours.
const MAX_TOKEN_LEN: usize = 4096;

/// What a link opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One session, by its id.
    Session(String),
    /// Whichever session of this interview (`interview_ref`) is the latest.
    Interview(String),
}

/// What a verified token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The link's id, written to the audit log with every view and challenge.
    pub id: String,
    pub tenant: String,
    pub scope: Scope,
    /// Whether the holder may start challenges.
    pub challenges: bool,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; the link is refused from this second on.
    pub expires_at: i64,
}

/// Why a token was refused. The holder sees only "forbidden"; the log sees this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("not a view link token")]
    Malformed,
    #[error("signed with a key this server does not hold")]
    UnknownKey,
    #[error("the signature does not match")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("lives longer than the longest link allowed")]
    TooLong,
    #[error("no view link keys are configured")]
    NoKeys,
}

/// One secret with its id.
#[derive(Clone)]
pub struct SigningKey {
    pub id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey {{ id: {:?}, secret: <redacted> }}", self.id)
    }
}

impl SigningKey {
    /// Parses `id:secret`. Ids are short (1-32 of letters, digits, '-', '_'), since
    /// they travel in every token; secrets at least `MIN_SECRET_BYTES` long.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (id, secret) = spec
            .trim()
            .split_once(':')
            .ok_or_else(|| "view link keys look like id:secret".to_string())?;
        let id_ok = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!(
                "view link key id {id:?} must be 1-32 letters, digits, '-' or '_'"
            ));
        }
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "view link key {id:?}: the secret must be at least {MIN_SECRET_BYTES} characters (e.g. `openssl rand -hex 32`)"
            ));
        }
        Ok(Self {
            id: id.to_owned(),
            secret: secret.as_bytes().to_vec(),
        })
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        mac.update(CONTEXT);
        mac.update(self.id.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac
    }
}

/// The keys a server holds: the last one signs, all of them verify.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Vec<SigningKey>,
}

impl KeyRing {
    pub fn new(keys: Vec<SigningKey>) -> Result<Self, String> {
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.id == k.id) {
                return Err(format!("view link key id {:?} appears twice", k.id));
            }
        }
        Ok(Self { keys })
    }

    /// Parses a key file: one `id:secret` a line, `#` comments and blank lines
    /// allowed; the last key signs new links.
    pub fn parse(text: &str) -> Result<Self, String> {
        let keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(SigningKey::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(keys)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids, for the start-up log.
    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// Signs `grant` with the newest key.
    pub fn sign(&self, grant: &Grant) -> Result<String, LinkError> {
        let key = self.keys.last().ok_or(LinkError::NoKeys)?;
        // Serialising a plain struct of strings and numbers cannot fail.
        let json = serde_json::to_vec(grant).expect("grant serialises");
        let payload = B64.encode(json);
        let sig = B64.encode(key.mac(&payload).finalize().into_bytes());
        Ok(format!("{}.{payload}.{sig}", key.id))
    }

    /// Checks the signature first, then the times: the grant, if `token` is ours and
    /// alive at `now` (unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Grant, LinkError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(LinkError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(id), Some(payload), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Malformed);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(LinkError::UnknownKey)?;
        let sig = B64.decode(sig).map_err(|_| LinkError::Malformed)?;
        key.mac(payload)
            .verify_slice(&sig)
            .map_err(|_| LinkError::BadSignature)?;
        let json = B64.decode(payload).map_err(|_| LinkError::Malformed)?;
        let grant: Grant = serde_json::from_slice(&json).map_err(|_| LinkError::Malformed)?;
        if grant.expires_at - grant.issued_at > MAX_TTL.as_secs() as i64 {
            return Err(LinkError::TooLong);
        }
        if now >= grant.expires_at {
            return Err(LinkError::Expired);
        }
        Ok(grant)
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Where the keys come from: fixed at start, or a file read again when it changes.
#[derive(Debug, Clone, Default)]
pub enum KeySource {
    /// No keys: view links are switched off.
    #[default]
    None,
    Fixed(KeyRing),
    /// A key file, looked at again at most once a second (its modification time and
    /// size); a file that stops parsing keeps the last good keys, with a warning.
    File(PathBuf),
}

/// How often a key file is looked at again.
const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// The server's keys, kept current.
pub struct Keys {
    source: KeySource,
    cached: Mutex<Cached>,
}

struct Cached {
    ring: Arc<KeyRing>,
    stamp: Option<(SystemTime, u64)>,
    checked: Option<Instant>,
}

impl Keys {
    /// No keys at all.
    pub fn off() -> Self {
        Self {
            source: KeySource::None,
            cached: Mutex::new(Cached {
                ring: Arc::new(KeyRing::default()),
                stamp: None,
                checked: None,
            }),
        }
    }

    /// Loads the keys once; a key file that cannot be read or parsed at start is an
    /// error (a later bad edit only keeps the last good keys).
    pub fn load(source: KeySource) -> Result<Self, String> {
        let (ring, stamp) = match &source {
            KeySource::None => (KeyRing::default(), None),
            KeySource::Fixed(ring) => (ring.clone(), None),
            KeySource::File(path) => {
                let (ring, stamp) = read_file(path)?;
                (ring, Some(stamp))
            }
        };
        Ok(Self {
            source,
            cached: Mutex::new(Cached {
                ring: Arc::new(ring),
                stamp,
                checked: Some(Instant::now()),
            }),
        })
    }

    /// The keys now, reading the key file again if it changed.
    pub fn ring(&self) -> Arc<KeyRing> {
        let mut c = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        let KeySource::File(path) = &self.source else {
            return c.ring.clone();
        };
        if c.checked.is_some_and(|t| t.elapsed() < RECHECK_EVERY) {
            return c.ring.clone();
        }
        c.checked = Some(Instant::now());
        let stamp = file_stamp(path).ok();
        if stamp.is_some() && stamp == c.stamp {
            return c.ring.clone();
        }
        match read_file(path) {
            Ok((ring, stamp)) => {
                tracing::info!(keys = ?ring.ids(), "view link keys reloaded");
                c.ring = Arc::new(ring);
                c.stamp = Some(stamp);
            }
            Err(error) => {
                tracing::warn!(%error, "view link key file unreadable: keeping the last good keys")
            }
        }
        c.ring.clone()
    }
}

fn file_stamp(path: &std::path::Path) -> std::io::Result<(SystemTime, u64)> {
    let m = std::fs::metadata(path)?;
    Ok((m.modified()?, m.len()))
}

fn read_file(path: &std::path::Path) -> Result<(KeyRing, (SystemTime, u64)), String> {
    let what = || format!("view link key file {}", path.display());
    let stamp = file_stamp(path).map_err(|e| format!("{}: {e}", what()))?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", what()))?;
    let ring = KeyRing::parse(&text).map_err(|e| format!("{}: {e}", what()))?;
    if ring.is_empty() {
        return Err(format!("{} holds no key", what()));
    }
    Ok((ring, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S1: &str = "k1:0123456789abcdef0123456789abcdef";
    const S2: &str = "k2:fedcba9876543210fedcba9876543210";

    fn ring(specs: &[&str]) -> KeyRing {
        KeyRing::new(
            specs
                .iter()
                .map(|s| SigningKey::parse(s).unwrap())
                .collect(),
        )
        .unwrap()
    }

    fn grant(tenant: &str, issued_at: i64, ttl: i64) -> Grant {
        Grant {
            id: "link-1".into(),
            tenant: tenant.into(),
            scope: Scope::Session("s1".into()),
            challenges: true,
            issued_at,
            expires_at: issued_at + ttl,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let r = ring(&[S1]);
        let g = grant("acme", 1000, 7200);
        let t = r.sign(&g).unwrap();
        assert!(t.starts_with("k1."), "{t}");
        assert_eq!(r.verify(&t, 1000).unwrap(), g);
        assert_eq!(r.verify(&t, 8199).unwrap(), g);
        assert_eq!(r.verify(&t, 8200), Err(LinkError::Expired));
    }

    #[test]
    fn forged_tokens_are_refused() {
        let r = ring(&[S1]);
        let t = r.sign(&grant("acme", 1000, 7200)).unwrap();
        let (head, sig) = t.rsplit_once('.').unwrap();
        // The payload changed to another tenant, the signature kept.
        let other = r.sign(&grant("globex", 1000, 7200)).unwrap();
        let other_payload = other.split('.').nth(1).unwrap();
        let swapped = format!("k1.{other_payload}.{sig}");
        assert_eq!(r.verify(&swapped, 1000), Err(LinkError::BadSignature));
        // A signature made with another secret under the same id.
        let impostor = ring(&["k1:this-is-not-the-server-secret-at-all"]);
        let forged = impostor.sign(&grant("acme", 1000, 7200)).unwrap();
        assert_eq!(r.verify(&forged, 1000), Err(LinkError::BadSignature));
        // Damaged and foreign shapes.
        let flipped = format!("{head}.{}", sig.replace(&sig[..2], "AA"));
        assert!(r.verify(&flipped, 1000).is_err());
        for junk in [
            "",
            "abc",
            "k1..",
            "k1.a.b.c",
            "k9.e30.AAAA",
            &"x".repeat(5000),
        ] {
            assert!(r.verify(junk, 1000).is_err(), "{junk:?}");
        }
        assert_eq!(
            KeyRing::default().verify(&t, 1000),
            Err(LinkError::UnknownKey)
        );
        assert_eq!(
            KeyRing::default().sign(&grant("a", 0, 1)),
            Err(LinkError::NoKeys)
        );
    }

    #[test]
    fn the_grant_names_its_tenant_and_only_that() {
        let r = ring(&[S1]);
        let t = r.sign(&grant("acme", 1000, 60)).unwrap();
        let g = r.verify(&t, 1000).unwrap();
        // The page looks the session up under this tenant only: another tenant's
        // session is simply not found through it.
        assert_eq!(g.tenant, "acme");
        assert_ne!(g.tenant, "globex");
    }

    #[test]
    fn rotated_keys_keep_old_links_until_the_old_key_goes() {
        let old = ring(&[S1]);
        let t_old = old.sign(&grant("acme", 1000, 7200)).unwrap();
        // A new key is appended: it signs, the old one still verifies.
        let rotated = ring(&[S1, S2]);
        let t_new = rotated.sign(&grant("acme", 1000, 7200)).unwrap();
        assert!(t_new.starts_with("k2."));
        assert!(rotated.verify(&t_old, 2000).is_ok());
        assert!(rotated.verify(&t_new, 2000).is_ok());
        // Once the old key is removed, its links stop working; the new ones do not.
        let only_new = ring(&[S2]);
        assert_eq!(only_new.verify(&t_old, 2000), Err(LinkError::UnknownKey));
        assert!(only_new.verify(&t_new, 2000).is_ok());
    }

    #[test]
    fn links_longer_than_the_maximum_are_refused() {
        let r = ring(&[S1]);
        let max = MAX_TTL.as_secs() as i64;
        assert!(r.verify(&r.sign(&grant("a", 0, max)).unwrap(), 0).is_ok());
        let t = r.sign(&grant("a", 0, max + 1)).unwrap();
        assert_eq!(r.verify(&t, 0), Err(LinkError::TooLong));
    }

    #[test]
    fn key_files_parse_and_bad_keys_say_why() {
        let r = KeyRing::parse(&format!("# rotated 2026-12\n{S1}\n\n{S2}\n")).unwrap();
        assert_eq!(r.ids(), ["k1", "k2"]);
        assert!(
            SigningKey::parse("k1:short")
                .unwrap_err()
                .contains("at least")
        );
        assert!(SigningKey::parse("nocolon").is_err());
        assert!(SigningKey::parse("bad id:0123456789abcdef0123456789abcdef").is_err());
        assert!(
            KeyRing::parse(&format!("{S1}\n{S1}"))
                .unwrap_err()
                .contains("twice")
        );
        let k = SigningKey::parse(S1).unwrap();
        assert!(!format!("{k:?}").contains("0123456789"));
    }

    #[test]
    fn a_key_file_is_read_again_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("candor-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        std::fs::write(&path, format!("{S1}\n")).unwrap();
        let keys = Keys::load(KeySource::File(path.clone())).unwrap();
        let t_old = keys.ring().sign(&grant("a", 1000, 60)).unwrap();
        std::fs::write(&path, format!("{S1}\n{S2}\n")).unwrap();
        // Force the next look at the file.
        keys.cached.lock().unwrap().checked = None;
        let ring = keys.ring();
        assert_eq!(ring.ids(), ["k1", "k2"]);
        assert!(ring.verify(&t_old, 1000).is_ok());
        // A broken edit keeps the last good keys.
        std::fs::write(&path, "garbage").unwrap();
        keys.cached.lock().unwrap().checked = None;
        assert_eq!(keys.ring().ids(), ["k1", "k2"]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Keys::load(KeySource::File(path)).is_err());
    }
}
