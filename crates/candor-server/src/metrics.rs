//! Prometheus metrics, served with /healthz on their own HTTP port (outside auth); the
//! badge page shares that port unless it has its own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use prometheus::proto::LabelPair;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use tonic::Code;

pub struct Metrics {
    pub registry: Registry,
    /// The `node` label every metric carries (`--node-name`), so that one dashboard
    /// over many pods tells them apart. Set by `start`; empty (no label) before.
    node: RwLock<String>,
    pub sessions_open: IntGauge,
    pub frames: IntCounterVec,
    pub segment_latency: HistogramVec,
    pub inference: HistogramVec,
    pub errors: IntCounterVec,
    pub segments: IntCounterVec,
    pub store_errors: IntCounterVec,
    pub store_writable: IntGauge,
    pub swept: IntCounterVec,
    pub identity_searches: IntCounterVec,
    pub models_serving: IntGauge,
    pub model_workers_alive: IntGaugeVec,
    pub model_panics: IntCounterVec,
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let sessions_open = IntGauge::new("candor_sessions_open", "Live analysis sessions open")
            .expect("valid metric");
        let frames = IntCounterVec::new(
            Opts::new(
                "candor_frames_total",
                "Frames by fate: received, decoded, analysed, dropped",
            ),
            &["kind"],
        )
        .expect("valid metric");
        // Segment results are due every ~2 s; buckets from 10 ms to 10 s.
        let segment_latency = HistogramVec::new(
            HistogramOpts::new(
                "candor_segment_latency_seconds",
                "Time from a segment's closing frame arriving to its result being sent",
            )
            .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &[],
        )
        .expect("valid metric");
        let inference = HistogramVec::new(
            HistogramOpts::new(
                "candor_inference_seconds",
                "Per-frame time per model or measurement",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["model"],
        )
        .expect("valid metric");
        let errors = IntCounterVec::new(
            Opts::new(
                "candor_errors_total",
                "Errors returned to clients, by gRPC code",
            ),
            &["code"],
        )
        .expect("valid metric");
        let segments = IntCounterVec::new(
            Opts::new("candor_segments_total", "Segment results by state"),
            &["state"],
        )
        .expect("valid metric");
        let store_errors = IntCounterVec::new(
            Opts::new(
                "candor_store_errors_total",
                "Failed writes or reads of the result store, by kind",
            ),
            &["kind"],
        )
        .expect("valid metric");
        let store_writable = IntGauge::new(
            "candor_store_writable",
            "0 while the result store refuses writes (results are not being stored), else 1",
        )
        .expect("valid metric");
        store_writable.set(1);
        let swept = IntCounterVec::new(
            Opts::new(
                "candor_retention_deleted_total",
                "Rows deleted by the retention sweep, by what they were",
            ),
            &["what"],
        )
        .expect("valid metric");
        let identity_searches = IntCounterVec::new(
            Opts::new(
                "candor_identity_searches_total",
                "Duplicate searches of session identities and enrolled photos, by outcome",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let models_serving = IntGauge::new(
            "candor_models_serving",
            "1 while the models are loaded and every model pool has all its workers, else 0",
        )
        .expect("valid metric");
        let model_workers_alive = IntGaugeVec::new(
            Opts::new(
                "candor_model_workers_alive",
                "Worker threads still running, by model",
            ),
            &["model"],
        )
        .expect("valid metric");
        let model_panics = IntCounterVec::new(
            Opts::new(
                "candor_model_panics_total",
                "Model runs that panicked, by model (only that frame was lost; the model was rebuilt)",
            ),
            &["model"],
        )
        .expect("valid metric");
        for c in [
            Box::new(sessions_open.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(frames.clone()),
            Box::new(segment_latency.clone()),
            Box::new(inference.clone()),
            Box::new(errors.clone()),
            Box::new(segments.clone()),
            Box::new(store_errors.clone()),
            Box::new(store_writable.clone()),
            Box::new(swept.clone()),
            Box::new(identity_searches.clone()),
            Box::new(models_serving.clone()),
            Box::new(model_workers_alive.clone()),
            Box::new(model_panics.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Self {
            registry,
            node: RwLock::new(String::new()),
            sessions_open,
            frames,
            segment_latency,
            inference,
            errors,
            segments,
            store_errors,
            store_writable,
            swept,
            identity_searches,
            models_serving,
            model_workers_alive,
            model_panics,
        }
    }

    pub fn record_store_error(&self, e: &candor_store::StoreError) {
        use candor_store::StoreError as E;
        let kind = match e {
            E::NotFound(_) => "not_found",
            E::Conflict(_) => "conflict",
            E::Invalid(_) => "invalid",
            E::Backend(_) => "backend",
        };
        self.store_errors.with_label_values(&[kind]).inc();
    }

    pub fn record_error(&self, code: Code) {
        self.errors.with_label_values(&[&format!("{code:?}")]).inc();
    }

    pub fn frames(&self, kind: &str, n: u64) {
        if n > 0 {
            self.frames.with_label_values(&[kind]).inc_by(n);
        }
    }

    pub fn inference(&self, model: &str, d: Duration) {
        self.inference
            .with_label_values(&[model])
            .observe(d.as_secs_f64());
    }

    /// Names this node in every metric from now on (the `node` label).
    pub fn set_node(&self, name: &str) {
        *self.node.write().unwrap_or_else(|e| e.into_inner()) = name.to_owned();
    }

    pub fn render(&self) -> String {
        let mut families = self.registry.gather();
        let node = self.node.read().unwrap_or_else(|e| e.into_inner()).clone();
        // Added at gathering, as the registry adds its own constant labels: the
        // registry is built before the node's name is known.
        if !node.is_empty() {
            for family in &mut families {
                for metric in family.mut_metric() {
                    let mut labels = metric.take_label();
                    let mut pair = LabelPair::default();
                    pair.set_name("node".to_owned());
                    pair.set_value(node.clone());
                    labels.push(pair);
                    metric.set_label(labels);
                }
            }
        }
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&families, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// The /metrics and /healthz routes.
pub fn router(serving: Arc<AtomicBool>) -> Router {
    Router::new()
        .route("/metrics", get(|| async { METRICS.render() }))
        .route("/healthz", get(healthz))
        .with_state(serving)
}

/// Serves `app` on `listener` until `shutdown` resolves; handlers may read the
/// caller's address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A store that refuses writes leaves the node serving (it still analyses and answers
/// live sessions), but says so: results are not being kept.
async fn healthz(State(serving): State<Arc<AtomicBool>>) -> (StatusCode, &'static str) {
    if serving.load(Ordering::Acquire) {
        if METRICS.store_writable.get() == 0 {
            (StatusCode::OK, "serving; results are not being stored\n")
        } else {
            (StatusCode::OK, "serving\n")
        }
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not serving\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample, histogram buckets included, carries the node's name once set.
    #[test]
    fn every_metric_is_labelled_with_the_node() {
        let m = Metrics::new();
        m.inference("yunet_s", Duration::from_millis(3));
        m.frames("decoded", 2);
        assert!(!m.render().contains("node="));
        m.set_node("candor-7f9c-x2");
        let text = m.render();
        let samples: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(samples.len() > 10, "{text}");
        for line in samples {
            assert!(line.contains("node=\"candor-7f9c-x2\""), "{line}");
        }
        assert!(
            text.contains("candor_sessions_open{node=\"candor-7f9c-x2\"} 0"),
            "{text}"
        );
        assert!(
            text.contains(
                "candor_inference_seconds_bucket{model=\"yunet_s\",node=\"candor-7f9c-x2\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
    }
}
