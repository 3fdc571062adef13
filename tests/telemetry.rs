//! Traces over OTLP: a real `candor serve` child process with `--otlp-endpoint` sends
//! its spans to a small OTLP/gRPC collector this test runs on loopback.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use candor_server::proto::MediaFormat;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use support::data;
use support::process::Serve;
use support::server::*;
use tonic::Code;

/// Attributes by key, as text.
type Attributes = HashMap<String, String>;

/// Every span the collector was sent, with its resource's attributes.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<(Span, Attributes)>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut kept = self.spans.lock().unwrap();
        for rs in request.into_inner().resource_spans {
            let resource = attributes(rs.resource.map(|r| r.attributes).unwrap_or_default());
            for ss in rs.scope_spans {
                kept.extend(ss.spans.into_iter().map(|s| (s, resource.clone())));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Attributes as text (numbers and booleans written out), for plain comparisons.
fn attributes(kvs: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>) -> Attributes {
    kvs.into_iter()
        .map(|kv| {
            let v = match kv.value.and_then(|v| v.value) {
                Some(Value::StringValue(s)) => s,
                Some(Value::IntValue(i)) => i.to_string(),
                Some(Value::DoubleValue(d)) => d.to_string(),
                Some(Value::BoolValue(b)) => b.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key, v)
        })
        .collect()
}

/// A session streamed to a server sending traces: after SIGTERM (the exporter flushes
/// on the way out) the collector holds one `session` span with the tenant and session
/// id, and one `segment` span per segment result under it, with its state, frame
/// counts and per-model timings; the resource names the service and the node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_segments_are_traced_over_otlp() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let serving = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let tmp = tempfile::tempdir().unwrap();
    let mut server = Serve::start_with(
        &tmp.path().join("data"),
        tmp.path().join("serve.log"),
        // Frames go as fast as the test can send them: none is dropped for it.
        &[
            "--otlp-endpoint",
            &endpoint,
            "--node-name",
            "node-traced",
            "--frames-in-flight",
            "64",
        ],
    )
    .await;
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), tmp.path());
    let mut msgs = vec![start_msg("traced-1", MediaFormat::Jpeg)];
    msgs.extend(frames_at_25fps(&jpegs));
    msgs.push(finish());
    let mut c = client(server.grpc).await;
    let out = analyze(&mut c, KEY_A, msgs, std::time::Duration::ZERO).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let sent = out.segments().len();
    assert!(sent >= 2, "{sent} segments");
    let status = server.terminate().await;
    assert!(status.success(), "{status}: {}", server.log_text());

    let spans = collector.spans.lock().unwrap().clone();
    serving.abort();
    let named = |name: &str| -> Vec<(Span, Attributes)> {
        (spans.iter())
            .filter(|(s, _)| s.name == name)
            .cloned()
            .collect()
    };
    let sessions = named("session");
    let (session, resource) = (sessions.iter())
        .find(|(s, _)| {
            attributes(s.attributes.clone())
                .get("session")
                .map(String::as_str)
                == Some("traced-1")
        })
        .unwrap_or_else(|| {
            panic!(
                "no session span among {:?}",
                spans.iter().map(|(s, _)| &s.name).collect::<Vec<_>>()
            )
        });
    let session_attrs = attributes(session.attributes.clone());
    assert_eq!(session_attrs["tenant"], "tenant-a");
    assert_eq!(resource["service.name"], "candor");
    assert_eq!(resource["service.instance.id"], "node-traced");

    let segments: Vec<Attributes> = named("segment")
        .into_iter()
        .filter(|(s, _)| s.parent_span_id == session.span_id && s.trace_id == session.trace_id)
        .map(|(s, _)| attributes(s.attributes))
        .collect();
    assert_eq!(
        segments.len(),
        sent,
        "one span per segment result: {segments:?}"
    );
    for a in &segments {
        assert!(
            ["clear", "suspicious", "alert", "inconclusive"].contains(&a["state"].as_str()),
            "{a:?}"
        );
        assert!(a["analysed"].parse::<u32>().unwrap() > 0, "{a:?}");
        assert!(a["analysis_ms"].parse::<f64>().unwrap() > 0.0, "{a:?}");
        // The detector runs on every analysed frame: its time is in every segment.
        assert!(a["stage_ms"].contains("yunet"), "{a:?}");
    }
}
