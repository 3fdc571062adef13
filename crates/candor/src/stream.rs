//! `candor stream`: the reference client. It does what a platform plugin does: sends a
//! recorded file to a Candor server as an encoded H.264 / WebM chunk stream or as
//! JPEG frames, at real-time pace by default, and prints each segment as it arrives.
//! Exit code: 0 clear, 2 inconclusive, 3 suspicious, 4 alert (worst state), 1 error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use candor_media::{DecodeEvent, DecodeOptions};
use candor_server::proto::{
    self, AnalyzeRequest, MediaFormat, analyze_request::Message, analyze_response::Event,
    candor_client::CandorClient,
};
use clap::{Args, ValueEnum};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Request;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::annexb;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SendMode {
    /// The encoded stream in chunks: H.264 Annex-B (from MP4/MKV/.h264) or WebM bytes.
    Chunks,
    /// Decoded frames re-encoded as JPEG, at --frame-fps.
    Jpeg,
}

#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Recorded video to send (MP4/MKV/MOV with H.264, raw .h264, or WebM).
    pub file: PathBuf,

    /// Server URL (https:// for TLS).
    #[arg(long, env = "CANDOR_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,

    /// API key, sent as `authorization: Bearer <key>`.
    #[arg(long, env = "CANDOR_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// CA certificate (PEM) to trust for https servers.
    #[arg(long, env = "CANDOR_CA_CERT")]
    pub ca_cert: Option<PathBuf>,

    /// How to send the video.
    #[arg(long, env = "CANDOR_SEND_MODE", value_enum, default_value = "chunks")]
    pub mode: SendMode,

    /// Frames per second sent in JPEG mode.
    #[arg(long, env = "CANDOR_FRAME_FPS", default_value_t = 5.0)]
    pub frame_fps: f32,

    /// Send as fast as possible instead of at real-time pace.
    #[arg(long, env = "CANDOR_FAST")]
    pub fast: bool,

    /// Session id (default: derived from the file name and the time).
    #[arg(long, env = "CANDOR_SESSION_ID")]
    pub session_id: Option<String>,

    #[arg(long, env = "CANDOR_PARTICIPANT_ID", default_value = "participant-1")]
    pub participant_id: String,

    #[arg(long, env = "CANDOR_CANDIDATE_REF")]
    pub candidate_ref: Option<String>,

    #[arg(long, env = "CANDOR_INTERVIEW_REF")]
    pub interview_ref: Option<String>,

    /// Print every server message as JSON instead of one line per segment.
    #[arg(long)]
    pub json: bool,
}

/// One item to send, with its presentation time for pacing.
pub(crate) struct Item {
    pub(crate) pts_us: i64,
    pub(crate) message: Message,
}

pub fn run(args: StreamArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(stream(args))
}

/// A channel to `server` (https:// for TLS, trusting `ca_cert` when given).
pub(crate) async fn connect(server: &str, ca_cert: Option<&Path>) -> Result<Channel> {
    let mut endpoint = Channel::from_shared(server.to_owned()).context("invalid --server URL")?;
    if server.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        if let Some(ca) = ca_cert {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        endpoint = endpoint.tls_config(tls)?;
    }
    endpoint
        .connect()
        .await
        .with_context(|| format!("cannot connect to {server}"))
}

/// Adds `authorization: Bearer <key>` to `request` when a key is given.
pub(crate) fn authorize<T>(request: &mut Request<T>, api_key: Option<&str>) -> Result<()> {
    if let Some(key) = api_key {
        let value: MetadataValue<_> = format!("Bearer {key}")
            .parse()
            .context("API key is not valid metadata")?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(())
}

async fn stream(args: StreamArgs) -> Result<ExitCode> {
    let (format, rx_items) = start_reader(&args)?;
    let channel = connect(&args.server, args.ca_cert.as_deref()).await?;
    let mut client = CandorClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    let session_id = args
        .session_id
        .clone()
        .unwrap_or_else(|| default_session_id(&args.file));
    let (tx, rx) = mpsc::channel::<AnalyzeRequest>(16);
    let start = proto::SessionStart {
        session_id: session_id.clone(),
        participant_id: args.participant_id.clone(),
        interview_ref: args.interview_ref.clone(),
        candidate_ref: args.candidate_ref.clone(),
        format: format as i32,
        fps_hint: None,
        capture: Some(proto::CaptureInfo {
            device_label: format!("file:{}", args.file.display()),
            platform: "candor-stream".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
        }),
    };
    tx.send(AnalyzeRequest {
        message: Some(Message::Start(start)),
    })
    .await?;
    let fast = args.fast;
    let sender = tokio::spawn(pace(rx_items, tx, fast));

    let mut request = Request::new(ReceiverStream::new(rx));
    authorize(&mut request, args.api_key.as_deref())?;
    let mut responses = client
        .analyze(request)
        .await
        .context("Analyze call refused")?
        .into_inner();
    let mut worst = proto::RiskState::Unspecified;
    loop {
        let msg = match responses.message().await {
            Ok(Some(msg)) => msg,
            Ok(None) => break,
            Err(s) if candor_server::lost_connection(&s) => bail!(
                "connection to the server lost (UNAVAILABLE: {}): the segments received \
                 so far are stored; start a new session to go on",
                s.message()
            ),
            Err(s) => return Err(s).context("stream from server"),
        };
        if args.json {
            println!("{}", describe_json(&msg));
        }
        match msg.event {
            Some(Event::Accepted(a)) if !args.json => {
                let models: Vec<String> = a
                    .models
                    .iter()
                    .map(|m| format!("{} {}", m.name, m.version))
                    .collect();
                println!(
                    "session {} accepted ({}; models: {})",
                    a.session_id,
                    a.execution_provider,
                    models.join(", ")
                );
            }
            Some(Event::Segment(s)) => {
                let state = s.state();
                worst = worst_of(worst, state);
                if !args.json {
                    let live = s
                        .signals
                        .iter()
                        .find(|x| x.name == "liveness")
                        .map_or("-".into(), |l| format!("{:.2}", l.mean));
                    let attack = s.attack_score.map_or("-".into(), |c| format!("{c:.2}"));
                    let f = s.frames.unwrap_or_default();
                    // Damaged media is rare: said only when there was some.
                    let damaged = if f.undecodable > 0 {
                        format!(" undecodable {}", f.undecodable)
                    } else {
                        String::new()
                    };
                    println!(
                        "seg {:>3} {:>6.2}-{:<6.2}s {:<12} live {live} attack {attack} frames {}/{}/{} dropped {}{damaged}  {}",
                        s.index,
                        s.start_us as f64 / 1e6,
                        s.end_us as f64 / 1e6,
                        state
                            .as_str_name()
                            .trim_start_matches("RISK_STATE_")
                            .to_lowercase(),
                        f.decoded,
                        f.analysed,
                        f.usable,
                        f.dropped,
                        s.reasons.first().map_or("", |r| r.message.as_str())
                    );
                }
            }
            Some(Event::Summary(s)) if !args.json => {
                println!(
                    "summary: worst {} over {} segments ({} frames decoded, {} analysed, {} dropped); ended by {}",
                    s.worst_state()
                        .as_str_name()
                        .trim_start_matches("RISK_STATE_")
                        .to_lowercase(),
                    s.segments,
                    s.frames.as_ref().map_or(0, |f| f.decoded),
                    s.frames.as_ref().map_or(0, |f| f.analysed),
                    s.frames.as_ref().map_or(0, |f| f.dropped),
                    s.ended_by
                );
                if let Some(sim) = s.candidate_similarity {
                    println!(
                        "candidate: similarity to the enrolment {sim:.2} (median over segments)"
                    );
                }
            }
            Some(Event::Challenge(c)) if !args.json => {
                let m: Vec<String> = c
                    .measurements
                    .iter()
                    .map(|m| format!("{} {:.2}", m.name, m.value))
                    .collect();
                println!(
                    "challenge {} {}: {} ({})",
                    c.kind()
                        .as_str_name()
                        .trim_start_matches("CHALLENGE_KIND_")
                        .to_lowercase(),
                    c.outcome()
                        .as_str_name()
                        .trim_start_matches("CHALLENGE_OUTCOME_")
                        .to_lowercase(),
                    c.message,
                    m.join(", ")
                );
            }
            _ => {}
        }
    }
    sender.await.context("sender task")??;
    Ok(ExitCode::from(match worst {
        proto::RiskState::Alert => 4,
        proto::RiskState::Suspicious => 3,
        proto::RiskState::Inconclusive => 2,
        _ => 0,
    }))
}

fn worst_of(a: proto::RiskState, b: proto::RiskState) -> proto::RiskState {
    // Enum values are declared from least to most severe.
    if (b as i32) > (a as i32) { b } else { a }
}

fn describe_json(msg: &proto::AnalyzeResponse) -> String {
    // The generated types are not serde types; Debug is faithful and greppable.
    serde_json::json!({ "event": format!("{msg:?}") }).to_string()
}

fn default_session_id(file: &Path) -> String {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("file");
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    // A random part, not the clock: clients started together must not collide.
    let unique = candor_store::new_id();
    format!("{clean}-{}", &unique[..13])
}

/// Sends items, sleeping until each one's presentation time unless `fast`.
async fn pace(
    mut items: mpsc::Receiver<Result<Item>>,
    tx: mpsc::Sender<AnalyzeRequest>,
    fast: bool,
) -> Result<()> {
    let started = tokio::time::Instant::now();
    let mut origin = None;
    while let Some(item) = items.recv().await {
        let item = item?;
        let origin = *origin.get_or_insert(item.pts_us);
        if !fast {
            let due = started + Duration::from_micros((item.pts_us - origin).max(0) as u64);
            tokio::time::sleep_until(due).await;
        }
        if tx
            .send(AnalyzeRequest {
                message: Some(item.message),
            })
            .await
            .is_err()
        {
            return Ok(()); // the server ended the session; its reason arrives on the response stream
        }
    }
    let _ = tx
        .send(AnalyzeRequest {
            message: Some(Message::Finish(proto::Finish {})),
        })
        .await;
    Ok(())
}

/// Reads the file on a blocking thread and yields items to send.
fn start_reader(args: &StreamArgs) -> Result<(MediaFormat, mpsc::Receiver<Result<Item>>)> {
    let (tx, rx) = mpsc::channel(8);
    let path = args.file.clone();
    let format = match args.mode {
        SendMode::Jpeg => {
            let fps = args.frame_fps;
            std::thread::spawn(move || {
                if let Err(e) = read_jpeg_frames(&path, fps, &tx) {
                    let _ = tx.blocking_send(Err(e));
                }
            });
            MediaFormat::Jpeg
        }
        SendMode::Chunks => {
            let is_webm = matches!(
                path.extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("webm")
            );
            if is_webm {
                std::thread::spawn(move || {
                    if let Err(e) = read_webm_chunks(&path, &tx) {
                        let _ = tx.blocking_send(Err(e));
                    }
                });
                MediaFormat::Webm
            } else {
                std::thread::spawn(move || {
                    if let Err(e) = read_h264_chunks(&path, &tx) {
                        let _ = tx.blocking_send(Err(e));
                    }
                });
                MediaFormat::H264Annexb
            }
        }
    };
    Ok((format, rx))
}

fn read_jpeg_frames(path: &Path, fps: f32, tx: &mpsc::Sender<Result<Item>>) -> Result<()> {
    let opts = DecodeOptions {
        sample_fps: fps,
        max_side: 1280,
        // Only the picture sent on is used.
        crop_max_side: 0,
        ..DecodeOptions::default()
    };
    for event in candor_media::open_path(path, &opts)? {
        let DecodeEvent::Sampled(frame) = event? else {
            continue;
        };
        let img = &frame.image;
        let rgb: Vec<u8> = img
            .data
            .chunks_exact(3)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode(&rgb, img.width, img.height, image::ExtendedColorType::Rgb8)
            .context("encoding JPEG")?;
        let message = Message::Frame(proto::VideoFrame {
            pts_us: frame.info.pts_us,
            data: jpeg,
            width: img.width,
            height: img.height,
            stride: 0,
            rotation: 0,
        });
        if tx
            .blocking_send(Ok(Item {
                pts_us: frame.info.pts_us,
                message,
            }))
            .is_err()
        {
            break;
        }
    }
    Ok(())
}

/// Demuxes H.264 packets and converts them to Annex-B chunks, one per packet.
pub(crate) fn read_h264_chunks(path: &Path, tx: &mpsc::Sender<Result<Item>>) -> Result<()> {
    ffmpeg_next::init().context("FFmpeg init")?;
    ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Error);
    let mut input =
        ffmpeg_next::format::input(path).with_context(|| format!("opening {}", path.display()))?;
    let stream = input
        .streams()
        .best(ffmpeg_next::media::Type::Video)
        .context("no video stream in the file")?;
    let index = stream.index();
    let params = stream.parameters();
    if params.id() != ffmpeg_next::codec::Id::H264 {
        bail!(
            "chunk mode sends H.264 or WebM; this file's video is {:?} (use --mode jpeg)",
            params.id()
        );
    }
    let time_base = f64::from(stream.time_base());
    // SAFETY: `params` wraps the stream's live AVCodecParameters; extradata is a buffer of
    // extradata_size bytes owned by it, read here while `input` is alive.
    let extradata = unsafe {
        let p = params.as_ptr();
        if (*p).extradata.is_null() || (*p).extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts((*p).extradata, (*p).extradata_size as usize).to_vec()
        }
    };
    let avcc = annexb::parse_avcc(&extradata).ok();
    let mut frame_no = 0i64;
    for (s, packet) in input.packets() {
        if s.index() != index {
            continue;
        }
        let Some(data) = packet.data() else { continue };
        let pts_us = packet
            .pts()
            .or(packet.dts())
            .map(|p| (p as f64 * time_base * 1e6) as i64)
            .unwrap_or(frame_no * 40_000);
        frame_no += 1;
        let bytes = match &avcc {
            Some(cfg) => {
                let mut out = Vec::with_capacity(data.len() + 64);
                annexb::to_annexb(cfg, data, packet.is_key(), &mut out)?;
                out
            }
            None => data.to_vec(),
        };
        let message = Message::Chunk(proto::MediaChunk { data: bytes });
        if tx.blocking_send(Ok(Item { pts_us, message })).is_err() {
            break;
        }
    }
    Ok(())
}

/// Sends a WebM file's bytes in 64 KiB chunks, spread over its duration.
fn read_webm_chunks(path: &Path, tx: &mpsc::Sender<Result<Item>>) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ffmpeg_next::init().context("FFmpeg init")?;
    let duration_us = ffmpeg_next::format::input(path)
        .map(|i| i.duration().max(0))
        .unwrap_or(0);
    let chunks = bytes.chunks(64 * 1024).count().max(1) as i64;
    for (i, chunk) in bytes.chunks(64 * 1024).enumerate() {
        let pts_us = duration_us * i as i64 / chunks;
        let message = Message::Chunk(proto::MediaChunk {
            data: chunk.to_vec(),
        });
        if tx.blocking_send(Ok(Item { pts_us, message })).is_err() {
            break;
        }
    }
    Ok(())
}
