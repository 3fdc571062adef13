//! Evidence bytes in an object store instead of the store itself, for nodes that share
//! results: an S3-compatible bucket (`s3://bucket/prefix`; credentials, region and
//! endpoint from the usual `AWS_*` variables, e.g. `AWS_ENDPOINT` and
//! `AWS_ALLOW_HTTP=true` for a local server) or a folder (`file:///srv/evidence`).
//! Objects are named like the data directory's files:
//! `<prefix>/<tenant>/<session>/<segment>-<kind>-<id>.bin`, and a row's `location`
//! reads `object:<that name>`.

use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::{Result, StoreError};

/// How a row's `location` says its bytes are in the object store.
const LOCATION_PREFIX: &str = "object:";

/// A piece of evidence's name, the same in a data directory (under `evidence/`) and
/// in an object store (under its prefix).
pub(crate) fn evidence_name(
    tenant: &str,
    session_id: &str,
    segment_index: u32,
    kind: &str,
    id: &str,
) -> String {
    format!("{tenant}/{session_id}/{segment_index:08}-{kind}-{id}.bin")
}

/// Evidence a row names as in an object store, asked of a store opened without one.
pub(crate) fn not_configured(location: &str) -> StoreError {
    StoreError::Invalid(format!(
        "evidence {location:?} is in an object store: open the store with --evidence-store"
    ))
}

/// An object store for evidence, with a runtime of its own to drive its requests
/// (the store's calls are blocking, made from any thread).
pub struct EvidenceBlobs {
    objects: Arc<dyn ObjectStore>,
    prefix: Path,
    shown: String,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for EvidenceBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl EvidenceBlobs {
    /// Opens the object store at `url`, configured by the `AWS_*` variables of the
    /// environment. Nothing is read or written until evidence is.
    pub fn open(url: &str) -> Result<Self> {
        let options = std::env::vars().filter(|(k, _)| k.starts_with("AWS_"));
        Self::open_with(url, options)
    }

    /// Opens the object store at `url` with these options (`AWS_ENDPOINT`,
    /// `AWS_ACCESS_KEY_ID`, …, in any case), and nothing from the environment.
    pub fn open_with(
        url: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        // TLS to the bucket uses ring, installed as the process default (reqwest asks
        // for it); an error means one is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let parsed = url::Url::parse(url)
            .map_err(|e| StoreError::Invalid(format!("evidence store URL {url:?}: {e}")))?;
        let options = options
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v));
        let (objects, prefix) = object_store::parse_url_opts(&parsed, options)
            .map_err(|e| StoreError::Invalid(format!("evidence store {url:?}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("candor-evidence")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("evidence store runtime: {e}")))?;
        Ok(Self {
            objects: Arc::from(objects),
            prefix,
            shown: format!("evidence store {}", parsed.as_str()),
            runtime,
        })
    }

    /// Whether a row's `location` is an object of an evidence store.
    pub fn holds(location: &str) -> bool {
        location.starts_with(LOCATION_PREFIX)
    }

    /// Stores `bytes` as `name` (relative to the store's prefix); returns the row's
    /// `location`.
    pub fn put(&self, name: &str, bytes: &[u8]) -> Result<String> {
        let path = self.path(name);
        let payload = PutPayload::from(bytes.to_vec());
        self.run(|| self.objects.put(&path, payload))?;
        Ok(format!("{LOCATION_PREFIX}{name}"))
    }

    /// The bytes at a row's `location`.
    pub fn get(&self, location: &str) -> Result<Vec<u8>> {
        let name = location.strip_prefix(LOCATION_PREFIX).ok_or_else(|| {
            StoreError::Invalid(format!("{location:?} is not in an evidence store"))
        })?;
        let path = self.path(name);
        let bytes = self.run(|| async { self.objects.get(&path).await?.bytes().await })?;
        Ok(bytes.to_vec())
    }

    /// Deletes the object at a row's `location` (cleaning up after a failed insert).
    pub fn delete(&self, location: &str) -> Result<()> {
        let Some(name) = location.strip_prefix(LOCATION_PREFIX) else {
            return Ok(());
        };
        let path = self.path(name);
        self.run(|| self.objects.delete(&path))
    }

    /// Deletes every object under `dir` (relative to the prefix); returns how many.
    pub fn delete_all(&self, dir: &str) -> Result<u64> {
        let path = self.path(dir);
        self.run(|| async {
            let found: Vec<_> = self.objects.list(Some(&path)).try_collect().await?;
            for meta in &found {
                self.objects.delete(&meta.location).await?;
            }
            Ok(found.len() as u64)
        })
    }

    fn path(&self, name: &str) -> Path {
        name.split('/')
            .fold(self.prefix.clone(), |p, part| p.clone().join(part))
    }

    /// Runs one request to its end on the store's runtime, from a thread of its own so
    /// that callers on any thread (an async runtime's included) can wait for it.
    fn run<T, F, Fut>(&self, request: F) -> Result<T>
    where
        T: Send,
        F: FnOnce() -> Fut + Send,
        Fut: std::future::Future<Output = object_store::Result<T>>,
    {
        std::thread::scope(|s| {
            s.spawn(|| self.runtime.block_on(request()))
                .join()
                .unwrap_or_else(|_| {
                    Err(object_store::Error::Generic {
                        store: "evidence",
                        source: "the request panicked".into(),
                    })
                })
        })
        .map_err(|e| StoreError::Backend(format!("{}: {e}", self.shown)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_store_keeps_puts_gets_and_deletes_by_session() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let blobs = EvidenceBlobs::open(&url).unwrap();
        let a = blobs.put("acme/s1/00000003-face-x.bin", b"one").unwrap();
        blobs.put("acme/s1/00000004-face-y.bin", b"two").unwrap();
        let other = blobs.put("acme/s2/00000001-face-z.bin", b"three").unwrap();
        assert!(EvidenceBlobs::holds(&a));
        assert_eq!(blobs.get(&a).unwrap(), b"one");
        assert!(dir.path().join("acme/s1/00000003-face-x.bin").is_file());
        assert_eq!(blobs.delete_all("acme/s1").unwrap(), 2);
        assert!(blobs.get(&a).is_err());
        assert_eq!(blobs.get(&other).unwrap(), b"three");
        assert!(matches!(
            blobs.get("evidence/x.bin"),
            Err(StoreError::Invalid(_))
        ));
    }
}
