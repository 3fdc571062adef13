//! Starting and stopping the server. `start` is what `candor serve` and the
//! integration tests both call: it binds the ports, answers health NOT_SERVING while
//! the models load and warm up, then SERVING; `RunningServer::shutdown` stops
//! accepting, lets open sessions finish their segments and summaries, waits until they
//! are written to the store, and returns.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::AuthMode;
use crate::badge_config::{Badge, BadgeSettings};
use crate::health::Health;
use crate::identity_index::IdentityIndex;
use crate::persist::SessionWriter;
use crate::proto::candor_server::CandorServer;
use crate::service::CandorService;
use crate::state::{Limits, Persistence, ServerState};
use anyhow::{Context, Result};
use candor_core::AnalysisConfig;
use candor_media::DecodeOptions;
use candor_pipeline::{Engine, EngineConfig};
use candor_store::StoreLocation;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything the server needs; built from flags by `candor serve`, or by tests.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Port for /metrics and /healthz; `None` disables it.
    pub metrics_listen: Option<SocketAddr>,
    pub auth: AuthMode,
    pub tls: Option<TlsFiles>,
    pub limits: Limits,
    pub engine: EngineConfig,
    pub analysis: AnalysisConfig,
    pub decode: DecodeOptions,
    /// Data directory of the result store; `None` keeps nothing beyond memory.
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL database for the result store instead of `data_dir`, which
    /// several server nodes may share.
    pub store_url: Option<candor_store::PostgresUrl>,
    /// An object store for evidence bytes (`s3://bucket/prefix`, `file:///dir`)
    /// instead of the data directory or the database.
    pub evidence_store: Option<String>,
    /// How often expired sessions and jobs are deleted (each tenant's retention).
    pub retention_sweep_every: Duration,
    /// Folder that SubmitJob paths are relative to; `None` switches batch jobs off.
    pub batch_root: Option<PathBuf>,
    /// The recruiter's badge page and its view links.
    pub badge: BadgeSettings,
    /// This node's name, the `node` label of every metric (empty: no label), and the
    /// node recorded with each session it runs. Nodes sharing a store need distinct
    /// names.
    pub node_name: String,
    /// On a shared store, how long a node may miss heartbeats before the other nodes
    /// close its open sessions as interrupted.
    pub node_lease: Duration,
}

const TRANSPORT_HEADROOM: usize = 1024 * 1024;
/// After the sessions have ended, how long clients get to read their last messages.
const FLUSH_GRACE: Duration = Duration::from_secs(2);

pub struct RunningServer {
    pub grpc_addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    /// Where the badge page is served: its own port, else the metrics port.
    pub web_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    grpc: JoinHandle<Result<(), tonic::transport::Error>>,
    metrics: Option<JoinHandle<std::io::Result<()>>>,
    web: Option<JoinHandle<std::io::Result<()>>>,
    loader: Option<JoinHandle<Result<()>>>,
    sweeper: Option<JoinHandle<()>>,
    /// Heartbeat and challenge relay of a node on a shared store.
    node_tasks: Vec<JoinHandle<()>>,
    state: Arc<ServerState>,
}

impl RunningServer {
    /// Waits until the models are loaded and warmed up (health SERVING).
    pub async fn ready(&mut self) -> Result<()> {
        if let Some(loader) = self.loader.take() {
            loader.await.context("model loader task")??;
        }
        Ok(())
    }

    /// The loaded models, once ready.
    pub fn engine(&self) -> Option<Arc<Engine>> {
        self.state.engine()
    }

    /// Graceful stop: refuse new calls, let open sessions send their last segment and
    /// summary, then return. Bounded by `Limits::shutdown_grace`: a client that keeps
    /// its request stream open after its summary would otherwise hold the stop forever.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.shutdown.send(true);
        let limits = &self.state.limits;
        let deadline = tokio::time::Instant::now() + limits.shutdown_grace;
        // Sessions end on the signal; each holds a permit until its summary is queued.
        while self.state.sessions.available_permits() < limits.max_sessions
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Then give clients a moment to read what was queued for them.
        let flush = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .min(FLUSH_GRACE);
        let mut grpc = self.grpc;
        match tokio::time::timeout(flush, &mut grpc).await {
            Ok(joined) => joined.context("gRPC server task")??,
            Err(_) => {
                tracing::warn!("closing connections still open after the shutdown grace period");
                grpc.abort();
            }
        }
        if let Some(m) = self.metrics {
            m.await.context("metrics task")??;
        }
        if let Some(w) = self.web {
            w.await.context("badge web task")??;
        }
        if let Some(s) = self.sweeper {
            s.await.context("retention sweep task")?;
        }
        for t in self.node_tasks {
            t.await.context("node task")?;
        }
        // Every session has queued its last writes: wait until they are committed.
        if let Some(p) = self.state.persistence.clone() {
            tokio::task::spawn_blocking(move || p.writer.flush_blocking())
                .await
                .context("store writer")?;
        }
        Ok(())
    }
}

/// Binds and starts serving. Returns once the ports are bound; models load in the
/// background (see `RunningServer::ready`).
pub async fn start(settings: ServerSettings) -> Result<RunningServer> {
    crate::metrics::METRICS.set_node(&settings.node_name);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let provider = settings.engine.runtime.execution_provider.to_string();
    let location = match (&settings.store_url, &settings.data_dir) {
        (Some(url), _) => Some(StoreLocation::Postgres(url.clone())),
        (None, Some(dir)) => Some(StoreLocation::Sqlite(dir.clone())),
        (None, None) => None,
    };
    let persistence = match location {
        Some(location) => Some(open_store(location, &settings, shutdown_rx.clone()).await?),
        None => None,
    };
    let sweeper = persistence.as_ref().map(|p| {
        tokio::spawn(crate::retention::sweep_every(
            p.store.clone(),
            settings.retention_sweep_every,
            shutdown_rx.clone(),
        ))
    });
    let state = Arc::new(
        ServerState::new(
            settings.limits.clone(),
            settings.analysis.clone(),
            settings.decode.clone(),
            shutdown_rx.clone(),
            provider,
            persistence,
            settings.batch_root.clone(),
        )
        .with_badge(Badge::load(&settings.badge).map_err(anyhow::Error::msg)?)
        .with_node_name(&settings.node_name),
    );
    let node_tasks = crate::nodes::spawn_tasks(&state, settings.node_lease, &shutdown_rx);
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(reporter);
    health.set(false).await;

    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let grpc_addr = listener.local_addr()?;

    let badge = crate::badge_web::router(state.clone());
    let shutdown_signal = || {
        let mut rx = shutdown_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let (metrics, metrics_addr) = match settings.metrics_listen {
        Some(addr) => {
            let l = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for metrics"))?;
            let bound = l.local_addr()?;
            let mut app = crate::metrics::router(health.flag());
            if settings.badge.listen.is_none() {
                app = app.merge(badge.clone());
            }
            let task = tokio::spawn(crate::metrics::serve(l, app, shutdown_signal()));
            (Some(task), Some(bound))
        }
        None => (None, None),
    };
    let (web, web_addr) = match settings.badge.listen {
        Some(addr) => {
            let l = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for the badge page"))?;
            let bound = l.local_addr()?;
            let task = tokio::spawn(crate::metrics::serve(l, badge, shutdown_signal()));
            (Some(task), Some(bound))
        }
        None => (None, metrics_addr),
    };
    if !state.badge.keys.ring().is_empty() {
        tracing::info!(keys = ?state.badge.keys.ring().ids(), web = ?web_addr, "view links on");
    }

    // Load and warm up the models off the async runtime; health turns SERVING after,
    // then follows the model pools.
    let loader = {
        let state = state.clone();
        let health = health.clone();
        let cfg = settings.engine.clone();
        let shutdown = shutdown_rx.clone();
        tokio::spawn(async move {
            let engine: Arc<Engine> = tokio::task::spawn_blocking(move || Engine::load(&cfg))
                .await
                .context("model loading task")??;
            state.set_engine(engine.clone());
            if *shutdown.borrow() {
                return Ok(());
            }
            health.set(true).await;
            tracing::info!(models = ?state.models(), "models loaded and warmed up: serving");
            tokio::spawn(async move { health.follow(engine, shutdown).await });
            Ok(())
        })
    };

    // Both reflection versions: grpcurl speaks v1, older tools and grpcio's Python
    // client v1alpha.
    let reflection_of = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection = reflection_of().build_v1().context("reflection service")?;
    let reflection_v1alpha = reflection_of()
        .build_v1alpha()
        .context("reflection service (v1alpha)")?;
    let limits = &settings.limits;
    let candor = CandorServer::new(CandorService {
        state: state.clone(),
    })
    // Transport limit a little above the media limit, so an oversized frame gets a clear
    // INVALID_ARGUMENT from the session rather than a bare transport error.
    .max_decoding_message_size(limits.max_message_bytes + TRANSPORT_HEADROOM)
    .max_encoding_message_size(limits.max_message_bytes + TRANSPORT_HEADROOM);
    let candor = tonic::service::interceptor::InterceptedService::new(
        candor,
        settings.auth.clone().interceptor(),
    );

    let mut builder = Server::builder();
    if let Some(tls) = &settings.tls {
        let cert = std::fs::read(&tls.cert)
            .with_context(|| format!("reading TLS certificate {}", tls.cert.display()))?;
        let key = std::fs::read(&tls.key)
            .with_context(|| format!("reading TLS key {}", tls.key.display()))?;
        builder = builder
            .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
            .context("TLS configuration")?;
    }
    let router = builder
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_service(candor);
    let mut rx = shutdown_rx.clone();
    let grpc = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
                let _ = rx.wait_for(|s| *s).await;
                // Health flips before the listener closes, so balancers stop routing here.
                health.set(false).await;
            })
            .await
    });
    Ok(RunningServer {
        grpc_addr,
        metrics_addr,
        web_addr,
        shutdown: shutdown_tx,
        grpc,
        metrics,
        web,
        loader: Some(loader),
        sweeper,
        node_tasks,
        state,
    })
}

/// Opens the store (off the runtime) and starts its writer. Every tenant an API key
/// names must be usable as a store id, so no session fails to persist later.
async fn open_store(
    location: StoreLocation,
    settings: &ServerSettings,
    shutdown: watch::Receiver<bool>,
) -> Result<Persistence> {
    let tenants: Vec<String> = match &settings.auth {
        AuthMode::Keys(keys) => keys.iter().map(|k| k.tenant.clone()).collect(),
        AuthMode::InsecureNoAuth => vec![crate::auth::INSECURE_TENANT.to_owned()],
    };
    for t in &tenants {
        candor_store::validate::path_id("tenant", t).context("API key tenant")?;
    }
    let node = Some(settings.node_name.clone()).filter(|n| !n.is_empty());
    let shared_as = match (&location, &node) {
        (StoreLocation::Postgres(_), Some(n)) => Some(n.clone()),
        (StoreLocation::Postgres(_), None) => {
            anyhow::bail!("nodes sharing a store need a node name (--node-name)")
        }
        (StoreLocation::Sqlite(_), _) => None,
    };
    let (node_name, lease) = (settings.node_name.clone(), settings.node_lease);
    let evidence_store = settings.evidence_store.clone();
    let (store, writable) = tokio::task::spawn_blocking(move || {
        let store = candor_store::open_with_evidence(&location, evidence_store.as_deref())
            .with_context(|| format!("opening the {}", location.shown()))?;
        let StoreLocation::Sqlite(dir) = &location else {
            // A shared database: the open sessions of live nodes are theirs; this
            // node's own (from before a restart) and dead nodes' are closed.
            if crate::nodes::name_in_use(&*store, &node_name, lease)
                .context("checking that the node name is free")?
            {
                anyhow::bail!(
                    "node name {node_name:?} is in use by a live node of this store: give \
                     each node its own --node-name (CANDOR_NODE_NAME)"
                );
            }
            match crate::nodes::start(&*store, &node_name, lease) {
                Ok(0) => {}
                Ok(n) => tracing::warn!(sessions = n, "closed sessions of nodes that stopped"),
                Err(e) => {
                    crate::metrics::METRICS.record_store_error(&e);
                    tracing::error!(error = %e, "cannot close sessions of nodes that stopped");
                }
            }
            return anyhow::Ok((store, true));
        };
        let writable = writable_dir(dir);
        // No session of this process is open yet: any open one was left by a crash.
        // A store that refuses the write is not a reason to refuse to start: the
        // sessions still read as interrupted, and the next start tries again.
        match crate::persist::close_interrupted(&*store) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(sessions = n, "closed sessions an earlier run left open"),
            Err(e) => {
                crate::metrics::METRICS.record_store_error(&e);
                tracing::error!(error = %e, "cannot close sessions an earlier run left open");
            }
        }
        anyhow::Ok((store, writable))
    })
    .await
    .context("store open task")??;
    let index = Arc::new(IdentityIndex::new(store.clone()));
    let writer = SessionWriter::spawn(store.clone(), index.clone(), writable, node)
        .context("starting the store writer")?;
    let changes = match &shared_as {
        Some(_) => Some(
            crate::store_changes::StoreChanges::start(store.clone(), shutdown)
                .context("listening for store changes")?,
        ),
        None => None,
    };
    Ok(Persistence {
        store,
        writer,
        index,
        shared_as,
        changes,
    })
}

/// Whether files can be written in `dir`. SQLite opens an existing database on a
/// read-only file system and fails only at the first write; this finds out at start,
/// so health and metrics say so before any session is lost. (Permissions alone do
/// not tell: root ignores them.)
fn writable_dir(dir: &std::path::Path) -> bool {
    let probe = dir.join(".candor-write-probe");
    let ok = std::fs::write(&probe, b"probe").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// Runs until `signal` resolves, then shuts down gracefully. What `candor serve` calls.
pub async fn run(
    settings: ServerSettings,
    signal: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let mut server = start(settings).await?;
    tracing::info!(grpc = %server.grpc_addr, metrics = ?server.metrics_addr, web = ?server.web_addr, "listening");
    tokio::pin!(signal);
    tokio::select! {
        r = server.ready() => r?,
        _ = &mut signal => {
            tracing::info!("shutdown requested while loading models");
            return server.shutdown().await;
        }
    }
    signal.await;
    tracing::info!("shutting down: finishing open sessions");
    server.shutdown().await
}
