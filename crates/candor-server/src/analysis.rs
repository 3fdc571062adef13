//! The analysis thread of one session: owns the stream's analyser (tracker, segmenter,
//! fusion) and turns work items into segment results, in order. Model calls block this
//! thread, never the async runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use candor_core::capture::CaptureContextRule;
use candor_core::challenge::{ChallengeKind, ChallengeResult};
use candor_core::{AnalysisConfig, RiskState, SegmentReport, Summary};
use candor_media::GlanceRate;
use candor_pipeline::{Engine, StreamAnalyser};
use crossbeam_channel::Receiver;
use tokio::sync::mpsc;

use crate::candidate::CandidatePlan;
use crate::error::ServiceError;
use crate::ingest::{InFlight, Work};
use crate::metrics::METRICS;

/// What the analysis thread hands back to the session task.
pub enum Output {
    /// A challenge's window has been analysed.
    Challenge {
        id: String,
        result: Box<ChallengeResult>,
    },
    Segment {
        report: Box<SegmentReport>,
        /// Mean analysis time per analysed frame of the segment.
        analysis: Duration,
        /// From receiving the frame that closed the segment to the result.
        latency: Duration,
        /// JPEG face key frames of an alerting segment, when evidence capture is on.
        evidence: Vec<Vec<u8>>,
    },
    /// The stream is over; `error` is set when it ended because the input broke.
    Finished {
        summary: Box<Summary>,
        error: Option<ServiceError>,
        /// The session identity, for a first round that enrols it; `None` otherwise or
        /// when no face was embedded well enough.
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
    /// The capture context (a virtual camera) every segment carries as a reason.
    pub context: Option<CaptureContextRule>,
    /// Challenges asked for while the session runs.
    pub challenges: Receiver<ChallengeStart>,
    /// The session's glance rate, raised while blink challenges run.
    pub glance: GlanceBoost,
}

/// Glances per second while a blink challenge runs: on the development clips 15 finds
/// 13 of the 14 blinks that 30 finds, 10 only 9; a challenge window is short, so it
/// affords nearly every frame of a 25-30 fps camera.
pub const BLINK_GLANCE_FPS: f32 = 25.0;

/// A session's glance rate: its configured level, raised while blink challenges run.
pub struct GlanceBoost {
    pub rate: GlanceRate,
    base_fps: f32,
    blink_challenges: usize,
}

impl GlanceBoost {
    pub fn new(base_fps: f32) -> Self {
        Self {
            rate: GlanceRate::new(base_fps),
            base_fps,
            blink_challenges: 0,
        }
    }

    fn started(&mut self, kind: ChallengeKind) {
        if kind == ChallengeKind::Blink {
            self.blink_challenges += 1;
            self.rate.set(self.base_fps.max(BLINK_GLANCE_FPS));
        }
    }

    fn ended(&mut self, kind: ChallengeKind) {
        if kind == ChallengeKind::Blink {
            self.blink_challenges = self.blink_challenges.saturating_sub(1);
            if self.blink_challenges == 0 {
                self.rate.set(self.base_fps);
            }
        }
    }
}

/// A challenge to start with the next analysed frame.
pub struct ChallengeStart {
    pub id: String,
    pub kind: ChallengeKind,
    pub window_us: i64,
}

/// Accumulates analysis time between segment results.
#[derive(Default)]
struct Timer {
    total: Duration,
    frames: u32,
}

impl Timer {
    fn take_mean(&mut self) -> Duration {
        let mean = if self.frames == 0 {
            Duration::ZERO
        } else {
            self.total / self.frames
        };
        *self = Self::default();
        mean
    }
}

impl AnalysisThread {
    pub fn run(mut self, engine: Arc<Engine>, cfg: AnalysisConfig) {
        let mut analyser = StreamAnalyser::new(engine, &cfg);
        if let Some(rule) = self.context.take() {
            analyser.add_rule(Box::new(rule));
        }
        if self.evidence {
            analyser.capture_evidence();
        }
        let enrols = self.candidate == CandidatePlan::Enrol;
        if let CandidatePlan::Verify(reference) = &self.candidate {
            analyser.verify_against(reference.clone());
        }
        let mut timer = Timer::default();
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
                            Ok(c) => {
                                self.glance.started(c.kind);
                                analyser.start_challenge(c.id, c.kind, c.window_us);
                            }
                            Err(_) => challenges_open = false,
                        }
                        continue;
                    }
                }
            } else {
                work_rx.recv()
            };
            let Ok(work) = received else {
                break; // ingest thread gone without End: treat as end of input
            };
            let (report, at) = match work {
                Work::Skipped(info, at) => {
                    METRICS.frames("decoded", 1);
                    (analyser.skipped(info), at)
                }
                Work::Dropped(info, at) => {
                    METRICS.frames("decoded", 1);
                    METRICS.frames("dropped", 1);
                    (analyser.dropped(info), at)
                }
                Work::Glance(frame, at) => {
                    METRICS.frames("decoded", 1);
                    METRICS.frames("glanced", 1);
                    let report = analyser.glance(frame);
                    self.in_flight.release();
                    (report, at)
                }
                Work::Analyse(frame, at) => {
                    METRICS.frames("decoded", 1);
                    let info = frame.info.clone();
                    let result = analyser.analyse(frame);
                    self.in_flight.release();
                    match result {
                        Ok(r) => {
                            METRICS.frames("analysed", 1);
                            let t = analyser.last_timings();
                            timer.total += t.total;
                            timer.frames += 1;
                            for (model, d) in &t.stages {
                                METRICS.inference(model, *d);
                            }
                            (r, at)
                        }
                        Err(e) => {
                            // One failed inference must not end the session.
                            tracing::warn!(pts_us = info.pts_us, error = %e, "frame analysis failed");
                            METRICS.frames("dropped", 1);
                            (analyser.dropped(info), at)
                        }
                    }
                }
                Work::End => break,
                Work::Failed(e) => {
                    error = Some(e);
                    break;
                }
            };
            if let Some(report) = report {
                let evidence = key_frames(&mut analyser, &report);
                if !self.send_segment(report, evidence, &mut timer, at) {
                    return;
                }
            }
            if !self.send_challenges(&mut analyser) {
                return;
            }
        }
        if let Some(report) = analyser.close() {
            let evidence = key_frames(&mut analyser, &report);
            if !self.send_segment(report, evidence, &mut timer, Instant::now()) {
                return;
            }
        }
        if !self.send_challenges(&mut analyser) {
            return;
        }
        let summary = analyser.summary();
        let identity = enrols.then(|| analyser.session_identity()).flatten();
        let _ = self.out.blocking_send(Output::Finished {
            summary: Box::new(summary),
            error,
            identity,
        });
    }

    /// Sends the results of finished challenges; false when the session is gone.
    fn send_challenges(&mut self, analyser: &mut StreamAnalyser) -> bool {
        let results = analyser.take_challenge_results();
        for (_, result) in &results {
            self.glance.ended(result.kind);
        }
        results.into_iter().all(|(id, result)| {
            self.out
                .blocking_send(Output::Challenge {
                    id,
                    result: Box::new(result),
                })
                .is_ok()
        })
    }

    fn send_segment(
        &self,
        report: SegmentReport,
        evidence: Vec<Vec<u8>>,
        timer: &mut Timer,
        at: Instant,
    ) -> bool {
        let latency = at.elapsed();
        METRICS
            .segment_latency
            .with_label_values::<&str>(&[])
            .observe(latency.as_secs_f64());
        METRICS
            .segments
            .with_label_values(&[report.assessment.state.as_str()])
            .inc();
        self.out
            .blocking_send(Output::Segment {
                report: Box::new(report),
                analysis: timer.take_mean(),
                latency,
                evidence,
            })
            .is_ok()
    }
}

/// JPEG key frames of an alerting segment; crops of other segments are let go.
fn key_frames(analyser: &mut StreamAnalyser, report: &SegmentReport) -> Vec<Vec<u8>> {
    let frames = analyser.take_evidence(report);
    if report.assessment.state != RiskState::Alert {
        return Vec::new();
    }
    frames.iter().filter_map(|k| jpeg(&k.image)).collect()
}

fn jpeg(image: &candor_core::BgrImage) -> Option<Vec<u8>> {
    let rgb: Vec<u8> = image
        .data
        .chunks_exact(3)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(
            &rgb,
            image.width,
            image.height,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| tracing::warn!(error = %e, "evidence frame not encoded"))
        .ok()?;
    Some(out)
}
