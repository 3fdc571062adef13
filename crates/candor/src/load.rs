//! `candor load` (hidden): the load generator of the live capacity benchmark
//! (`scripts/bench`). One light process opens N concurrent `Analyze` sessions on a
//! server and feeds each the same H.264 recording in real time, as N platform plugins
//! would, then prints one JSON object: analysed frames per second per session, dropped
//! sampled frames, segment latency from a segment's last frame sent to its result, how
//! far the sender fell behind its schedule, and the server's CPU time and memory when
//! its process id is given (read from /proc, so on the same machine only).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use candor_server::proto::{
    self, AnalyzeRequest, MediaFormat, analyze_request::Message, analyze_response::Event,
    candor_client::CandorClient,
};
use clap::Args;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Request;

use crate::load_figures::{
    RunOutcome, SentFrame, due_after, holds_real_time, percentile, segment_latency, slope_per_hour,
};
use crate::proc_stats::{self, MemoryField};
use crate::stream;

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// H.264 recording every session sends (MP4/MKV/MOV or raw .h264), as Annex-B
    /// chunks like `candor stream`.
    pub file: PathBuf,

    /// Server URL.
    #[arg(long, env = "CANDOR_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,

    /// API key, sent as `authorization: Bearer <key>`.
    #[arg(long, env = "CANDOR_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Concurrent sessions.
    #[arg(long, env = "CANDOR_LOAD_SESSIONS", default_value_t = 1)]
    pub sessions: usize,

    /// Times each session sends the recording, back to back on one stream (a soak).
    #[arg(long, env = "CANDOR_LOAD_REPEAT", default_value_t = 1)]
    pub repeat: u32,

    /// Session starts are spread evenly over this many milliseconds: calls do not all
    /// start on the same frame, and starting them together would line up every
    /// session's analysed frames.
    #[arg(long, env = "CANDOR_LOAD_SPREAD_MS", default_value_t = 500)]
    pub spread_ms: u64,

    /// Process id of the server, to report its CPU time and memory (from /proc).
    #[arg(long, env = "CANDOR_LOAD_SERVER_PID")]
    pub server_pid: Option<u32>,

    /// Read the server's resident memory every this many seconds (0 = only its peak at
    /// the end), for the growth rate over a soak.
    #[arg(long, env = "CANDOR_LOAD_RSS_EVERY_S", default_value_t = 0)]
    pub rss_every_s: u64,

    /// Memory samples of the first this many seconds are reported but left out of the
    /// growth rate: buffers and model arenas fill up while the sessions start.
    #[arg(long, env = "CANDOR_LOAD_RSS_WARMUP_S", default_value_t = 60)]
    pub rss_warmup_s: u64,
}

/// One encoded frame of the recording, shared by every session.
struct Chunk {
    pts_us: i64,
    data: Vec<u8>,
}

/// The recording as Annex-B chunks with presentation times from 0, and its length.
struct Recording {
    chunks: Vec<Chunk>,
    clip_us: i64,
}

/// What one session saw.
#[derive(Default)]
struct SessionRun {
    sent: Vec<SentFrame>,
    max_send_lag: Duration,
    /// Each segment's end on the media timeline and when its result arrived.
    segments: Vec<(i64, Instant)>,
    sample_fps: Option<f64>,
    frames: Option<proto::FrameAccounting>,
    ended_by: String,
    error: Option<String>,
}

pub fn run(args: LoadArgs) -> Result<ExitCode> {
    if args.sessions == 0 || args.repeat == 0 {
        bail!("--sessions and --repeat must be at least 1");
    }
    let recording = Arc::new(read_recording(&args)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(drive(&args, recording))?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

fn read_recording(args: &LoadArgs) -> Result<Recording> {
    let (tx, mut rx) = mpsc::channel(64);
    let path = args.file.clone();
    let reader = std::thread::spawn(move || stream::read_h264_chunks(&path, &tx));
    let mut chunks = Vec::new();
    while let Some(item) = rx.blocking_recv() {
        let item = item?;
        if let Message::Chunk(c) = item.message {
            chunks.push(Chunk {
                pts_us: item.pts_us,
                data: c.data,
            });
        }
    }
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))??;
    let origin = chunks.iter().map(|c| c.pts_us).min().context("no frames")?;
    chunks.iter_mut().for_each(|c| c.pts_us -= origin);
    // The recording lasts one frame interval beyond its last frame's time.
    let mut times: Vec<i64> = chunks.iter().map(|c| c.pts_us).collect();
    times.sort_unstable();
    let mut steps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    steps.sort_unstable();
    let frame_us = steps.get(steps.len() / 2).copied().unwrap_or(40_000);
    Ok(Recording {
        clip_us: times.last().copied().unwrap_or(0) + frame_us,
        chunks,
    })
}

async fn drive(args: &LoadArgs, recording: Arc<Recording>) -> Result<serde_json::Value> {
    // Fail early on a wrong address; each session then has its own connection, as
    // each platform plugin would.
    drop(stream::connect(&args.server, None).await?);
    let pid = args.server_pid.map(|p| p.to_string());
    let cpu_before = pid.as_deref().map(proc_stats::cpu_time).transpose()?;
    let started = Instant::now();
    let rss_samples = Arc::new(Mutex::new(Vec::new()));
    let rss_sampler = match (&pid, args.rss_every_s) {
        (Some(pid), every) if every > 0 => Some(tokio::spawn(sample_rss(
            pid.clone(),
            Duration::from_secs(every),
            started,
            rss_samples.clone(),
        ))),
        _ => None,
    };
    let mut sessions = Vec::with_capacity(args.sessions);
    for i in 0..args.sessions {
        let delay = Duration::from_millis(args.spread_ms * i as u64 / args.sessions as u64);
        sessions.push(tokio::spawn(run_session(
            args.server.clone(),
            args.api_key.clone(),
            recording.clone(),
            args.repeat,
            delay,
            format!("load-{}-{i}", &candor_store::new_id()[..8]),
        )));
    }
    let mut runs = Vec::with_capacity(sessions.len());
    for s in sessions {
        runs.push(s.await.context("session task")?);
    }
    let wall = started.elapsed();
    let cpu = match (&pid, cpu_before) {
        (Some(pid), Some(before)) => Some(proc_stats::cpu_time(pid)?.saturating_sub(before)),
        _ => None,
    };
    let peak_mib = pid
        .as_deref()
        .map(|p| proc_stats::memory_mib(p, MemoryField::Peak))
        .transpose()?;
    if let Some(task) = rss_sampler {
        task.abort();
    }
    let rss_samples = rss_samples.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(report(
        args,
        &recording,
        &runs,
        wall,
        cpu,
        peak_mib,
        &rss_samples,
    ))
}

/// Appends the server's resident memory (seconds since `started`, MiB) to `samples`
/// every `every` until aborted or the process is gone.
async fn sample_rss(
    pid: String,
    every: Duration,
    started: Instant,
    samples: Arc<Mutex<Vec<(f64, f64)>>>,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let Ok(mib) = proc_stats::memory_mib(&pid, MemoryField::Current) else {
            return;
        };
        let t = started.elapsed().as_secs_f64();
        eprintln!("candor load: {t:>6.0} s  server RSS {mib:.0} MiB");
        if let Ok(mut s) = samples.lock() {
            s.push((t, mib));
        }
    }
}

async fn run_session(
    server: String,
    api_key: Option<String>,
    recording: Arc<Recording>,
    repeat: u32,
    delay: Duration,
    session_id: String,
) -> SessionRun {
    tokio::time::sleep(delay).await;
    let mut run = SessionRun::default();
    if let Err(e) = session(
        &server,
        api_key.as_deref(),
        recording,
        repeat,
        session_id,
        &mut run,
    )
    .await
    {
        run.error = Some(format!("{e:#}"));
    }
    run
}

async fn session(
    server: &str,
    api_key: Option<&str>,
    recording: Arc<Recording>,
    repeat: u32,
    session_id: String,
    run: &mut SessionRun,
) -> Result<()> {
    let channel = stream::connect(server, None).await?;
    let mut client = CandorClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    let (tx, rx) = mpsc::channel::<AnalyzeRequest>(16);
    tx.send(AnalyzeRequest {
        message: Some(Message::Start(proto::SessionStart {
            session_id,
            participant_id: "participant-1".into(),
            format: MediaFormat::H264Annexb as i32,
            capture: Some(proto::CaptureInfo {
                device_label: "candor-load".into(),
                platform: "candor-load".into(),
                client_version: env!("CARGO_PKG_VERSION").into(),
            }),
            ..Default::default()
        })),
    })
    .await?;
    let mut request = Request::new(ReceiverStream::new(rx));
    stream::authorize(&mut request, api_key)?;
    let sender = tokio::spawn(send_paced(recording, repeat, tx));
    let mut responses = client
        .analyze(request)
        .await
        .context("Analyze call refused")?
        .into_inner();
    while let Some(msg) = responses.message().await.context("stream from server")? {
        match msg.event {
            Some(Event::Accepted(a)) => {
                run.sample_fps = a.settings.map(|s| f64::from(s.sample_fps));
            }
            Some(Event::Segment(s)) => run.segments.push((s.end_us, Instant::now())),
            Some(Event::Summary(s)) => {
                run.frames = s.frames;
                run.ended_by = s.ended_by;
            }
            _ => {}
        }
    }
    let (sent, lag) = sender.await.context("sender task")?;
    run.sent = sent;
    run.max_send_lag = lag;
    Ok(())
}

/// Sends every chunk at its presentation time (the recording `repeat` times), then
/// `finish`. Returns when each frame left and the most any frame was late.
async fn send_paced(
    recording: Arc<Recording>,
    repeat: u32,
    tx: mpsc::Sender<AnalyzeRequest>,
) -> (Vec<SentFrame>, Duration) {
    let started = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(recording.chunks.len() * repeat as usize);
    let mut max_lag = Duration::ZERO;
    for r in 0..repeat {
        for chunk in &recording.chunks {
            let due = started + due_after(r, chunk.pts_us, recording.clip_us);
            tokio::time::sleep_until(due).await;
            let message = Message::Chunk(proto::MediaChunk {
                data: chunk.data.clone(),
            });
            if tx
                .send(AnalyzeRequest {
                    message: Some(message),
                })
                .await
                .is_err()
            {
                // The server ended the session; the response stream says why.
                return (sent, max_lag);
            }
            let now = tokio::time::Instant::now();
            max_lag = max_lag.max(now.saturating_duration_since(due));
            sent.push(SentFrame {
                pts_us: i64::from(r) * recording.clip_us + chunk.pts_us,
                at: now.into_std(),
            });
        }
    }
    let _ = tx
        .send(AnalyzeRequest {
            message: Some(Message::Finish(proto::Finish {})),
        })
        .await;
    (sent, max_lag)
}

fn report(
    args: &LoadArgs,
    recording: &Recording,
    runs: &[SessionRun],
    wall: Duration,
    cpu: Option<Duration>,
    peak_mib: Option<f64>,
    rss_samples: &[(f64, f64)],
) -> serde_json::Value {
    let video_s = recording.clip_us as f64 / 1e6 * f64::from(args.repeat);
    let sample_fps = runs.iter().find_map(|r| r.sample_fps).unwrap_or(0.0);
    let mut latencies = Vec::new();
    let mut per_session = Vec::new();
    for r in runs {
        let lat: Vec<f64> = r
            .segments
            .iter()
            .filter_map(|(end_us, at)| segment_latency(&r.sent, *end_us, *at))
            .collect();
        latencies.extend_from_slice(&lat);
        let f = r.frames.unwrap_or_default();
        per_session.push(json!({
            "analysed": f.analysed,
            "dropped": f.dropped,
            "decoded": f.decoded,
            "analysed_fps": f64::from(f.analysed) / video_s,
            "segments": r.segments.len(),
            "latency_p50_s": percentile(&lat, 50.0),
            "latency_p99_s": percentile(&lat, 99.0),
            "send_lag_max_s": r.max_send_lag.as_secs_f64(),
            "ended_by": r.ended_by,
            "error": r.error,
        }));
    }
    let analysed_fps: Vec<f64> = runs
        .iter()
        .map(|r| f64::from(r.frames.unwrap_or_default().analysed) / video_s)
        .collect();
    let failed = runs
        .iter()
        .filter(|r| r.error.is_some() || r.frames.is_none())
        .count();
    let outcome = RunOutcome {
        sample_fps,
        min_analysed_fps: analysed_fps.iter().copied().fold(f64::INFINITY, f64::min),
        dropped: runs
            .iter()
            .map(|r| u64::from(r.frames.unwrap_or_default().dropped))
            .sum(),
        latency_p99_s: percentile(&latencies, 99.0),
        max_send_lag_s: runs
            .iter()
            .map(|r| r.max_send_lag.as_secs_f64())
            .fold(0.0, f64::max),
        failed_sessions: failed,
    };
    let cpu_s = cpu.map(|c| c.as_secs_f64());
    let settled: Vec<(f64, f64)> = rss_samples
        .iter()
        .copied()
        .filter(|(t, _)| *t >= args.rss_warmup_s as f64)
        .collect();
    json!({
        "sessions": runs.len(),
        "video_s_per_session": video_s,
        "wall_s": wall.as_secs_f64(),
        "sample_fps": sample_fps,
        "analysed_fps_min": outcome.min_analysed_fps,
        "analysed_fps_mean": analysed_fps.iter().sum::<f64>() / analysed_fps.len() as f64,
        "dropped": outcome.dropped,
        "segments": latencies.len(),
        "latency_p50_s": percentile(&latencies, 50.0),
        "latency_p99_s": outcome.latency_p99_s,
        "latency_max_s": percentile(&latencies, 100.0),
        "send_lag_max_s": outcome.max_send_lag_s,
        "failed_sessions": failed,
        "holds_real_time": holds_real_time(&outcome),
        "server": {
            "cpu_s": cpu_s,
            "cpu_cores": cpu_s.map(|c| c / wall.as_secs_f64()),
            "cpu_s_per_video_s_per_session": cpu_s.map(|c| c / (video_s * runs.len() as f64)),
            "rss_peak_mib": peak_mib,
            "rss_samples": rss_samples,
            "rss_slope_mib_per_hour": slope_per_hour(&settled),
        },
        "per_session": per_session,
    })
}
