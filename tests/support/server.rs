//! Starting the real server in-process (the same `start` that `candor serve` runs) on
//! loopback with the real models, and a small client for the tests.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use candor_pipeline::EngineConfig;
use candor_server::proto::{
    self, AnalyzeRequest, AnalyzeResponse, MediaFormat, analyze_request::Message,
    analyze_response::Event, candor_client::CandorClient,
};
use candor_server::{ApiKey, AuthMode, Limits, RunningServer, ServerSettings, hash_key};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Request, Status};

use super::repo_root;

pub const KEY_A: &str = "key-tenant-a";
pub const KEY_B: &str = "key-tenant-b";

pub fn engine_config() -> EngineConfig {
    let root = repo_root();
    EngineConfig {
        manifest: root.join("models/manifest.toml"),
        weights_dir: root.join("models/weights"),
        detector: "yunet_s".into(),
        detector_threshold: 0.6,
        ort_library: Some(root.join(".ort/lib/libonnxruntime.so")),
        runtime: Default::default(),
        workers: 1,
        queue: 16,
        forgery_models: candor_pipeline::ForgerySelection::ForSignals(
            candor_core::AnalysisConfig::default().fused_signals(),
        ),
        identity_model: Some("sface".into()),
        mesh_model: Some("face_mesh".into()),
    }
}

pub fn settings(limits: Limits) -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        auth: AuthMode::Keys(vec![
            ApiKey::parse(&format!("tenant-a:{}", hash_key(KEY_A))).unwrap(),
            ApiKey::parse(&format!("tenant-b:{}", hash_key(KEY_B))).unwrap(),
        ]),
        tls: None,
        limits,
        engine: engine_config(),
        analysis: Default::default(),
        decode: Default::default(),
        data_dir: Some(data_dir()),
        store_url: None,
        evidence_store: None,
        retention_sweep_every: Duration::from_secs(3600),
        batch_root: None,
        badge: Default::default(),
        node_name: "test-node".into(),
        node_lease: candor_server::nodes::DEFAULT_LEASE,
    }
}

/// A fresh data directory for a server's store, under the target folder's scratch
/// space (kept after the test, for inspection).
pub fn data_dir() -> std::path::PathBuf {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("scratch data directory")
        .keep()
}

/// Test limits: enough frames in flight that nothing is dropped unless a test wants it.
pub fn limits() -> Limits {
    Limits {
        frames_in_flight: 64,
        ..Limits::default()
    }
}

/// Starts a server and waits until it is SERVING.
pub async fn start(settings: ServerSettings) -> RunningServer {
    let mut server = candor_server::start(settings).await.expect("server starts");
    server.ready().await.expect("models load");
    server
}

/// A plaintext connection to a test server.
pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

pub async fn client(addr: SocketAddr) -> CandorClient<Channel> {
    CandorClient::new(channel(addr).await)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20)
}

pub fn authed<T>(msg: T, key: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    r
}

/// GetSession of `id`, asked as the tenant of `key`.
pub async fn get_session(
    c: &mut CandorClient<Channel>,
    id: &str,
    key: &str,
) -> Result<proto::GetSessionResponse, Status> {
    c.get_session(authed(
        proto::GetSessionRequest {
            session_id: id.into(),
        },
        key,
    ))
    .await
    .map(tonic::Response::into_inner)
}

pub fn start_msg(id: &str, format: MediaFormat) -> AnalyzeRequest {
    AnalyzeRequest {
        message: Some(Message::Start(proto::SessionStart {
            session_id: id.into(),
            participant_id: "p1".into(),
            format: format as i32,
            candidate_ref: Some("cand-1".into()),
            ..Default::default()
        })),
    }
}

pub fn chunk(data: &[u8]) -> AnalyzeRequest {
    AnalyzeRequest {
        message: Some(Message::Chunk(proto::MediaChunk {
            data: data.to_vec(),
        })),
    }
}

pub fn frame(pts_us: i64, data: Vec<u8>, width: u32, height: u32) -> AnalyzeRequest {
    AnalyzeRequest {
        message: Some(Message::Frame(proto::VideoFrame {
            pts_us,
            data,
            width,
            height,
            stride: 0,
            rotation: 0,
        })),
    }
}

/// Picture frame messages (JPEG, PNG) 40 ms apart, as a 25 fps camera sends them,
/// from time 0.
pub fn frames_at_25fps(pictures: &[Vec<u8>]) -> impl Iterator<Item = AnalyzeRequest> + '_ {
    (pictures.iter().enumerate()).map(|(i, p)| frame(i as i64 * 40_000, p.clone(), 0, 0))
}

pub fn finish() -> AnalyzeRequest {
    AnalyzeRequest {
        message: Some(Message::Finish(proto::Finish {})),
    }
}

/// Everything a session sent back, and how the call ended.
#[derive(Debug)]
pub struct Outcome {
    pub events: Vec<AnalyzeResponse>,
    pub status: Result<(), Status>,
}

impl Outcome {
    pub fn segments(&self) -> Vec<&proto::SegmentResult> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                Some(Event::Segment(s)) => Some(s),
                _ => None,
            })
            .collect()
    }

    pub fn summary(&self) -> Option<&proto::SessionSummary> {
        self.events.iter().find_map(|e| match &e.event {
            Some(Event::Summary(s)) => Some(s),
            _ => None,
        })
    }

    /// The first challenge result the session sent.
    pub fn challenge(&self) -> Option<proto::ChallengeResult> {
        self.events.iter().find_map(|e| match &e.event {
            Some(Event::Challenge(c)) => Some(c.clone()),
            _ => None,
        })
    }

    pub fn code(&self) -> tonic::Code {
        self.status
            .as_ref()
            .err()
            .map_or(tonic::Code::Ok, |s| s.code())
    }
}

/// The answer to an Analyze call, before its stream is read.
pub type AnalyzeCall = Result<tonic::Response<tonic::Streaming<AnalyzeResponse>>, Status>;

/// Opens an Analyze call for session `id` of tenant A; the caller sends the media and
/// the finish through the returned channel (the start message is already in it).
pub async fn open_session(
    c: &CandorClient<Channel>,
    id: &str,
    format: MediaFormat,
) -> (mpsc::Sender<AnalyzeRequest>, AnalyzeCall) {
    let (tx, rx) = mpsc::channel(512);
    tx.send(start_msg(id, format))
        .await
        .expect("request channel open");
    let call = c
        .clone()
        .analyze(authed(ReceiverStream::new(rx), KEY_A))
        .await;
    (tx, call)
}

/// Asks for a challenge on a running session from a second connection, as the
/// recruiter's side does; panics unless it is accepted.
pub async fn ask_challenge(
    addr: SocketAddr,
    session: &str,
    kind: proto::ChallengeKind,
    window_ms: Option<u32>,
) -> proto::ChallengeResponse {
    client(addr)
        .await
        .challenge(authed(
            proto::ChallengeRequest {
                session_id: session.into(),
                kind: kind as i32,
                window_ms,
            },
            KEY_A,
        ))
        .await
        .expect("challenge accepted")
        .into_inner()
}

/// A challenge result's measurement by name; panics when it is missing.
pub fn measurement(result: &proto::ChallengeResult, name: &str) -> f32 {
    result
        .measurements
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.value)
        .unwrap_or_else(|| panic!("{name} missing: {result:?}"))
}

/// Runs one Analyze call with `messages`, sent `gap` apart, and collects the answer.
pub async fn analyze(
    client: &mut CandorClient<Channel>,
    key: &str,
    messages: Vec<AnalyzeRequest>,
    gap: Duration,
) -> Outcome {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        for m in messages {
            if tx.send(m).await.is_err() {
                return;
            }
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
        }
    });
    collect(client.analyze(authed(ReceiverStream::new(rx), key)).await).await
}

pub async fn collect(
    response: Result<tonic::Response<tonic::Streaming<AnalyzeResponse>>, Status>,
) -> Outcome {
    let mut stream = match response {
        Ok(r) => r.into_inner(),
        Err(status) => {
            return Outcome {
                events: vec![],
                status: Err(status),
            };
        }
    };
    let mut events = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(ev)) => events.push(ev),
            Ok(None) => {
                return Outcome {
                    events,
                    status: Ok(()),
                };
            }
            Err(status) => {
                return Outcome {
                    events,
                    status: Err(status),
                };
            }
        }
    }
}

/// Splits `bytes` into chunks of `size` bytes.
pub fn chunks(bytes: &[u8], size: usize) -> Vec<AnalyzeRequest> {
    bytes.chunks(size).map(chunk).collect()
}

/// An Annex-B H.264 copy of a clip, made with the ffmpeg CLI.
pub fn annexb(src: &Path, dir: &Path, name: &str) -> Vec<u8> {
    let out = dir.join(name);
    super::ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-an",
        "-c:v",
        "copy",
        "-bsf:v",
        "h264_mp4toannexb",
        "-f",
        "h264",
        out.to_str().unwrap(),
    ]);
    std::fs::read(out).unwrap()
}

/// A WebM (VP8) copy of a clip, as a platform relaying a browser's camera sends it.
pub fn webm(src: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("c.webm");
    super::ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-an",
        "-c:v",
        "libvpx",
        "-b:v",
        "2M",
        out.to_str().unwrap(),
    ]);
    std::fs::read(out).unwrap()
}

/// Every frame of a clip as JPEG files (25 fps clips give pts i * 40 ms).
pub fn jpeg_frames(src: &Path, dir: &Path) -> Vec<Vec<u8>> {
    let pattern = dir.join("f_%04d.jpg");
    super::ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-q:v",
        "3",
        pattern.to_str().unwrap(),
    ]);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Every frame of a clip as raw I420 at its size.
pub fn i420_frames(src: &Path, dir: &Path, w: u32, h: u32) -> Vec<Vec<u8>> {
    let out = dir.join("raw.yuv");
    super::ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        out.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(out).unwrap();
    let size = (w * h + 2 * w.div_ceil(2) * h.div_ceil(2)) as usize;
    bytes.chunks_exact(size).map(<[u8]>::to_vec).collect()
}

pub fn liveness(s: &proto::SegmentResult) -> f32 {
    s.signals
        .iter()
        .find(|x| x.name == "liveness")
        .map(|x| x.mean)
        .unwrap_or(f32::NAN)
}
