//! One stream's run, from decoded frames to judged segments: the rules every stream
//! follows, whoever feeds it (a file's decoder thread or a live session's ingest
//! thread). A failed inference counts its frame as dropped and the stream goes on;
//! analysis time is kept per segment; state changes are found; alerting segments get
//! their face key frames when evidence capture is on; challenges run to their results;
//! the glance rate follows the stream (see [`GlanceControl`]); the summary keeps its
//! maxima as segments arrive.

use std::time::Duration;

use candor_core::challenge::{ChallengeKind, ChallengeResult};
use candor_core::{Frame, FrameInfo, RiskState, SegmentReport, StateChange, StateTracker, Summary};
use candor_media::{DecodeEvent, GlancePlan, GlanceRate};

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
    /// Damaged media skipped just before the frame with this info: a picture that
    /// did not decode, or this many stream packets. Counted, nothing to analyse.
    Undecodable(FrameInfo, u32),
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
    /// Damaged media: counted in the segment, never decoded.
    Undecodable,
}

/// A judged segment with what its consumers need beside the report.
#[derive(Debug)]
pub struct JudgedSegment {
    pub report: SegmentReport,
    /// Mean analysis time per analysed frame of the segment.
    pub analysis_time: Duration,
    /// The same per model or measurement (detector first), for traces.
    pub stage_times: Vec<(String, Duration)>,
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
    glances: Option<GlanceControl>,
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

    /// Lets the runner set `rate` (this stream's decoder's glance rate) by `plan`,
    /// starting at its idle rate.
    pub fn adapt_glances(&mut self, rate: GlanceRate, plan: GlancePlan) {
        self.glances = Some(GlanceControl::new(rate, plan));
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
        if !matches!(input, StreamInput::Undecodable(..)) {
            self.frames += 1;
        }
        let (fate, report) = match input {
            StreamInput::Skipped(info) => (FrameFate::Skipped, self.analyser.skipped(info)),
            StreamInput::Dropped(info) => (FrameFate::Dropped, self.analyser.dropped(info)),
            StreamInput::Undecodable(info, n) => {
                (FrameFate::Undecodable, self.analyser.undecodable(info, n))
            }
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
        if let Some(g) = &mut self.glances {
            g.judged(report.assessment.state);
        }
        let (analysis_time, stage_times) = self.timer.take_means();
        let segment = JudgedSegment {
            analysis_time,
            stage_times,
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

/// Accumulates analysis time between segment results, in all and per stage.
#[derive(Default)]
struct AnalysisTimer {
    total: Duration,
    /// Per stage, in the order stages first ran.
    stages: Vec<(String, Duration)>,
    frames: u32,
}

impl AnalysisTimer {
    fn add(&mut self, t: &FrameTimings) {
        self.total += t.total;
        self.frames += 1;
        for (name, d) in &t.stages {
            match self.stages.iter_mut().find(|(n, _)| n == name) {
                Some((_, sum)) => *sum += *d,
                None => self.stages.push((name.clone(), *d)),
            }
        }
    }

    /// Mean time per analysed frame since the last call, in all and per stage.
    fn take_means(&mut self) -> (Duration, Vec<(String, Duration)>) {
        let taken = std::mem::take(self);
        if taken.frames == 0 {
            return (Duration::ZERO, Vec::new());
        }
        let stages = (taken.stages.into_iter())
            .map(|(name, sum)| (name, sum / taken.frames))
            .collect();
        (taken.total / taken.frames, stages)
    }
}

/// Glances per second while a blink challenge runs: on the development clips 15 finds
/// 13 of the 14 blinks that 30 finds, 10 only 9; a challenge window is short, so it
/// affords nearly every frame of a 25-30 fps camera.
pub const BLINK_GLANCE_FPS: f32 = 25.0;

/// A stream's glance rate. Glances read the eyes (blinks) and the skin (pulse) between
/// analysed frames; outside blink challenges no rule decides on them, and at 15 a
/// second they were about 30 % of a 720p stream's CPU. So they run at the plan's
/// watchful rate only while the last segment was suspicious or alert (its evidence
/// then carries the blink count and pulse), at its idle rate otherwise, and at
/// [`BLINK_GLANCE_FPS`] or more while a blink challenge runs.
struct GlanceControl {
    rate: GlanceRate,
    plan: GlancePlan,
    watchful: bool,
    blink_challenges: usize,
}

impl GlanceControl {
    fn new(rate: GlanceRate, plan: GlancePlan) -> Self {
        let control = Self {
            rate,
            plan,
            watchful: false,
            blink_challenges: 0,
        };
        control.apply();
        control
    }

    fn apply(&self) {
        let mut fps = if self.watchful {
            self.plan.watchful_fps.max(self.plan.idle_fps)
        } else {
            self.plan.idle_fps
        };
        if self.blink_challenges > 0 {
            fps = fps.max(BLINK_GLANCE_FPS);
        }
        self.rate.set(fps);
    }

    fn judged(&mut self, state: RiskState) {
        self.watchful = matches!(state, RiskState::Suspicious | RiskState::Alert);
        self.apply();
    }

    fn started(&mut self, kind: ChallengeKind) {
        if kind == ChallengeKind::Blink {
            self.blink_challenges += 1;
            self.apply();
        }
    }

    fn ended(&mut self, kind: ChallengeKind) {
        if kind == ChallengeKind::Blink {
            self.blink_challenges = self.blink_challenges.saturating_sub(1);
            self.apply();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: GlancePlan = GlancePlan {
        watchful_fps: 15.0,
        idle_fps: 2.0,
    };

    #[test]
    fn blink_challenges_raise_the_glance_rate_while_any_runs() {
        let rate = GlanceRate::new(0.0);
        let mut control = GlanceControl::new(rate.clone(), PLAN);
        assert_eq!(rate.get(), 2.0, "starts idle");
        control.started(ChallengeKind::Blink);
        control.started(ChallengeKind::Blink);
        control.started(ChallengeKind::TurnHead);
        assert_eq!(rate.get(), BLINK_GLANCE_FPS);
        control.ended(ChallengeKind::Blink);
        assert_eq!(
            rate.get(),
            BLINK_GLANCE_FPS,
            "one blink challenge still runs"
        );
        control.judged(RiskState::Alert);
        assert_eq!(
            rate.get(),
            BLINK_GLANCE_FPS,
            "a challenge outranks the state"
        );
        control.ended(ChallengeKind::TurnHead);
        control.ended(ChallengeKind::Blink);
        assert_eq!(rate.get(), 15.0, "back to the state's rate");
    }

    #[test]
    fn glances_run_at_the_watchful_rate_only_while_a_stream_is_in_doubt() {
        let rate = GlanceRate::new(0.0);
        let mut control = GlanceControl::new(rate.clone(), PLAN);
        for (state, fps) in [
            (RiskState::Clear, 2.0),
            (RiskState::Suspicious, 15.0),
            (RiskState::Alert, 15.0),
            (RiskState::Inconclusive, 2.0),
            (RiskState::Clear, 2.0),
        ] {
            control.judged(state);
            assert_eq!(rate.get(), fps, "{state:?}");
        }
    }

    #[test]
    fn analysis_time_is_the_mean_per_analysed_frame_since_the_last_segment() {
        let mut t = AnalysisTimer::default();
        assert_eq!(t.take_means(), (Duration::ZERO, Vec::new()));
        let ms = Duration::from_millis;
        for (total, detector) in [(10, 4), (30, 8)] {
            t.add(&FrameTimings {
                total: ms(total),
                stages: vec![("yunet".into(), ms(detector)), ("sface".into(), ms(2))],
            });
        }
        let (mean, stages) = t.take_means();
        assert_eq!(mean, ms(20));
        assert_eq!(
            stages,
            vec![("yunet".to_owned(), ms(6)), ("sface".to_owned(), ms(2))]
        );
        assert_eq!(t.take_means(), (Duration::ZERO, Vec::new()));
    }
}
