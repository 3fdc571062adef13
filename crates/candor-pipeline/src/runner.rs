//! One stream's run, from decoded frames to judged segments: the rules every stream
//! follows, whoever feeds it (a file's decoder thread or a live session's ingest
//! thread). A failed inference counts its frame as dropped and the stream goes on;
//! analysis time is kept per segment; state changes are found; alerting segments get
//! their face key frames when evidence capture is on; challenges run to their results
//! (a blink challenge raises the glance rate while it runs); the summary keeps its
//! maxima as segments arrive.

use std::time::Duration;

use candor_core::challenge::{ChallengeKind, ChallengeResult};
use candor_core::{Frame, FrameInfo, RiskState, SegmentReport, StateChange, StateTracker, Summary};
use candor_media::{DecodeEvent, GlanceRate};

use crate::error::PipelineError;
use crate::evidence::jpeg;
use crate::stream::{FrameTimings, StreamAnalyser};

/// A decoded frame for the runner, in stream order.
pub enum StreamInput {
    /// Not picked by the sampling policy.
    Skipped(FrameInfo),
    /// Picked, but analysis fell behind: counted, not analysed.
    Dropped(FrameInfo),
    /// Picked between analyses for a quick look at the eyes.
    Glance(Frame),
    /// Picked for analysis.
    Analyse(Frame),
}

impl From<DecodeEvent> for StreamInput {
    fn from(e: DecodeEvent) -> Self {
        match e {
            DecodeEvent::Skipped(info) => Self::Skipped(info),
            DecodeEvent::Glance(frame) => Self::Glance(frame),
            DecodeEvent::Sampled(frame) => Self::Analyse(frame),
        }
    }
}

/// What became of one input frame, for the caller's accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFate {
    Skipped,
    Dropped,
    Glanced,
    Analysed,
    /// Picked for analysis, but a model failed on it: counted as dropped.
    Failed,
}

/// A judged segment with what its consumers need beside the report.
#[derive(Debug)]
pub struct JudgedSegment {
    pub report: SegmentReport,
    /// Mean analysis time per analysed frame of the segment.
    pub analysis_time: Duration,
    /// Set when this segment changed the stream's state (see [`StateTracker`]).
    pub state_change: Option<StateChange>,
    /// JPEG face key frames of an alerting segment, when evidence capture is on.
    pub evidence: Vec<Vec<u8>>,
}

/// What the runner hands back, in the order it happened.
#[derive(Debug)]
pub enum StreamOutput {
    Segment(Box<JudgedSegment>),
    /// A challenge's window has been analysed.
    Challenge {
        id: String,
        result: Box<ChallengeResult>,
    },
}

pub struct StreamRunner {
    analyser: StreamAnalyser,
    timer: AnalysisTimer,
    states: StateTracker,
    glances: Option<GlanceBoost>,
    outputs: Vec<StreamOutput>,
    /// The first model failure, reported when nothing at all could be analysed.
    first_error: Option<PipelineError>,
    frames: u64,
}

impl StreamRunner {
    pub fn new(analyser: StreamAnalyser) -> Self {
        Self {
            analyser,
            timer: AnalysisTimer::default(),
            states: StateTracker::default(),
            glances: None,
            outputs: Vec::new(),
            first_error: None,
            frames: 0,
        }
    }

    /// Lets blink challenges raise `rate` (the decoder's glance rate) while they run.
    pub fn boost_glances(&mut self, rate: GlanceRate) {
        self.glances = Some(GlanceBoost::new(rate));
    }

    /// Starts a challenge with the next analysed frame; its result comes out once
    /// `window_us` of video has passed (or when the stream ends).
    pub fn start_challenge(&mut self, id: String, kind: ChallengeKind, window_us: i64) {
        if let Some(g) = &mut self.glances {
            g.started(kind);
        }
        self.analyser.start_challenge(id, kind, window_us);
    }

    /// Feeds one frame; segments and challenge results it completes are queued for
    /// [`Self::take_outputs`].
    pub fn push(&mut self, input: StreamInput) -> FrameFate {
        self.frames += 1;
        let (fate, report) = match input {
            StreamInput::Skipped(info) => (FrameFate::Skipped, self.analyser.skipped(info)),
            StreamInput::Dropped(info) => (FrameFate::Dropped, self.analyser.dropped(info)),
            StreamInput::Glance(frame) => (FrameFate::Glanced, self.analyser.glance(frame)),
            StreamInput::Analyse(frame) => {
                let info = frame.info.clone();
                match self.analyser.analyse(frame) {
                    Ok(report) => {
                        self.timer.add(self.analyser.last_timings());
                        (FrameFate::Analysed, report)
                    }
                    Err(e) => {
                        // One failed inference must not lose the rest of the stream.
                        tracing::warn!(pts_us = info.pts_us, error = %e, "frame analysis failed");
                        self.first_error.get_or_insert(e);
                        (FrameFate::Failed, self.analyser.dropped(info))
                    }
                }
            }
        };
        if let Some(report) = report {
            self.judged(report);
        }
        self.collect_challenges();
        fate
    }

    /// Ends the stream: the last segment and every open challenge are judged on what
    /// they saw. Returns the summary.
    pub fn finish(&mut self) -> Summary {
        if let Some(report) = self.analyser.close() {
            self.judged(report);
        }
        self.collect_challenges();
        self.analyser.summary()
    }

    /// Segments and challenge results ready since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<StreamOutput> {
        std::mem::take(&mut self.outputs)
    }

    /// Where the time went on the last analysed frame.
    pub fn last_timings(&self) -> &FrameTimings {
        self.analyser.last_timings()
    }

    /// Frames fed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The first model failure, if any frame failed.
    pub fn take_error(&mut self) -> Option<PipelineError> {
        self.first_error.take()
    }

    /// The session identity so far (see [`StreamAnalyser::session_identity`]).
    pub fn session_identity(&self) -> Option<Vec<f32>> {
        self.analyser.session_identity()
    }

    fn judged(&mut self, report: SegmentReport) {
        let key_frames = self.analyser.take_evidence(&report);
        // Crops of segments that did not alert are let go.
        let evidence = if report.assessment.state == RiskState::Alert {
            key_frames.iter().filter_map(|k| jpeg(&k.image)).collect()
        } else {
            Vec::new()
        };
        let segment = JudgedSegment {
            analysis_time: self.timer.take_mean(),
            state_change: self.states.observe(&report),
            report,
            evidence,
        };
        self.outputs.push(StreamOutput::Segment(Box::new(segment)));
    }

    fn collect_challenges(&mut self) {
        for (id, result) in self.analyser.take_challenge_results() {
            if let Some(g) = &mut self.glances {
                g.ended(result.kind);
            }
            self.outputs.push(StreamOutput::Challenge {
                id,
                result: Box::new(result),
            });
        }
    }
}

/// Accumulates analysis time between segment results.
#[derive(Default)]
struct AnalysisTimer {
    total: Duration,
    frames: u32,
}

impl AnalysisTimer {
    fn add(&mut self, t: &FrameTimings) {
        self.total += t.total;
        self.frames += 1;
    }

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

/// Glances per second while a blink challenge runs: on the development clips 15 finds
/// 13 of the 14 blinks that 30 finds, 10 only 9; a challenge window is short, so it
/// affords nearly every frame of a 25-30 fps camera.
pub const BLINK_GLANCE_FPS: f32 = 25.0;

/// A stream's glance rate: its configured level, raised while blink challenges run.
struct GlanceBoost {
    rate: GlanceRate,
    base_fps: f32,
    blink_challenges: usize,
}

impl GlanceBoost {
    fn new(rate: GlanceRate) -> Self {
        Self {
            base_fps: rate.get(),
            rate,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blink_challenges_raise_the_glance_rate_while_any_runs() {
        let rate = GlanceRate::new(5.0);
        let mut boost = GlanceBoost::new(rate.clone());
        boost.started(ChallengeKind::Blink);
        boost.started(ChallengeKind::Blink);
        boost.started(ChallengeKind::TurnHead);
        assert_eq!(rate.get(), BLINK_GLANCE_FPS);
        boost.ended(ChallengeKind::Blink);
        assert_eq!(
            rate.get(),
            BLINK_GLANCE_FPS,
            "one blink challenge still runs"
        );
        boost.ended(ChallengeKind::TurnHead);
        boost.ended(ChallengeKind::Blink);
        assert_eq!(rate.get(), 5.0);
    }

    #[test]
    fn analysis_time_is_the_mean_per_analysed_frame_since_the_last_segment() {
        let mut t = AnalysisTimer::default();
        assert_eq!(t.take_mean(), Duration::ZERO);
        for ms in [10, 30] {
            t.add(&FrameTimings {
                total: Duration::from_millis(ms),
                stages: Vec::new(),
            });
        }
        assert_eq!(t.take_mean(), Duration::from_millis(20));
        assert_eq!(t.take_mean(), Duration::ZERO);
    }
}
