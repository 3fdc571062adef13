//! `candor serve`: the live gRPC service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use candor_pipeline::ForgerySelection;
use candor_server::view_link::{KeyRing, KeySource, SigningKey};
use candor_server::{
    ApiKey, AuthMode, BadgeSettings, FrameAncestors, Limits, ServerSettings, TlsFiles,
};
use clap::Args;

use crate::settings::{AnalysisArgs, ModelArgs, StoreArgs};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// gRPC listen address.
    #[arg(long, env = "CANDOR_LISTEN", default_value = "0.0.0.0:50051")]
    pub listen: SocketAddr,

    /// Listen address for Prometheus /metrics and /healthz (outside authentication).
    #[arg(long, env = "CANDOR_METRICS_LISTEN", default_value = "0.0.0.0:9090")]
    pub metrics_listen: SocketAddr,

    /// API keys as `tenant:sha256hex` (hash with `candor hash-key`), comma-separated.
    #[arg(
        long = "api-key",
        env = "CANDOR_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,

    /// File with one `tenant:sha256hex` API key per line (# comments allowed).
    #[arg(long, env = "CANDOR_API_KEYS_FILE")]
    pub api_keys_file: Option<PathBuf>,

    /// Accept every request without an API key, as tenant `default`. For local
    /// development only.
    #[arg(long, env = "CANDOR_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,

    /// TLS certificate chain (PEM). TLS is on when both certificate and key are set.
    #[arg(long, env = "CANDOR_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM).
    #[arg(long, env = "CANDOR_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Most open Analyze sessions; more get RESOURCE_EXHAUSTED.
    #[arg(long, env = "CANDOR_MAX_SESSIONS", default_value_t = 16)]
    pub max_sessions: usize,

    /// Seconds without a client message before a session is closed.
    #[arg(long, env = "CANDOR_IDLE_TIMEOUT_S", default_value_t = 30)]
    pub idle_timeout_s: u64,

    /// Seconds a batch job's file stays one node's without renewal (renewed every third
    /// of it while scored): on a shared store, after a node dies mid-file, another
    /// takes the file up this long after.
    #[arg(long, env = "CANDOR_JOB_FILE_LEASE_S", default_value_t = 60)]
    pub job_file_lease_s: u64,

    /// Longest session in minutes of media: a session holds its results in memory
    /// while it runs (about 5 KB per 2 s segment), so this bounds its memory. One that
    /// reaches it ends with its summary and OUT_OF_RANGE.
    #[arg(long, env = "CANDOR_MAX_SESSION_MINUTES", default_value_t = 240)]
    pub max_session_minutes: u64,

    /// Largest gRPC message in MiB (a raw 1080p RGB24 frame is 5.9 MiB).
    #[arg(long, env = "CANDOR_MAX_MESSAGE_MIB", default_value_t = 16)]
    pub max_message_mib: usize,

    /// Largest frame in pixels, decoded or raw.
    #[arg(long, env = "CANDOR_MAX_FRAME_PIXELS", default_value_t = 4096 * 4096)]
    pub max_frame_pixels: u32,

    /// Sampled frames waiting for analysis per session before frames are dropped.
    #[arg(long, env = "CANDOR_FRAMES_IN_FLIGHT", default_value_t = 4)]
    pub frames_in_flight: usize,

    /// Seconds open sessions get on shutdown (SIGINT/SIGTERM) to send their last
    /// segment and summary before connections are closed.
    #[arg(long, env = "CANDOR_SHUTDOWN_GRACE_S", default_value_t = 10)]
    pub shutdown_grace_s: u64,

    /// Folder whose files SubmitJob may re-score (paths are relative to it). Batch
    /// jobs over gRPC are off without it.
    #[arg(long, env = "CANDOR_BATCH_ROOT")]
    pub batch_root: Option<PathBuf>,

    /// Batch jobs scored at once over gRPC; more get RESOURCE_EXHAUSTED.
    #[arg(long, env = "CANDOR_MAX_JOBS", default_value_t = 2)]
    pub max_jobs: usize,

    /// Seconds between retention sweeps, which delete sessions and batch jobs older
    /// than their tenant's retention period (default 30 days; `candor admin tenant`).
    #[arg(long, env = "CANDOR_RETENTION_SWEEP_S", default_value_t = 3600)]
    pub retention_sweep_s: u64,

    /// Separate listen address for the recruiter's badge page; without it the page is
    /// served on the metrics port.
    #[arg(long, env = "CANDOR_WEB_LISTEN")]
    pub web_listen: Option<SocketAddr>,

    /// The address recruiters reach the badge page at (e.g. https://candor.example.com),
    /// so CreateViewLink answers a full URL; without it, the path only.
    #[arg(long, env = "CANDOR_WEB_PUBLIC_URL")]
    pub web_public_url: Option<String>,

    /// File of view link signing keys, one `id:secret` a line (secrets of 32
    /// characters or more); the last line signs new links, every line verifies. Read
    /// again when it changes: rotate by appending a key, and remove the old one 24 h
    /// later.
    #[arg(
        long,
        env = "CANDOR_VIEW_LINK_KEYS_FILE",
        conflicts_with = "view_link_keys"
    )]
    pub view_link_keys_file: Option<PathBuf>,

    /// View link signing keys as `id:secret`, comma-separated (the last signs). Fixed
    /// for the process; use the key file to rotate without a restart.
    #[arg(
        long = "view-link-key",
        env = "CANDOR_VIEW_LINK_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub view_link_keys: Vec<String>,

    /// Per tenant, the sites that may embed the badge (`?embed=1`) in an iframe:
    /// `tenant=https://ats.example.com https://*.example.com;other=...`. Tenants not
    /// named may not be framed.
    #[arg(long, env = "CANDOR_WEB_FRAME_ANCESTORS", default_value = "")]
    pub web_frame_ancestors: String,

    /// This node's name, put as the `node` label on every Prometheus metric so that a
    /// dashboard over several nodes tells them apart (on Kubernetes: the pod name,
    /// from the downward API). Default: the host name.
    #[arg(long, env = "CANDOR_NODE_NAME")]
    pub node_name: Option<String>,

    /// With a shared store (`--store`): seconds a node may go without its heartbeat
    /// (written every sixth of this, at most every 5 s) before another node closes its
    /// open sessions as interrupted. Node names must then be distinct.
    #[arg(long, env = "CANDOR_NODE_LEASE_S", default_value_t = 30)]
    pub node_lease_s: u64,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub models: ModelArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

impl ServeArgs {
    fn auth(&self) -> Result<AuthMode> {
        let mut specs: Vec<String> = self
            .api_keys
            .iter()
            .filter(|s| !s.trim().is_empty())
            .cloned()
            .collect();
        if let Some(path) = &self.api_keys_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading API keys file {}", path.display()))?;
            specs.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned),
            );
        }
        match (specs.is_empty(), self.insecure_no_auth) {
            (true, true) => {
                tracing::warn!(
                    "authentication is OFF (--insecure-no-auth): every caller is tenant `default`"
                );
                Ok(AuthMode::InsecureNoAuth)
            }
            (false, true) => bail!("--insecure-no-auth cannot be combined with API keys"),
            (true, false) => bail!(
                "no API keys configured: pass --api-key tenant:sha256hex (see `candor hash-key`), \
                 or --insecure-no-auth for local development"
            ),
            (false, false) => Ok(AuthMode::Keys(
                specs
                    .iter()
                    .map(|s| ApiKey::parse(s).map_err(anyhow::Error::msg))
                    .collect::<Result<_>>()?,
            )),
        }
    }

    fn badge(&self) -> Result<BadgeSettings> {
        let keys = match &self.view_link_keys_file {
            Some(path) => KeySource::File(path.clone()),
            None => {
                let keys: Vec<SigningKey> = self
                    .view_link_keys
                    .iter()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| SigningKey::parse(s).map_err(anyhow::Error::msg))
                    .collect::<Result<_>>()?;
                if keys.is_empty() {
                    KeySource::None
                } else {
                    KeySource::Fixed(KeyRing::new(keys).map_err(anyhow::Error::msg)?)
                }
            }
        };
        Ok(BadgeSettings {
            listen: self.web_listen,
            public_url: self.web_public_url.clone(),
            keys,
            frame_ancestors: FrameAncestors::parse(&self.web_frame_ancestors)
                .map_err(anyhow::Error::msg)
                .context("--web-frame-ancestors")?,
        })
    }

    pub fn settings(&self) -> Result<ServerSettings> {
        let analysis = self.analysis.analysis_config()?;
        Ok(ServerSettings {
            listen: self.listen,
            metrics_listen: Some(self.metrics_listen),
            auth: self.auth()?,
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            limits: Limits {
                max_sessions: self.max_sessions.max(1),
                idle_timeout: Duration::from_secs(self.idle_timeout_s.max(1)),
                max_session: Duration::from_secs(self.max_session_minutes.max(1) * 60),
                max_message_bytes: self.max_message_mib.max(1) * 1024 * 1024,
                max_frame_pixels: self.max_frame_pixels,
                frames_in_flight: self.frames_in_flight.max(1),
                shutdown_grace: Duration::from_secs(self.shutdown_grace_s),
                max_jobs: self.max_jobs.max(1),
                job_file_lease: Duration::from_secs(self.job_file_lease_s.max(3)),
                ..Limits::default()
            },
            engine: self
                .models
                .engine_config(ForgerySelection::ForSignals(analysis.fused_signals()))?,
            analysis,
            decode: self.analysis.decode_options(),
            data_dir: Some(self.store.data_dir.clone()),
            store_url: self.store.store_url.clone(),
            evidence_store: self.store.evidence_store.clone(),
            retention_sweep_every: Duration::from_secs(self.retention_sweep_s.max(1)),
            batch_root: self.batch_root.clone(),
            badge: self.badge()?,
            node_name: self.node_name.clone().unwrap_or_else(host_name),
            node_lease: Duration::from_secs(self.node_lease_s.max(1)),
        })
    }
}

/// The kernel's host name (a pod's name on Kubernetes), else `$HOSTNAME`, else
/// `localhost`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

pub fn run(args: ServeArgs) -> Result<()> {
    let settings = args.settings()?;
    // Logged once; API keys print as tenant names only (their Debug redacts hashes).
    tracing::info!(?settings, "effective configuration");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("candor-rt")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(candor_server::run(settings, shutdown_signal()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
