//! The analysis thread of one session: owns the session's stream runner and turns work
//! items into results, in order. Model calls block this thread, never the async
//! runtime. Everything a stream's results follow (frame accounting, timings, evidence,
//! state changes, challenges, the summary) is the runner's; this thread only carries
//! frames in and results out, and counts them in the metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use candor_core::AnalysisConfig;
use candor_core::Summary;
use candor_core::capture::CaptureContextRule;
use candor_core::challenge::ChallengeResult;
use candor_media::{GlancePlan, GlanceRate};
use candor_pipeline::{
    Engine, FrameFate, JudgedSegment, StreamAnalyser, StreamInput, StreamOutput, StreamRunner,
};
use crossbeam_channel::Receiver;
use tokio::sync::mpsc;

use crate::error::ServiceError;
use crate::identity_index::SessionSearch;
use crate::ingest::{InFlight, Work};
use crate::metrics::METRICS;
use crate::values::{CandidatePlan, ChallengeStart};

/// What the analysis thread hands back to the session task.
pub enum Output {
    /// A challenge's window has been analysed.
    Challenge {
        id: String,
        result: Box<ChallengeResult>,
    },
    Segment {
        segment: Box<JudgedSegment>,
        /// From receiving the frame that closed the segment to the result.
        latency: Duration,
    },
    /// The stream is over; `error` is set when it ended because the input broke.
    Finished {
        summary: Box<Summary>,
        error: Option<ServiceError>,
        /// The session identity, for a first round that enrols it or a tenant with
        /// duplicate search (kept for blocklisting); `None` otherwise or when no face
        /// was embedded well enough.
        identity: Option<Vec<f32>>,
    },
}

pub struct AnalysisThread {
    pub work: Receiver<Work>,
    pub out: mpsc::Sender<Output>,
    pub in_flight: InFlight,
    pub cancelled: Arc<AtomicBool>,
    /// Keep face key frames of alerting segments (the tenant's evidence capture).
    pub evidence: bool,
    /// Verify against the candidate's enrolment, or hand the session identity back
    /// for enrolling.
    pub candidate: CandidatePlan,
    /// Searched once the session identity is established (the tenant's duplicate
    /// search); its identity is then handed back at the end too.
    pub search: Option<SessionSearch>,
    /// The capture context (a virtual camera) every segment carries as a reason.
    pub context: Option<CaptureContextRule>,
    /// Challenges asked for while the session runs.
    pub challenges: Receiver<ChallengeStart>,
    /// The session's own glance rate, which its runner moves by `glance_plan`.
    pub glance: GlanceRate,
    pub glance_plan: GlancePlan,
    /// Set once the search is handed to the analyser.
    pub searched: bool,
}

impl AnalysisThread {
    pub fn run(mut self, engine: Arc<Engine>, cfg: AnalysisConfig) {
        let mut runner = self.runner(engine, &cfg);
        let mut error = None;
        let (work_rx, challenge_rx) = (self.work.clone(), self.challenges.clone());
        let mut challenges_open = true;
        loop {
            if self.cancelled.load(Ordering::Acquire) {
                return; // the client is gone: nobody to send results to
            }
            // Challenges are taken as they come, not with the next frame: a blink
            // challenge raises the glance rate before the frames it must look at are
            // decoded.
            let received = if challenges_open {
                crossbeam_channel::select! {
                    recv(work_rx) -> w => w,
                    recv(challenge_rx) -> c => {
                        match c {
                            Ok(c) => runner.start_challenge(c.id, c.kind, c.window_us),
                            Err(_) => challenges_open = false,
                        }
                        continue;
                    }
                }
            } else {
                work_rx.recv()
            };
            match received {
                Ok(Work::Frame(input, at)) => {
                    let holds_slot =
                        matches!(input, StreamInput::Analyse(_) | StreamInput::Glance(_));
                    let fate = runner.push(input);
                    if holds_slot {
                        self.in_flight.release();
                    }
                    count(fate, &runner);
                    if !self.send(&mut runner, at) {
                        return;
                    }
                }
                // The ingest thread gone without End is the end of input too.
                Ok(Work::End) | Err(_) => break,
                Ok(Work::Failed(e)) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let summary = runner.finish();
        if !self.send(&mut runner, Instant::now()) {
            return;
        }
        let identity = (self.candidate == CandidatePlan::Enrol || self.searched)
            .then(|| runner.session_identity())
            .flatten();
        let _ = self.out.blocking_send(Output::Finished {
            summary: Box::new(summary),
            error,
            identity,
        });
    }

    fn runner(&mut self, engine: Arc<Engine>, cfg: &AnalysisConfig) -> StreamRunner {
        let mut analyser = StreamAnalyser::new(engine, cfg);
        if let Some(rule) = self.context.take() {
            analyser.add_rule(Box::new(rule));
        }
        if self.evidence {
            analyser.capture_evidence();
        }
        if let CandidatePlan::Verify(reference) = &self.candidate {
            analyser.verify_against(reference.clone());
        }
        if let Some(search) = self.search.take() {
            analyser.search_identity_with(Box::new(search));
            self.searched = true;
        }
        let mut runner = StreamRunner::new(analyser);
        runner.adapt_glances(self.glance.clone(), self.glance_plan);
        runner
    }

    /// Sends what the runner has ready; false when the session is gone. `at` is when
    /// the frame that closed a segment was received.
    fn send(&self, runner: &mut StreamRunner, at: Instant) -> bool {
        runner.take_outputs().into_iter().all(|output| {
            let out = match output {
                StreamOutput::Segment(segment) => {
                    let latency = at.elapsed();
                    METRICS
                        .segment_latency
                        .with_label_values::<&str>(&[])
                        .observe(latency.as_secs_f64());
                    METRICS
                        .segments
                        .with_label_values(&[segment.report.assessment.state.as_str()])
                        .inc();
                    Output::Segment { segment, latency }
                }
                StreamOutput::Challenge { id, result } => Output::Challenge { id, result },
            };
            self.out.blocking_send(out).is_ok()
        })
    }
}

/// Counts a frame's fate, and the models' time on an analysed one.
fn count(fate: FrameFate, runner: &StreamRunner) {
    // Damaged media is counted by the ingest, where it is found.
    if fate == FrameFate::Undecodable {
        return;
    }
    METRICS.frames("decoded", 1);
    match fate {
        FrameFate::Skipped | FrameFate::Undecodable => {}
        FrameFate::Glanced => METRICS.frames("glanced", 1),
        FrameFate::Dropped | FrameFate::Failed => METRICS.frames("dropped", 1),
        FrameFate::Analysed => {
            METRICS.frames("analysed", 1);
            for (model, d) in &runner.last_timings().stages {
                METRICS.inference(model, *d);
            }
        }
    }
}
