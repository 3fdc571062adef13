//! One live `Analyze` session: validates the opening message, starts the ingest and
//! analysis threads, forwards client media to them, and sends results back in order
//! to the client and to watchers. The client's disconnect, an idle timeout, bad media
//! and server shutdown each end the session cleanly with a summary.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candor_core::capture::CaptureContextRule;
use candor_core::{RiskState, Summary};
use candor_store::TenantSettings;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tonic::{Status, Streaming};
use tracing::Instrument;

use crate::analysis::{AnalysisThread, GlanceBoost, Output};
use crate::candidate::{self, CandidatePlan};
use crate::convert;
use crate::error::ServiceError;
use crate::ingest::{self, InFlight, IncomingFrame};
use crate::metrics::METRICS;
use crate::proto::{
    self, AnalyzeRequest, AnalyzeResponse, MediaFormat, SessionStart, analyze_request,
    analyze_response::Event,
};
use crate::registry::{SessionEntry, SessionMeta};
use crate::state::ServerState;

pub type ResponseTx = mpsc::Sender<Result<AnalyzeResponse, Status>>;

/// How a session ended, as it is stored.
struct Ended {
    by: &'static str,
    /// The analysis' own summary; `None` when it did not get to finish.
    summary: Option<Summary>,
    max_synthetic: Option<f32>,
}

impl Ended {
    fn early(by: &'static str) -> Self {
        Self {
            by,
            summary: None,
            max_synthetic: None,
        }
    }
}

/// Checks the opening message and turns it into session metadata.
pub fn validate_start(
    tenant: &str,
    start: &SessionStart,
) -> Result<(SessionMeta, MediaFormat), ServiceError> {
    let id = &start.session_id;
    let id_ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if !id_ok {
        return Err(ServiceError::InvalidArgument(
            "session_id must be 1-128 characters of letters, digits, '-', '_', '.', ':'".into(),
        ));
    }
    if start.participant_id.is_empty() {
        return Err(ServiceError::InvalidArgument(
            "participant_id is required".into(),
        ));
    }
    let format = MediaFormat::try_from(start.format).unwrap_or(MediaFormat::Unspecified);
    if format == MediaFormat::Unspecified {
        return Err(ServiceError::InvalidArgument(format!(
            "format is missing or unknown ({}): use one of H264_ANNEXB, WEBM, FRAGMENTED_MP4, JPEG, PNG, RAW_I420, RAW_RGB24",
            start.format
        )));
    }
    if let Some(fps) = start.fps_hint
        && !(0.2..=60.0).contains(&fps)
    {
        return Err(ServiceError::InvalidArgument(format!(
            "fps_hint must lie in 0.2-60, got {fps}"
        )));
    }
    Ok((
        SessionMeta {
            tenant: tenant.to_owned(),
            session_id: id.clone(),
            participant_id: start.participant_id.clone(),
            interview_ref: start.interview_ref.clone(),
            candidate_ref: start.candidate_ref.clone(),
            capture: start.capture.clone().unwrap_or_default(),
        },
        format,
    ))
}

enum Input {
    Chunks(mpsc::Sender<bytes::Bytes>),
    Frames(mpsc::Sender<IncomingFrame>),
}

/// Media messages waiting for the ingest thread. Small: chunks and frames are large,
/// and a full queue pushes back on the client through gRPC flow control.
const INPUT_QUEUE: usize = 8;

pub struct Session {
    pub state: Arc<ServerState>,
    pub entry: Arc<SessionEntry>,
    pub format: MediaFormat,
    pub fps_hint: Option<f32>,
    /// Challenges asked for this session; the sending side is on its registry entry
    /// from the moment the session is accepted.
    pub challenges: crossbeam_channel::Receiver<crate::analysis::ChallengeStart>,
    pub _permit: OwnedSemaphorePermit,
}

impl Session {
    /// Runs the session to its end. Results go to `tx` (the client) and to watchers.
    pub async fn run(self, mut inbound: Streaming<AnalyzeRequest>, tx: ResponseTx) {
        METRICS.sessions_open.inc();
        let span = tracing::info_span!("session", tenant = %self.entry.meta.tenant, session = %self.entry.meta.session_id, participant = %self.entry.meta.participant_id);
        async {
            tracing::info!(format = ?self.format, "session opened");
            let ended = self.drive(&mut inbound, &tx).await;
            tracing::info!(ended_by = ended.by, "session closed");
            // Before the permit is released: a graceful shutdown waits for the permits,
            // then for the writer, so the summary is on disk when the server stops.
            if let Some(p) = &self.state.persistence {
                p.writer.finish(
                    &self.entry.meta,
                    ended.summary,
                    ended.by,
                    ended.max_synthetic,
                );
            }
        }
        .instrument(span)
        .await;
        self.state.registry.finished(&self.entry);
        METRICS.sessions_open.dec();
    }

    /// The tenant's settings (evidence capture, enrolment), read once per session.
    /// `None` without a store, and when they cannot be read: then nothing is kept.
    async fn tenant_settings(&self) -> Option<TenantSettings> {
        let p = self.state.persistence.as_ref()?;
        let (store, tenant) = (p.store.clone(), self.entry.meta.tenant.clone());
        match tokio::task::spawn_blocking(move || store.tenant_settings(&tenant)).await {
            Ok(Ok(t)) => Some(t),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "tenant settings unreadable: no evidence or enrolment");
                None
            }
            Err(_) => None,
        }
    }

    async fn drive(&self, inbound: &mut Streaming<AnalyzeRequest>, tx: &ResponseTx) -> Ended {
        let Some(engine) = self.state.engine() else {
            let _ = tx
                .send(Err(ServiceError::Unavailable(
                    "models are still loading".into(),
                )
                .into()))
                .await;
            return Ended::early("unavailable");
        };
        let limits = &self.state.limits;
        let mut decode = self.state.decode.clone();
        decode.fps_hint = self.fps_hint.or(decode.fps_hint);
        decode.max_source_pixels = u64::from(limits.max_frame_pixels);
        // The session's own glance rate: a blink challenge raises it for this session
        // only (the configured one is shared by every clone of the options).
        let glance = GlanceBoost::new(decode.glance.get());
        decode.glance = glance.rate.clone();

        let (work_tx, work_rx) = crossbeam_channel::unbounded();
        let (out_tx, mut out_rx) = mpsc::channel(16);
        let in_flight = InFlight::new(limits.frames_in_flight);
        let cancelled = Arc::new(AtomicBool::new(false));
        let settings = self.tenant_settings().await;
        let plan = candidate::plan(&self.state, &engine, &self.entry.meta, settings.as_ref()).await;
        let enrol_as = (plan == CandidatePlan::Enrol)
            .then(|| candidate::model_version(&engine))
            .flatten();
        let analysis = AnalysisThread {
            work: work_rx,
            out: out_tx,
            in_flight: in_flight.clone(),
            cancelled: cancelled.clone(),
            evidence: settings.as_ref().is_some_and(|t| t.evidence_capture),
            candidate: plan,
            context: CaptureContextRule::for_device(&self.entry.meta.capture.device_label),
            challenges: self.challenges.clone(),
            glance,
        };
        let cfg = self.state.analysis.clone();
        let started =
            spawn_named("candor-analysis", move || analysis.run(engine, cfg)).and_then(|_| {
                let format = self.format;
                if ingest::is_stream_format(format) {
                    let (ctx, crx) = mpsc::channel(INPUT_QUEUE);
                    spawn_named("candor-ingest", move || {
                        ingest::run_stream(format, crx, decode, work_tx, in_flight)
                    })
                    .map(|_| Input::Chunks(ctx))
                } else {
                    let (ftx, frx) = mpsc::channel(INPUT_QUEUE);
                    spawn_named("candor-ingest", move || {
                        ingest::run_frames(format, frx, decode, work_tx, in_flight)
                    })
                    .map(|_| Input::Frames(ftx))
                }
            });
        let mut input = match started {
            Ok(input) => Some(input),
            Err(e) => {
                let _ = tx
                    .send(Err(ServiceError::Internal(format!(
                        "cannot start session threads: {e}"
                    ))
                    .into()))
                    .await;
                cancelled.store(true, Ordering::Release);
                return Ended::early("internal_error");
            }
        };

        let idle = limits.idle_timeout;
        let mut shutdown = self.state.shutdown.clone();
        let mut ended_by = "finished";
        let mut pending_error: Option<ServiceError> = None;
        let mut client_gone = false;
        let mut previous_state: Option<RiskState> = None;
        let mut max_synthetic: Option<f32> = None;
        let mut final_summary = None;
        let writer = self.state.persistence.as_ref().map(|p| &p.writer);
        let meta = &self.entry.meta;
        let mut deadline = tokio::time::Instant::now() + idle;
        let sid = self.entry.meta.session_id.clone();

        loop {
            tokio::select! {
                // Client messages, while the input is open.
                msg = inbound.message(), if input.is_some() => {
                    deadline = tokio::time::Instant::now() + idle;
                    match msg {
                        Ok(Some(req)) => {
                            if let Err(e) = forward(req, &mut input, self.format, limits.max_message_bytes).await {
                                pending_error = Some(e);
                                ended_by = "invalid_request";
                                input = None;
                            }
                        }
                        Ok(None) => input = None,
                        Err(status) => {
                            tracing::info!(%status, "client stream ended");
                            client_gone = true;
                            ended_by = "client_gone";
                            break;
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline), if input.is_some() => {
                    pending_error = Some(ServiceError::IdleTimeout(format!(
                        "no media for {} s: session closed", idle.as_secs()
                    )));
                    ended_by = "idle_timeout";
                    input = None;
                }
                _ = shutdown.changed(), if input.is_some() => {
                    ended_by = "server_shutdown";
                    input = None;
                }
                out = out_rx.recv() => match out {
                    Some(Output::Segment { report, analysis, latency, evidence }) => {
                        let decoded = report.segment.counts.decoded;
                        let timings = proto::StageTimings {
                            analysis_ms: analysis.as_secs_f32() * 1000.0,
                            result_latency_ms: latency.as_secs_f32() * 1000.0,
                        };
                        let seg = convert::segment(&sid, &report, decoded, timings);
                        max_synthetic = match (max_synthetic, seg.synthetic_confidence) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, b) => a.or(b),
                        };
                        let state = report.assessment.state;
                        let mut events = vec![Event::Segment(seg)];
                        if let Some(w) = writer {
                            w.segment(meta, &report);
                            if !evidence.is_empty() {
                                w.evidence(meta, report.segment.index, evidence);
                            }
                        }
                        if previous_state.is_some_and(|p| p != state) || (previous_state.is_none() && state != RiskState::Clear) {
                            if let Some(w) = writer {
                                let reason = report.assessment.reasons.first().map_or("", |r| r.message.as_str());
                                w.state_change(meta, report.segment.start_us, previous_state, state, reason);
                            }
                            events.push(Event::StateChange(proto::StateChange {
                                session_id: sid.clone(),
                                from: previous_state.map_or(proto::RiskState::Unspecified, convert::risk_state) as i32,
                                to: convert::risk_state(state) as i32,
                                segment_index: report.segment.index,
                                at_us: report.segment.start_us,
                                reasons: report.assessment.reasons.iter().map(convert::reason).collect(),
                            }));
                        }
                        previous_state = Some(state);
                        for ev in events {
                            if !self.emit(tx, ev).await {
                                client_gone = true;
                                ended_by = "client_gone";
                            }
                        }
                        if client_gone {
                            break;
                        }
                    }
                    Some(Output::Challenge { id, result }) => {
                        if let Some(w) = writer {
                            w.challenge(meta, &id, &result);
                        }
                        let ev = Event::Challenge(convert::challenge(&sid, &id, &result));
                        if !self.emit(tx, ev).await {
                            client_gone = true;
                            ended_by = "client_gone";
                            break;
                        }
                    }
                    Some(Output::Finished { summary, error, identity }) => {
                        if let Some(e) = error {
                            ended_by = "bad_media";
                            pending_error.get_or_insert(e);
                        }
                        // Only a session that ended normally enrols (round 1); the
                        // summary waits for the enrolment, so a next round sees it.
                        if let (Some(w), Some(model), Some(identity), "finished") =
                            (writer, enrol_as.clone(), identity, ended_by)
                        {
                            w.enrol(meta, identity, model);
                            let w = w.clone();
                            let _ = tokio::task::spawn_blocking(move || w.flush_blocking()).await;
                        }
                        let s = convert::summary(&sid, &summary, summary.counts.decoded, max_synthetic, true, ended_by);
                        final_summary = Some(*summary);
                        let _ = self.emit(tx, Event::Summary(s)).await;
                        break;
                    }
                    None => {
                        pending_error.get_or_insert(ServiceError::Internal("analysis stopped unexpectedly".into()));
                        break;
                    }
                },
            }
        }
        drop(input);
        self.entry.set_challenges(None);
        if client_gone {
            cancelled.store(true, Ordering::Release);
            // Close the summary for watchers: nobody else will.
            let s = proto::SessionSummary {
                session_id: sid,
                complete: true,
                ended_by: ended_by.into(),
                ..self.entry.snapshot().1.unwrap_or_default()
            };
            self.entry.publish(AnalyzeResponse {
                event: Some(Event::Summary(s)),
            });
        } else if let Some(e) = pending_error {
            let _ = tx.send(Err(e.into())).await;
        }
        Ended {
            by: ended_by,
            summary: final_summary,
            max_synthetic,
        }
    }

    /// Publishes to watchers and sends to the client; false when the client is gone.
    async fn emit(&self, tx: &ResponseTx, event: Event) -> bool {
        let msg = AnalyzeResponse { event: Some(event) };
        self.entry.publish(msg.clone());
        tx.send(Ok(msg)).await.is_ok()
    }
}

/// Hands one media message to the ingest thread.
async fn forward(
    req: AnalyzeRequest,
    input: &mut Option<Input>,
    format: MediaFormat,
    max_bytes: usize,
) -> Result<(), ServiceError> {
    let size = match &req.message {
        Some(analyze_request::Message::Chunk(c)) => c.data.len(),
        Some(analyze_request::Message::Frame(f)) => f.data.len(),
        _ => 0,
    };
    if size > max_bytes {
        return Err(ServiceError::InvalidArgument(format!(
            "media message of {size} bytes exceeds the limit of {max_bytes} bytes"
        )));
    }
    match (req.message, input.as_ref()) {
        (Some(analyze_request::Message::Chunk(c)), Some(Input::Chunks(tx))) => {
            // A closed channel means the decoder stopped; its reason arrives as output.
            let _ = tx.send(bytes::Bytes::from(c.data)).await;
            METRICS.frames("received_chunks", 1);
            Ok(())
        }
        (Some(analyze_request::Message::Frame(f)), Some(Input::Frames(tx))) => {
            METRICS.frames("received", 1);
            let _ = tx
                .send(IncomingFrame {
                    frame: f,
                    at: Instant::now(),
                })
                .await;
            Ok(())
        }
        (Some(analyze_request::Message::Finish(_)), _) => {
            *input = None;
            Ok(())
        }
        (Some(analyze_request::Message::Start(_)), _) => Err(ServiceError::InvalidArgument(
            "a session is already open on this stream: send `start` only once".into(),
        )),
        (Some(analyze_request::Message::Chunk(_)), _) => Err(ServiceError::InvalidArgument(
            format!("format {format:?} takes `frame` messages, not `chunk`"),
        )),
        (Some(analyze_request::Message::Frame(_)), _) => Err(ServiceError::InvalidArgument(
            format!("format {format:?} takes `chunk` messages, not `frame`"),
        )),
        (None, _) => Err(ServiceError::InvalidArgument(
            "empty request message".into(),
        )),
    }
}

fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(|_| ())
}
