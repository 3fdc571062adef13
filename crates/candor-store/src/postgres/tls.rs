//! TLS to PostgreSQL. `sslmode=require` in the store URL makes every connection TLS,
//! with the server's certificate verified (chain and host name) against the PEM file
//! named by `sslrootcert=` in the URL, as libpq takes it, or else the system's roots.
//! Without `sslmode=require` connections are plain, for a server on loopback, a
//! socket or a private network.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Result, StoreError};

/// How connections are made.
#[derive(Clone)]
pub(super) enum Connector {
    Plain,
    Verified(MakeRustlsConnect),
}

impl Connector {
    /// TLS when `config` requires it, with the roots of `root_cert` or the system.
    pub(super) fn for_config(config: &Config, root_cert: Option<&Path>) -> Result<Self> {
        if config.get_ssl_mode() != SslMode::Require {
            if root_cert.is_some() {
                return Err(StoreError::Invalid(
                    "sslrootcert is given but not sslmode=require: add sslmode=require to the \
                     store URL"
                        .into(),
                ));
            }
            return Ok(Self::Plain);
        }
        let roots = match root_cert {
            Some(path) => roots_from_file(path)?,
            None => system_roots()?,
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Backend(format!("TLS settings: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::Verified(MakeRustlsConnect::new(tls)))
    }

    pub(super) fn connect(&self, config: &Config) -> Result<Client> {
        Ok(match self {
            Self::Plain => config.connect(NoTls)?,
            Self::Verified(tls) => config.connect(tls.clone())?,
        })
    }
}

/// Splits `sslrootcert=PATH` off a URL's query (the client library does not take it).
pub(super) fn take_root_cert(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut root_cert = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("sslrootcert=") {
            Some(path) => {
                root_cert = Some(PathBuf::from(path));
                false
            }
            None => true,
        })
        .collect();
    if kept.is_empty() {
        (base.to_owned(), root_cert)
    } else {
        (format!("{base}?{}", kept.join("&")), root_cert)
    }
}

fn roots_from_file(path: &Path) -> Result<rustls::RootCertStore> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| StoreError::Invalid(format!("sslrootcert {}: {e}", path.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(StoreError::Invalid(format!(
            "sslrootcert {}: no certificate in it",
            path.display()
        )));
    }
    Ok(roots)
}

fn system_roots() -> Result<rustls::RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err(StoreError::Backend(format!(
            "sslmode=require: no system certificate authority could be read ({:?}); name \
             one with sslrootcert= in the store URL",
            found.errors
        )));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_certificate_is_taken_out_of_the_url() {
        assert_eq!(
            take_root_cert("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), None)
        );
        assert_eq!(
            take_root_cert("postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem"),
            (
                "postgres://u@h/db?sslmode=require".to_owned(),
                Some(PathBuf::from("/ca.pem"))
            )
        );
        assert_eq!(
            take_root_cert("postgres://u@h/db?sslrootcert=/ca.pem"),
            (
                "postgres://u@h/db".to_owned(),
                Some(PathBuf::from("/ca.pem"))
            )
        );
    }

    #[test]
    fn a_root_certificate_without_sslmode_require_is_refused() {
        let config: Config = "postgres://u@h/db".parse().unwrap();
        assert!(matches!(
            Connector::for_config(&config, Some(Path::new("/ca.pem"))),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            Connector::for_config(&config, None),
            Ok(Connector::Plain)
        ));
    }
}
