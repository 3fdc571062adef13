//! How the recruiter's badge page is served: where, under which public address, with
//! which view link keys, and which sites of each tenant may embed it in an iframe.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::ServiceError;
use crate::proto;
use crate::view_link::{Grant, KeySource, Keys, LinkError, Scope, unix_now};

/// The badge's settings, as `candor serve` takes them from flags.
#[derive(Debug, Clone, Default)]
pub struct BadgeSettings {
    /// A separate port for the page; `None` serves it on the metrics port.
    pub listen: Option<SocketAddr>,
    /// The address recruiters reach the web port at (e.g. `https://candor.example.com`),
    /// so CreateViewLink can answer a full URL; `None` answers the path only.
    pub public_url: Option<String>,
    pub keys: KeySource,
    pub frame_ancestors: FrameAncestors,
}

/// The badge at run time: its keys (kept current) and the embedding rules.
pub struct Badge {
    pub keys: Keys,
    pub public_url: Option<String>,
    pub frame_ancestors: FrameAncestors,
}

impl Badge {
    /// No keys: no links can be minted, every link is refused.
    pub fn off() -> Self {
        Self {
            keys: Keys::off(),
            public_url: None,
            frame_ancestors: FrameAncestors::default(),
        }
    }

    pub fn load(settings: &BadgeSettings) -> Result<Self, String> {
        Ok(Self {
            keys: Keys::load(settings.keys.clone())?,
            public_url: settings
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            frame_ancestors: settings.frame_ancestors.clone(),
        })
    }

    /// Signs a new link for `tenant` and says where it leads.
    pub fn mint(
        &self,
        tenant: &str,
        scope: Scope,
        ttl: Duration,
        challenges: bool,
    ) -> Result<(Grant, proto::CreateViewLinkResponse), ServiceError> {
        let now = unix_now();
        let grant = Grant {
            id: candor_store::new_id(),
            tenant: tenant.to_owned(),
            scope,
            challenges,
            issued_at: now,
            expires_at: now + ttl.as_secs() as i64,
        };
        let token = self.keys.ring().sign(&grant).map_err(|e| match e {
            LinkError::NoKeys => ServiceError::NotEnabled(
                "view links are off on this server: give it keys (--view-link-keys-file)".into(),
            ),
            other => ServiceError::Internal(other.to_string()),
        })?;
        let path = format!("/badge?t={token}");
        let url = self
            .public_url
            .as_ref()
            .map(|base| format!("{base}{path}"))
            .unwrap_or_default();
        let answer = proto::CreateViewLinkResponse {
            link_id: grant.id.clone(),
            token,
            path,
            url,
            expires_at_unix_s: grant.expires_at,
        };
        Ok((grant, answer))
    }
}

/// Per tenant, the origins whose pages may frame the badge in embedded mode
/// (`Content-Security-Policy: frame-ancestors`). A tenant without an entry may not be
/// framed at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameAncestors(HashMap<String, Vec<String>>);

impl FrameAncestors {
    /// Parses `tenant=source source;tenant=source`, each source an origin such as
    /// `https://ats.example.com`, `https://*.example.com` or `'self'`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (tenant, sources) = entry.split_once('=').ok_or_else(|| {
                format!(
                    "frame ancestors entries look like tenant=https://site.example (got {entry:?})"
                )
            })?;
            let tenant = tenant.trim();
            if tenant.is_empty() {
                return Err(format!("frame ancestors entry {entry:?} has no tenant"));
            }
            let sources: Vec<String> = sources.split_whitespace().map(str::to_owned).collect();
            if sources.is_empty() {
                return Err(format!("frame ancestors of tenant {tenant:?} name no site"));
            }
            for s in &sources {
                if !is_source(s) {
                    return Err(format!(
                        "frame ancestor {s:?} of tenant {tenant:?} is not an origin like https://ats.example.com"
                    ));
                }
            }
            if map.insert(tenant.to_owned(), sources).is_some() {
                return Err(format!(
                    "tenant {tenant:?} appears twice in the frame ancestors"
                ));
            }
        }
        Ok(Self(map))
    }

    /// The `frame-ancestors` directive's value for `tenant` in embedded mode.
    pub fn directive(&self, tenant: &str) -> String {
        self.0
            .get(tenant)
            .map_or_else(|| "'none'".to_owned(), |s| s.join(" "))
    }
}

/// A CSP source this server will put in a header: a scheme and host (wildcard
/// subdomain and port allowed), or `'self'`; nothing that could end the directive.
fn is_source(s: &str) -> bool {
    if s == "'self'" {
        return true;
    }
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.strip_prefix("*.").unwrap_or(rest);
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_per_tenant() {
        let f = FrameAncestors::parse(
            "acme=https://ats.acme.com https://*.acme.io:8443; globex='self'",
        )
        .unwrap();
        assert_eq!(
            f.directive("acme"),
            "https://ats.acme.com https://*.acme.io:8443"
        );
        assert_eq!(f.directive("globex"), "'self'");
        assert_eq!(f.directive("initech"), "'none'");
        assert_eq!(
            FrameAncestors::parse("").unwrap(),
            FrameAncestors::default()
        );
    }

    #[test]
    fn links_need_keys_and_carry_the_public_address() {
        let off = Badge::load(&BadgeSettings::default()).unwrap();
        let scope = Scope::Session("s1".into());
        let err = off
            .mint("acme", scope.clone(), Duration::from_secs(60), false)
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);

        let ring = crate::view_link::KeyRing::parse("k1:0123456789abcdef0123456789abcdef").unwrap();
        let on = Badge::load(&BadgeSettings {
            keys: KeySource::Fixed(ring.clone()),
            public_url: Some("https://candor.example.com/".into()),
            ..Default::default()
        })
        .unwrap();
        let (grant, answer) = on
            .mint("acme", scope.clone(), Duration::from_secs(600), true)
            .unwrap();
        assert_eq!(answer.path, format!("/badge?t={}", answer.token));
        assert_eq!(
            answer.url,
            format!("https://candor.example.com{}", answer.path)
        );
        assert_eq!(grant.expires_at - grant.issued_at, 600);
        let back = ring.verify(&answer.token, grant.issued_at).unwrap();
        assert_eq!(
            (back.tenant.as_str(), back.scope, back.challenges),
            ("acme", scope, true)
        );
        assert_eq!(back.id, answer.link_id);
    }

    #[test]
    fn sources_that_could_break_the_header_are_refused() {
        for bad in [
            "acme=https://x.com;script-src *",
            "acme=*",
            "acme=https://x.com,evil",
            "acme=ftp://x.com",
            "acme=",
            "=https://x.com",
            "acme=https://a.com;acme=https://b.com",
            "acme https://x.com",
        ] {
            assert!(FrameAncestors::parse(bad).is_err(), "{bad}");
        }
    }
}
