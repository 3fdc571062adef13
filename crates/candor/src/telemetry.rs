//! Traces over OTLP/gRPC, when an endpoint is configured: every `tracing` span at the
//! log level's threshold (a session, each of its segments, a batch job, a file)
//! becomes an OpenTelemetry span, batched and sent to the collector.

use std::time::Duration;

use anyhow::Context;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;

/// How long one export may take before it is given up (the spans are then lost,
/// never the service's time).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// The tracer provider; [`Traces::shutdown`] sends what is still batched.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Flushes the last spans and stops the exporter. Call it outside any async
    /// runtime (the exporter drives its own).
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("candor: traces: {e}");
        }
    }
}

/// A `tracing` layer that sends spans to the OTLP/gRPC collector at `endpoint`
/// (e.g. `http://otel-collector:4317`), naming this process `service.name = candor`
/// with `node` as its `service.instance.id`.
pub fn otlp_layer<S>(
    endpoint: &str,
    node: &str,
) -> anyhow::Result<(impl tracing_subscriber::Layer<S> + use<S>, Traces)>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let exporter = OwnRuntime::exporter(endpoint)?;
    let resource = Resource::builder()
        .with_service_name("candor")
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("service.instance.id", node.to_owned()),
        ])
        .build();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_batch_exporter(exporter)
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("candor"));
    Ok((layer, Traces { provider }))
}

/// The OTLP exporter with a runtime of its own: the batch processor exports from a
/// plain thread, and tonic's connections need a tokio reactor to make progress.
#[derive(Debug)]
struct OwnRuntime {
    inner: opentelemetry_otlp::SpanExporter,
    runtime: tokio::runtime::Runtime,
}

impl OwnRuntime {
    fn exporter(endpoint: &str) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("candor-otlp")
            .enable_all()
            .build()
            .context("starting the trace exporter's runtime")?;
        let inner = {
            let _inside = runtime.enter();
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_timeout(EXPORT_TIMEOUT)
                .build()
                .with_context(|| format!("OTLP endpoint {endpoint:?}"))?
        };
        Ok(Self { inner, runtime })
    }
}

impl SpanExporter for OwnRuntime {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let result = self.runtime.block_on(self.inner.export(batch));
        std::future::ready(result)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
