//! Evidence bytes in an object store (`--evidence-store`): a folder (`file://`) under
//! both backends, and an S3-compatible server (moto, installed by scripts/setup into
//! .cache/moto-venv) under SQLite. Each stores a piece of evidence, reads it back
//! through the store, finds the object where its name says, and purges it with its
//! session.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use candor_store::postgres::temp_cluster::{SKIP_ENV, TempCluster};
use candor_store::{EvidenceBlobs, NewSession, PostgresStore, SqliteStore, Store, TenantSettings};

const TENANT: &str = "acme";
const SESSION: &str = "call-1";
const CROP: &[u8] = b"\xff\xd8\xff\xe0 a face crop";

fn capturing_tenant() -> TenantSettings {
    TenantSettings {
        evidence_capture: true,
        ..TenantSettings::new(TENANT)
    }
}

fn session() -> NewSession {
    NewSession {
        tenant: TENANT.into(),
        session_id: SESSION.into(),
        participant_id: "participant-1".into(),
        interview_ref: None,
        candidate_ref: None,
        source: "grpc".into(),
        settings_json: "{}".into(),
        models_json: "[]".into(),
        started_at: candor_store::now_ms(),
        node: None,
    }
}

/// Stores one piece of evidence through `store`, checks it reads back and that
/// `object_exists` sees it under its name, then purges the session and checks the
/// object went with it.
fn round_trip(store: &dyn Store, object_exists: impl Fn(&str) -> bool) {
    store.upsert_tenant(&capturing_tenant()).unwrap();
    store.create_session(&session()).unwrap();
    let record = store
        .add_evidence(TENANT, SESSION, 3, "face", CROP)
        .unwrap();
    let name = record
        .location
        .strip_prefix("object:")
        .unwrap_or_else(|| panic!("not in the object store: {}", record.location));
    assert!(name.starts_with("acme/call-1/00000003-face-"), "{name}");
    assert!(object_exists(name), "no object {name}");
    assert_eq!(store.read_evidence(TENANT, &record.id).unwrap(), CROP);
    assert_eq!(
        store.evidence(TENANT, SESSION).unwrap(),
        vec![record.clone()]
    );

    let purged = store.purge_session(TENANT, SESSION).unwrap();
    assert_eq!((purged.evidence, purged.evidence_files), (1, 1));
    assert!(!object_exists(name), "object {name} outlived its session");
}

fn folder_blobs(dir: &std::path::Path) -> Arc<EvidenceBlobs> {
    let url = format!("file://{}", dir.display());
    Arc::new(EvidenceBlobs::open_with(&url, Vec::new()).unwrap())
}

#[test]
fn sqlite_keeps_evidence_in_a_folder_store() {
    let data = tempfile::tempdir().unwrap();
    let objects = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(data.path())
        .unwrap()
        .with_evidence_blobs(folder_blobs(objects.path()));
    round_trip(&store, |name| objects.path().join(name).is_file());
    assert!(
        !data.path().join("evidence").exists(),
        "nothing written to the data directory's evidence folder"
    );
}

#[test]
fn postgres_keeps_evidence_in_a_folder_store() {
    if TempCluster::skipped() {
        eprintln!("PostgreSQL skipped ({SKIP_ENV}=1)");
        return;
    }
    let cluster = TempCluster::start().expect("throwaway PostgreSQL");
    let url = cluster.create_database("evidence").unwrap();
    let objects = tempfile::tempdir().unwrap();
    let store = PostgresStore::open(&url)
        .unwrap()
        .with_evidence_blobs(folder_blobs(objects.path()));
    round_trip(&store, |name| objects.path().join(name).is_file());
}

/// A store opened without the object store cannot read what went there, and says why.
#[test]
fn evidence_in_an_object_store_needs_it_to_be_read() {
    let data = tempfile::tempdir().unwrap();
    let objects = tempfile::tempdir().unwrap();
    let with = SqliteStore::open(data.path())
        .unwrap()
        .with_evidence_blobs(folder_blobs(objects.path()));
    with.upsert_tenant(&capturing_tenant()).unwrap();
    with.create_session(&session()).unwrap();
    let record = with.add_evidence(TENANT, SESSION, 0, "face", CROP).unwrap();
    drop(with);
    let without = SqliteStore::open(data.path()).unwrap();
    let e = without.read_evidence(TENANT, &record.id).unwrap_err();
    assert!(e.to_string().contains("--evidence-store"), "{e}");
}

/// An S3-compatible server on loopback: moto, from the venv scripts/setup makes.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let bin = std::env::var_os("CANDOR_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../.cache/moto-venv/bin/moto_server")
            });
        assert!(
            bin.is_file(),
            "{} is missing: run scripts/setup (it installs moto, an S3-compatible test \
             server, from PyPI)",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen in 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Makes a bucket (moto takes an unsigned request).
    fn create_bucket(&self, bucket: &str) {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    fn options(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sqlite_keeps_evidence_in_an_s3_bucket() {
    let moto = Moto::start();
    moto.create_bucket("candor-evidence");
    let url = "s3://candor-evidence/node-pool";
    let blobs = Arc::new(EvidenceBlobs::open_with(url, moto.options()).unwrap());
    let data = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(data.path())
        .unwrap()
        .with_evidence_blobs(blobs);
    // A second client of the bucket sees the object: it is in S3, not on this disk.
    let reader = EvidenceBlobs::open_with(url, moto.options()).unwrap();
    round_trip(&store, |name| reader.get(&format!("object:{name}")).is_ok());
}
