//! TLS to PostgreSQL against a throwaway server that accepts TLS with a certificate
//! this test makes: `sslmode=require` with the right `sslrootcert` connects over TLS
//! (the server says so), a certificate from another authority is refused, and a URL
//! without `sslmode=require` still connects in plain.

use candor_store::postgres::temp_cluster::{SKIP_ENV, TempCluster};
use candor_store::{PostgresStore, Store};

/// A certificate authority and a server certificate it signed for 127.0.0.1.
struct Pki {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "candor test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_cert_pem: server.pem(),
        server_key_pem: server_key.serialize_pem(),
    }
}

/// Connections of the application `candor` that the server sees over TLS.
fn tls_connections(cluster: &TempCluster) -> i64 {
    let mut admin = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).unwrap();
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE s.ssl AND a.application_name = 'candor'",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn sslmode_require_connects_over_verified_tls() {
    if TempCluster::skipped() {
        eprintln!("PostgreSQL skipped ({SKIP_ENV}=1)");
        return;
    }
    let good = pki();
    let cluster = TempCluster::start_with_tls(&good.server_cert_pem, &good.server_key_pem)
        .expect("throwaway PostgreSQL with TLS");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &good.ca_pem).unwrap();
    let url = cluster.create_database("tls").unwrap();

    let store = PostgresStore::open(&format!(
        "{url}?sslmode=require&sslrootcert={}",
        ca.display()
    ))
    .expect("TLS with the right authority");
    assert!(store.tenant_settings("acme").is_ok());
    assert!(tls_connections(&cluster) >= 1, "the server sees TLS");
    drop(store);

    // A server certificate from an authority the client was not given.
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, pki().ca_pem).unwrap();
    let refused = PostgresStore::open(&format!(
        "{url}?sslmode=require&sslrootcert={}",
        other.display()
    ));
    let message = match refused {
        Ok(_) => panic!("a certificate from an unknown authority was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("cannot connect"), "{message}");

    // Plain connections still work where the URL does not ask for TLS.
    let plain = PostgresStore::open(&url).expect("plain connection");
    assert!(plain.tenant_settings("acme").is_ok());
}
