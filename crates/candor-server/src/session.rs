//! One live `Analyze` session: starts the ingest and analysis threads, forwards client
//! media to them, and sends results back in order to the client, to watchers and to
//! the store. The client's disconnect, an idle timeout, bad media and server shutdown
//! each end the session cleanly with a summary. What the results say is decided by the
//! stream runner on the analysis thread; this module is transport.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candor_core::Summary;
use candor_core::capture::CaptureContextRule;
use candor_pipeline::{Engine, JudgedSegment};
use candor_store::TenantSettings;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tonic::{Status, Streaming};
use tracing::Instrument;

use crate::analysis::{AnalysisThread, Output};
use crate::candidate;
use crate::convert;
use crate::error::ServiceError;
use crate::ingest::{self, InFlight, IncomingFrame};
use crate::metrics::METRICS;
use crate::proto::{
    self, AnalyzeRequest, AnalyzeResponse, MediaFormat, analyze_request, analyze_response::Event,
};
use crate::registry::SessionEntry;
use crate::state::ServerState;
use crate::validate;
use crate::values::{CandidatePlan, ChallengeStart};

pub type ResponseTx = mpsc::Sender<Result<AnalyzeResponse, Status>>;

/// How a session ended, as it is stored.
struct Ended {
    by: &'static str,
    /// The analysis' own summary; `None` when it did not get to finish.
    summary: Option<Summary>,
    /// Why the session ended, for the client, once its slot is free.
    error: Option<ServiceError>,
}

impl Ended {
    fn early(by: &'static str) -> Self {
        Self {
            by,
            summary: None,
            error: None,
        }
    }
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
    pub challenges: crossbeam_channel::Receiver<ChallengeStart>,
    pub _permit: OwnedSemaphorePermit,
}

/// A session between the start of its threads and its end.
struct Running<'a> {
    session: &'a Session,
    tx: &'a ResponseTx,
    /// Where client media goes; `None` once the input is closed.
    input: Option<Input>,
    out: mpsc::Receiver<Output>,
    cancelled: Arc<AtomicBool>,
    /// The identity model version a first round enrols under.
    enrol_as: Option<String>,
    /// The identity model version the session identity is kept under (duplicate
    /// search on), for a later `AddToBlocklist`.
    keep_as: Option<String>,
    ended_by: &'static str,
    pending_error: Option<ServiceError>,
    client_gone: bool,
    summary: Option<Summary>,
    deadline: tokio::time::Instant,
}

impl Session {
    /// Runs the session to its end. Results go to `tx` (the client) and to watchers.
    pub async fn run(self, mut inbound: Streaming<AnalyzeRequest>, tx: ResponseTx) {
        METRICS.sessions_open.inc();
        let span = tracing::info_span!("session", tenant = %self.entry.meta.tenant, session = %self.entry.meta.session_id, participant = %self.entry.meta.participant_id);
        let error = async {
            tracing::info!(format = ?self.format, "session opened");
            let ended = self.drive(&mut inbound, &tx).await;
            tracing::info!(ended_by = ended.by, "session closed");
            // Before the permit is released: a graceful shutdown waits for the permits,
            // then for the writer, so the summary is on disk when the server stops.
            if let Some(p) = &self.state.persistence {
                p.writer.finish(&self.entry.meta, ended.summary, ended.by);
            }
            ended.error
        }
        .instrument(span)
        .await;
        self.state.registry.finished(&self.entry);
        METRICS.sessions_open.dec();
        // Once the store has every result, readers go there and memory lets them go;
        // waiting for the disk must not hold the session's slot.
        if let Some(p) = &self.state.persistence {
            let (state, entry, writer) = (self.state.clone(), self.entry.clone(), p.writer.clone());
            tokio::spawn(async move {
                writer.committed().await;
                if writer.stored_whole(&entry.meta) {
                    state.registry.release(&entry);
                }
            });
        }
        // The slot is free before the client hears that the session ended (the closing
        // status, or the end of the stream when `tx` goes), so it can start the next
        // one at once.
        drop(self);
        if let Some(e) = error {
            let _ = tx.send(Err(e.into())).await;
        }
    }

    async fn drive(&self, inbound: &mut Streaming<AnalyzeRequest>, tx: &ResponseTx) -> Ended {
        let Some(engine) = self.state.engine() else {
            let e = ServiceError::Unavailable("models are still loading".into());
            let _ = tx.send(Err(e.into())).await;
            return Ended::early("unavailable");
        };
        let mut run = match self.start(engine, tx).await {
            Ok(run) => run,
            Err(ended) => return ended,
        };
        let mut shutdown = self.state.shutdown.clone();
        while !run.client_gone {
            tokio::select! {
                msg = inbound.message(), if run.input.is_some() => run.client_message(msg).await,
                _ = tokio::time::sleep_until(run.deadline), if run.input.is_some() => run.idle(),
                _ = shutdown.changed(), if run.input.is_some() => run.close_input("server_shutdown"),
                out = run.out.recv() => if run.output(out).await {
                    break;
                },
            }
        }
        run.end().await
    }

    /// The tenant's settings (evidence capture, enrolment), read once per session.
    /// `None` without a store, and when they cannot be read: then nothing is kept.
    async fn tenant_settings(&self) -> Option<TenantSettings> {
        let p = self.state.persistence.as_ref()?;
        let (store, tenant) = (p.store.clone(), self.entry.meta.tenant.clone());
        let read = crate::blocking::run("tenant settings", move || {
            store.tenant_settings(&tenant).map_err(ServiceError::from)
        })
        .await;
        read.map_err(
            |e| tracing::warn!(error = %e, "tenant settings unreadable: no evidence or enrolment"),
        )
        .ok()
    }

    /// Starts the analysis and ingest threads.
    async fn start<'a>(
        &'a self,
        engine: Arc<Engine>,
        tx: &'a ResponseTx,
    ) -> Result<Running<'a>, Ended> {
        let limits = &self.state.limits;
        let mut decode = self.state.decode.clone();
        decode.fps_hint = self.fps_hint.or(decode.fps_hint);
        decode.max_source_pixels = u64::from(limits.max_frame_pixels);
        // The session's own glance rate, which its runner moves (see `GlancePlan`):
        // the configured one is shared by every clone of the options.
        decode.glance = candor_media::GlanceRate::new(decode.glance_plan.idle_fps);
        // Sessions run side by side and fill the cores between them: one decoder thread
        // each keeps a session's pictures few and adds no frame of delay.
        decode.decoder_threads = 1;

        let (work_tx, work_rx) = crossbeam_channel::unbounded();
        let (out_tx, out) = mpsc::channel(16);
        let in_flight = InFlight::new(limits.frames_in_flight);
        let cancelled = Arc::new(AtomicBool::new(false));
        let settings = self.tenant_settings().await;
        let store = self.state.persistence.as_ref().map(|p| p.store.clone());
        let plan = candidate::plan(store, &engine, &self.entry.meta, settings.as_ref()).await;
        let index = self.state.index();
        let identity_cfg = &self.state.analysis.identity;
        let meta = &self.entry.meta;
        let search = candidate::search(index, &engine, meta, settings.as_ref(), identity_cfg);
        let keep_as = search.as_ref().map(|s| s.model.clone());
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
            search,
            searched: false,
            context: CaptureContextRule::for_device(&self.entry.meta.capture.device_label),
            challenges: self.challenges.clone(),
            glance: decode.glance.clone(),
            glance_plan: decode.glance_plan,
        };
        let cfg = self.state.analysis.clone();
        let format = self.format;
        let started =
            spawn_named("candor-analysis", move || analysis.run(engine, cfg)).and_then(|()| {
                if ingest::is_stream_format(format) {
                    let (ctx, crx) = mpsc::channel(INPUT_QUEUE);
                    spawn_named("candor-ingest", move || {
                        ingest::run_stream(format, crx, decode, work_tx, in_flight)
                    })
                    .map(|()| Input::Chunks(ctx))
                } else {
                    let (ftx, frx) = mpsc::channel(INPUT_QUEUE);
                    spawn_named("candor-ingest", move || {
                        ingest::run_frames(format, frx, decode, work_tx, in_flight)
                    })
                    .map(|()| Input::Frames(ftx))
                }
            });
        match started {
            Ok(input) => Ok(Running {
                session: self,
                tx,
                input: Some(input),
                out,
                cancelled,
                enrol_as,
                keep_as,
                ended_by: "finished",
                pending_error: None,
                client_gone: false,
                summary: None,
                deadline: tokio::time::Instant::now() + limits.idle_timeout,
            }),
            Err(e) => {
                let e = ServiceError::Internal(format!("cannot start session threads: {e}"));
                let _ = tx.send(Err(e.into())).await;
                cancelled.store(true, Ordering::Release);
                Err(Ended::early("internal_error"))
            }
        }
    }
}

impl Running<'_> {
    fn meta(&self) -> &crate::values::SessionMeta {
        &self.session.entry.meta
    }

    fn writer(&self) -> Option<&crate::persist::SessionWriter> {
        self.session.state.persistence.as_ref().map(|p| &p.writer)
    }

    /// Stops taking media; the analysis finishes what it has and sends the summary.
    fn close_input(&mut self, ended_by: &'static str) {
        self.ended_by = ended_by;
        self.input = None;
    }

    fn idle(&mut self) {
        let idle = self.session.state.limits.idle_timeout;
        self.pending_error = Some(ServiceError::IdleTimeout(format!(
            "no media for {} s: session closed",
            idle.as_secs()
        )));
        self.close_input("idle_timeout");
    }

    async fn client_message(&mut self, msg: Result<Option<AnalyzeRequest>, Status>) {
        // Only media keeps a session alive: a client trickling empty chunks or frames
        // (a slowloris) holds a session slot for nothing and times out like a silent one.
        if !matches!(&msg, Ok(Some(req)) if carries_nothing(req)) {
            self.deadline = tokio::time::Instant::now() + self.session.state.limits.idle_timeout;
        }
        match msg {
            Ok(Some(req)) => {
                if let Err(e) = self.forward(req).await {
                    self.pending_error = Some(e);
                    self.close_input("invalid_request");
                }
            }
            Ok(None) => self.input = None,
            // The transport refused a message over its size limit before it reached
            // us: a client error like an oversized frame, not a disconnect. The
            // segments of the media before it still stand and the summary is sent.
            Err(status) => {
                let max = self.session.state.limits.max_message_bytes;
                if let Some(e) = validate::transport_refusal(&status, max) {
                    tracing::info!(%status, "message over the transport limit");
                    self.pending_error = Some(e);
                    self.close_input("message_too_large");
                    return;
                }
                tracing::info!(%status, "client stream ended");
                self.gone();
            }
        }
    }

    fn gone(&mut self) {
        self.client_gone = true;
        self.ended_by = "client_gone";
    }

    /// Hands one media message to the ingest thread.
    async fn forward(&mut self, req: AnalyzeRequest) -> Result<(), ServiceError> {
        validate::media_size(&req, self.session.state.limits.max_message_bytes)?;
        let format = self.session.format;
        match (req.message, self.input.as_ref()) {
            (Some(analyze_request::Message::Chunk(c)), Some(Input::Chunks(tx))) => {
                // A closed channel means the decoder stopped; its reason arrives as output.
                let _ = tx.send(bytes::Bytes::from(c.data)).await;
                METRICS.frames("received_chunks", 1);
                Ok(())
            }
            (Some(analyze_request::Message::Frame(f)), Some(Input::Frames(tx))) => {
                METRICS.frames("received", 1);
                let frame = IncomingFrame {
                    frame: f,
                    at: Instant::now(),
                };
                let _ = tx.send(frame).await;
                Ok(())
            }
            (Some(analyze_request::Message::Finish(_)), _) => {
                self.input = None;
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

    /// Handles one result of the analysis; true when the session is over.
    async fn output(&mut self, out: Option<Output>) -> bool {
        match out {
            Some(Output::Segment { segment, latency }) => {
                self.segment(*segment, latency).await;
                false
            }
            Some(Output::Challenge { id, result }) => {
                if let Some(w) = self.writer() {
                    w.challenge(self.meta(), &id, &result);
                }
                let sid = &self.meta().session_id;
                let ev = Event::Challenge(convert::challenge(sid, &id, &result));
                self.emit(ev).await;
                false
            }
            Some(Output::Finished {
                summary,
                error,
                identity,
            }) => {
                if let Some(e) = error {
                    self.ended_by = "bad_media";
                    self.pending_error.get_or_insert(e);
                }
                self.enrol(identity).await;
                let s = convert::summary(
                    &self.meta().session_id,
                    &summary,
                    summary.counts.decoded,
                    true,
                    self.ended_by,
                );
                self.summary = Some(*summary);
                self.emit(Event::Summary(s)).await;
                true
            }
            None => {
                self.pending_error.get_or_insert(ServiceError::Internal(
                    "analysis stopped unexpectedly".into(),
                ));
                true
            }
        }
    }

    /// Sends a judged segment (and the state change it made) to the client, watchers
    /// and the store, within a `segment` span that carries what a trace of the session
    /// should show: its state, frame counts and where the analysis time went.
    async fn segment(&mut self, judged: JudgedSegment, latency: std::time::Duration) {
        let seg = &judged.report.segment;
        let span = tracing::info_span!(
            "segment",
            index = seg.index,
            start_us = seg.start_us,
            end_us = seg.end_us,
            state = judged.report.assessment.state.as_str(),
            attack_score = tracing::field::Empty,
            analysed = seg.counts.analysed,
            dropped = seg.counts.dropped,
            undecodable = seg.counts.undecodable,
            analysis_ms = judged.analysis_time.as_secs_f64() * 1e3,
            result_latency_ms = latency.as_secs_f64() * 1e3,
            stage_ms = %stage_list(&judged.stage_times),
        );
        if let Some(a) = judged.report.assessment.attack_score {
            span.record("attack_score", a);
        }
        self.deliver_segment(judged, latency).instrument(span).await;
    }

    async fn deliver_segment(&mut self, judged: JudgedSegment, latency: std::time::Duration) {
        let JudgedSegment {
            report,
            analysis_time,
            stage_times: _,
            state_change,
            evidence,
        } = judged;
        let meta = self.meta();
        if let Some(w) = self.writer() {
            w.segment(meta, &report);
            if !evidence.is_empty() {
                w.evidence(meta, report.segment.index, evidence);
            }
            if let Some(change) = &state_change {
                let reason = report
                    .assessment
                    .reasons
                    .first()
                    .map_or("", |r| r.message.as_str());
                w.state_change(
                    meta,
                    report.segment.start_us,
                    change.from,
                    change.to,
                    reason,
                );
            }
        }
        // The client sees the segment only once it is on disk: a crash after this
        // point cannot take back a result the platform has already acted on.
        if let Some(w) = self.writer() {
            w.committed().await;
        }
        let meta = self.meta();
        let timings = proto::StageTimings {
            analysis_ms: analysis_time.as_secs_f32() * 1000.0,
            result_latency_ms: latency.as_secs_f32() * 1000.0,
        };
        let sid = meta.session_id.clone();
        let seg = convert::segment(&sid, &report, report.segment.counts.decoded, timings);
        let mut events = vec![Event::Segment(seg)];
        if let Some(change) = state_change {
            events.push(Event::StateChange(convert::state_change(
                &sid, &report, change,
            )));
        }
        for ev in events {
            self.emit(ev).await;
        }
        // Also when the client has already said `finish`: media past the limit may
        // still be queued, and the verdict must not depend on how fast it was sent.
        let max = self.session.state.limits.max_session;
        if self.ended_by != "max_length" && report.segment.end_us >= max.as_micros() as i64 {
            self.pending_error
                .get_or_insert(ServiceError::TooLong(format!(
                    "the session reached the longest a session may run ({} min of media): \
                 its results stand; open a new session to go on",
                    max.as_secs() / 60
                )));
            self.close_input("max_length");
        }
    }

    /// A first round that ended normally enrols its identity; the summary waits for the
    /// enrolment, so that a next round sees it.
    async fn enrol(&self, identity: Option<Vec<f32>>) {
        // Kept however the input ended (an idle timeout, bad media, a shutdown), as long
        // as the analysis got to its end: an operator who stalls is still worth
        // blocklisting.
        if let (Some(w), Some(model), Some(identity)) =
            (self.writer(), self.keep_as.clone(), identity.clone())
        {
            w.session_identity(self.meta(), identity, model);
        }
        if let (Some(w), Some(model), Some(identity), "finished") = (
            self.writer(),
            self.enrol_as.clone(),
            identity,
            self.ended_by,
        ) {
            w.enrol(self.meta(), identity, model);
            let w = w.clone();
            let _ = tokio::task::spawn_blocking(move || w.flush_blocking()).await;
        }
    }

    /// Publishes to watchers and sends to the client; marks the client gone if it is.
    async fn emit(&mut self, event: Event) {
        let msg = AnalyzeResponse { event: Some(event) };
        self.session.entry.publish(msg.clone());
        if self.tx.send(Ok(msg)).await.is_err() {
            self.gone();
        }
    }

    /// Closes the session: no more challenges, the analysis stopped if the client is
    /// gone (watchers then get the closing summary), else the client told why it ended.
    async fn end(mut self) -> Ended {
        self.input = None;
        let entry = &self.session.entry;
        entry.set_challenges(None);
        if self.client_gone {
            self.cancelled.store(true, Ordering::Release);
            let s = proto::SessionSummary {
                session_id: self.meta().session_id.clone(),
                complete: true,
                ended_by: self.ended_by.into(),
                ..entry.snapshot().1.unwrap_or_default()
            };
            entry.publish(AnalyzeResponse {
                event: Some(Event::Summary(s)),
            });
        }
        Ended {
            by: self.ended_by,
            summary: self.summary,
            // Sent by `Session::run` once the session's slot is free.
            error: self.pending_error.take().filter(|_| !self.client_gone),
        }
    }
}

/// A media message without a byte of media.
fn carries_nothing(req: &AnalyzeRequest) -> bool {
    match &req.message {
        Some(analyze_request::Message::Chunk(c)) => c.data.is_empty(),
        Some(analyze_request::Message::Frame(f)) => f.data.is_empty(),
        _ => false,
    }
}

fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(|_| ())
}

/// Mean time per analysed frame of each stage, as `name=ms` pairs: one trace field
/// whatever models a node runs.
fn stage_list(stages: &[(String, std::time::Duration)]) -> String {
    let pairs: Vec<String> = (stages.iter())
        .map(|(name, d)| format!("{name}={:.1}", d.as_secs_f64() * 1e3))
        .collect();
    pairs.join(" ")
}
