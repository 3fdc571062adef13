//! The analysis state of one stream (a file, or a live session): tracker, segmenter,
//! fusion and summary. It is fed decoded frames in order and hands back judged segments.

use std::sync::Arc;
use std::time::{Duration, Instant};

use candor_core::{
    AnalysisConfig, FaceObservation, Frame, FrameEvent, FrameInfo, FrameObservation, Judge,
    SegmentReport, Segmenter, Summary, SummaryBuilder, crop_image,
};

use candor_core::baseline::SessionBaseline;
use candor_core::blink::BlinkDetector;
use candor_core::challenge::{
    ChallengeKind, ChallengeResult, ChallengeRules, ChallengeSample, ChallengeTracker,
};
use candor_core::config::IdentityConfig;
use candor_core::identity::{SessionIdentity, cosine, normalised};
use candor_core::identity_search::{self, IdentityMatch, IdentitySearch};
use candor_core::replay::LoopDetector;
use candor_core::signal::names;
use candor_core::{FaceDetection, Signal, Source};

use crate::analyser::{AnalysisFrame, eye_openness, mesh_signals};
use crate::engine::Engine;
use crate::error::PipelineError;
use crate::evidence::{EvidenceBuffer, KeyFrame};
use crate::motion::{FrameMotion, MotionTracker, mesh_deformation};
use crate::pulse_watch::PulseWatch;
use crate::tracker::{Tracker, TrackerConfig};

/// Wall time spent per model or measurement on the last analysed frame.
#[derive(Debug, Clone, Default)]
pub struct FrameTimings {
    pub total: Duration,
    /// (source name, time), the detector first.
    pub stages: Vec<(String, Duration)>,
}

pub struct StreamAnalyser {
    engine: Arc<Engine>,
    last_timings: FrameTimings,
    tracker: Tracker,
    segmenter: Segmenter,
    judge: Judge,
    baseline: SessionBaseline,
    identity: IdentityCheck,
    motion: MotionTracker,
    motion_source: Source,
    replay: ReplayCheck,
    replay_source: Source,
    eyes: EyeWatch,
    pulse: PulseWatch,
    /// Challenges in progress, by id, and results not yet taken.
    challenges: Vec<(String, ChallengeTracker)>,
    challenge_results: Vec<(String, ChallengeResult)>,
    /// The main face's mesh on the previous analysed frame, for rigid motion.
    last_mesh: Option<Vec<[f32; 3]>>,
    /// Face key frames, only while evidence capture is on.
    evidence: Option<EvidenceBuffer>,
    summary: SummaryBuilder,
}

fn motion_signals(m: &FrameMotion, source: &Source) -> Vec<Signal> {
    [
        (names::FRAME_CHANGE, Some(m.frame_change)),
        (names::FACE_MOTION, m.face_motion),
        (names::SHAPE_CHANGE, m.shape_change),
        (names::FACE_FLICKER, m.face_flicker),
        (names::RIGID_RESIDUAL, m.rigid_residual),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| Signal::new(name, v, source)))
    .collect()
}

/// Loop detection over every decoded frame, and its tally since the last analysed one.
#[derive(Default)]
struct ReplayCheck {
    detector: LoopDetector,
    /// (fingerprinted frames, of which looped) since the last analysed frame.
    tally: (u32, u32),
}

impl ReplayCheck {
    fn observe(&mut self, info: &FrameInfo) {
        if let Some(print) = &info.fingerprint {
            let looped = self
                .detector
                .push(info.pts_us, print.clone())
                .is_some_and(|m| m.looped);
            self.tally.0 += 1;
            self.tally.1 += u32::from(looped);
        }
    }

    /// The looped share since the last call; `None` without fingerprints.
    fn take_share(&mut self) -> Option<f32> {
        let (frames, looped) = std::mem::take(&mut self.tally);
        (frames > 0).then(|| looped as f32 / frames as f32)
    }
}

/// Blinks from the eye readings of analysed frames and glances, and their tally since
/// the last analysed frame.
#[derive(Default)]
struct EyeWatch {
    detector: BlinkDetector,
    /// (readings, blinks) since the last analysed frame.
    tally: (u32, u32),
    /// What the current frame showed: (eyes read, a blink ended), for challenges.
    now: (bool, bool),
}

impl EyeWatch {
    fn read(&mut self, pts_us: i64, openness: Option<f32>) {
        let blink = openness.is_some_and(|e| self.detector.push(pts_us, e).is_some());
        self.now = (openness.is_some(), blink);
        self.tally.0 += u32::from(openness.is_some());
        self.tally.1 += u32::from(blink);
    }

    /// Blinks since the last call, when glances read the eyes often enough to count
    /// them (at 2 analysed frames a second alone most blinks fall between frames).
    fn take_blinks(&mut self) -> Option<f32> {
        let (readings, blinks) = std::mem::take(&mut self.tally);
        (readings >= MIN_READINGS_FOR_BLINKS).then_some(blinks as f32)
    }
}

/// Eye readings between two analysed frames (0.5 s apart) from which blinks are
/// counted: 4 readings is 8 a second, with glances on.
const MIN_READINGS_FOR_BLINKS: u32 = 4;

/// When to embed the main face, and the session identity the embeddings build.
struct IdentityCheck {
    session: SessionIdentity,
    /// The candidate's enrolled identity (unit vector), when the session verifies
    /// against one.
    candidate: Option<Vec<f32>>,
    /// Asked once, when the session identity is established: other candidates and the
    /// blocklist that face matches.
    search: Option<Box<dyn IdentitySearch>>,
    /// What the search found; every segment judged from then on carries it.
    matches: Vec<IdentityMatch>,
    cfg: IdentityConfig,
    last_at_us: Option<i64>,
    last_track: Option<u32>,
}

impl IdentityCheck {
    fn new(cfg: &IdentityConfig) -> Self {
        Self {
            session: SessionIdentity::new(cfg.enrol_embeddings as usize, cfg.different_below),
            candidate: None,
            search: None,
            matches: Vec::new(),
            cfg: cfg.clone(),
            last_at_us: None,
            last_track: None,
        }
    }

    /// Due at most once per interval, and at once when the main face's track changes;
    /// never on faces too small to embed reliably.
    fn due(&self, pts_us: i64, track: Option<u32>, face: &FaceDetection) -> bool {
        if face.bbox.w < self.cfg.min_face_width_px {
            return false;
        }
        let interval = i64::from(self.cfg.interval_ms) * 1000;
        track != self.last_track
            || self
                .last_at_us
                .is_none_or(|t| pts_us < t || pts_us - t >= interval)
    }
}

impl StreamAnalyser {
    pub fn new(engine: Arc<Engine>, cfg: &AnalysisConfig) -> Self {
        Self {
            engine,
            last_timings: FrameTimings::default(),
            tracker: Tracker::new(TrackerConfig::default()),
            segmenter: Segmenter::new(&cfg.segment, &cfg.quality),
            judge: Judge::new(cfg),
            baseline: SessionBaseline::new(&names::SESSION_RELATIVE),
            identity: IdentityCheck::new(&cfg.identity),
            motion: MotionTracker::default(),
            motion_source: Source::new("frame_motion", "1"),
            replay: ReplayCheck::default(),
            replay_source: Source::new("frame_replay", "1"),
            eyes: EyeWatch::default(),
            pulse: PulseWatch::default(),
            evidence: None,
            last_mesh: None,
            challenges: Vec::new(),
            challenge_results: Vec::new(),
            summary: SummaryBuilder::default(),
        }
    }

    /// Compares every embedded face with `reference`, the candidate's enrolled identity
    /// embedding (same identity model), from now on: each check adds a
    /// `candidate_similarity` signal. A zero or non-finite reference is ignored.
    pub fn verify_against(&mut self, reference: Vec<f32>) {
        self.identity.candidate = normalised(reference);
    }

    /// Searches the session identity with `search` once it is established (see
    /// [`candor_core::identity_search`]); a match adds its reason at `alert` to that
    /// segment and every later one.
    pub fn search_identity_with(&mut self, search: Box<dyn IdentitySearch>) {
        self.identity.search = Some(search);
    }

    /// The session's identity so far: the unit mean of its consistent embeddings (see
    /// [`SessionIdentity`]), what a first round enrols. `None` until enough good faces
    /// were embedded, or without an identity model.
    pub fn session_identity(&self) -> Option<Vec<f32>> {
        self.identity.session.reference().map(<[f32]>::to_vec)
    }

    /// Adds a rule to this stream's fusion (e.g. session context the stream alone
    /// cannot see).
    pub fn add_rule(&mut self, rule: Box<dyn candor_core::RiskRule>) {
        self.judge.push(rule);
    }

    /// Starts a challenge with the next analysed frame; its result comes from
    /// [`StreamAnalyser::take_challenge_results`] once `window_us` of video has passed.
    pub fn start_challenge(&mut self, id: String, kind: ChallengeKind, window_us: i64) {
        let tracker = ChallengeTracker::new(kind, window_us, ChallengeRules::default());
        self.challenges.push((id, tracker));
    }

    /// Results of challenges whose window has passed (or, after [`Self::close`], of
    /// every open one).
    pub fn take_challenge_results(&mut self) -> Vec<(String, ChallengeResult)> {
        std::mem::take(&mut self.challenge_results)
    }

    fn feed_challenges(&mut self, obs: &FrameObservation) {
        if self.challenges.is_empty() {
            return;
        }
        let face = obs.main_face();
        let value = |name: &str| {
            face.and_then(|f| f.signals.iter().find(|s| s.name == name))
                .map(|s| s.value)
        };
        let sample = ChallengeSample {
            pts_us: obs.info.pts_us,
            face: face.is_some(),
            yaw: value(names::HEAD_YAW),
            pitch: value(names::HEAD_PITCH),
            identity_similarity: value(names::IDENTITY_SIMILARITY),
            liveness: value(names::LIVENESS),
            eyes_read: self.eyes.now.0,
            blink: self.eyes.now.1,
        };
        self.push_challenge_sample(sample);
    }

    fn push_challenge_sample(&mut self, sample: ChallengeSample) {
        let mut open = Vec::with_capacity(self.challenges.len());
        for (id, mut t) in std::mem::take(&mut self.challenges) {
            match t.push(sample) {
                Some(result) => self.challenge_results.push((id, result)),
                None => open.push((id, t)),
            }
        }
        self.challenges = open;
    }

    /// Keeps face key frames from now on, for [`StreamAnalyser::take_evidence`].
    pub fn capture_evidence(&mut self) {
        self.evidence.get_or_insert_with(EvidenceBuffer::default);
    }

    /// The face key frames of a judged segment (none unless capture is on). Call it
    /// for every segment, so crops of segments nobody wants are let go.
    pub fn take_evidence(&mut self, report: &SegmentReport) -> Vec<KeyFrame> {
        let s = &report.segment;
        self.evidence
            .as_mut()
            .map(|b| b.take(s.start_us, s.end_us))
            .unwrap_or_default()
    }

    /// A decoded frame that the sampling policy did not pick.
    pub fn skipped(&mut self, info: FrameInfo) -> Option<SegmentReport> {
        self.replay.observe(&info);
        self.push(FrameEvent::Skipped(info))
    }

    /// A sampled frame that was dropped because analysis fell behind.
    pub fn dropped(&mut self, info: FrameInfo) -> Option<SegmentReport> {
        self.replay.observe(&info);
        self.push(FrameEvent::Dropped(info))
    }

    /// Damaged media skipped just before the frame with this info (a picture, or `n`
    /// stream packets): counted in the segment, nothing to look at.
    pub fn undecodable(&mut self, info: FrameInfo, n: u32) -> Option<SegmentReport> {
        self.push(FrameEvent::Undecodable(info, n))
    }

    /// A frame picked between analyses for a quick look at the eyes (blinks): the face
    /// mesh runs on the main face where the last analysed frame found it, nothing else.
    /// A failed look is no reading, never an error: the frame still counts as decoded.
    pub fn glance(&mut self, frame: Frame) -> Option<SegmentReport> {
        self.replay.observe(&frame.info);
        let pts_us = frame.info.pts_us;
        if let Some(face) = self.motion.last_face().copied() {
            let image = Arc::new(frame.image);
            let reading = match self.engine.mesh(image.clone(), &face) {
                Ok(Some((mesh, pose, _))) => {
                    self.pulse.observe(pts_us, &image, &mesh.points, 1.0);
                    Some((eye_openness(&mesh), pose))
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::debug!("glance at {pts_us} us: {e}");
                    None
                }
            };
            if let Some((eye, pose)) = reading {
                self.eyes.read(pts_us, eye);
                if !self.challenges.is_empty() {
                    self.push_challenge_sample(ChallengeSample {
                        pts_us,
                        face: true,
                        yaw: pose.map(|p| p.yaw),
                        pitch: pose.map(|p| p.pitch),
                        eyes_read: self.eyes.now.0,
                        blink: self.eyes.now.1,
                        ..Default::default()
                    });
                }
            }
        }
        self.push(FrameEvent::Skipped(frame.info))
    }

    /// Runs the models on a sampled frame. A model failure is an error for this frame
    /// only; the stream can go on.
    pub fn analyse(&mut self, frame: Frame) -> Result<Option<SegmentReport>, PipelineError> {
        let obs = self.observe(frame)?;
        self.feed_challenges(&obs);
        Ok(self.push(FrameEvent::Analysed(obs)))
    }

    /// Closes and judges the last segment, keeping the analyser (for its summary and
    /// evidence).
    pub fn close(&mut self) -> Option<SegmentReport> {
        // The stream ended: open challenges are judged on what they saw.
        for (id, t) in std::mem::take(&mut self.challenges) {
            self.challenge_results.push((id, t.finish()));
        }
        self.segmenter.finish().map(|s| self.judge(s))
    }

    /// Where the time went on the last analysed frame.
    pub fn last_timings(&self) -> &FrameTimings {
        &self.last_timings
    }

    /// The summary so far.
    pub fn summary(&self) -> Summary {
        self.summary.build()
    }

    fn observe(&mut self, frame: Frame) -> Result<FrameObservation, PipelineError> {
        let started = Instant::now();
        let mut stages = Vec::with_capacity(1 + self.engine.analysers().len());
        let to_source = frame.to_source_scale();
        let image = Arc::new(frame.image);
        // Faces are found and tracked at the working size; every model and measurement
        // of the main face reads the full-resolution picture, when the frame has one.
        let (crop_image, to_crop) = crop_image(&image, frame.source.as_ref());
        let detections = self.engine.detect(image.clone())?;
        stages.push((self.engine.detector_name().to_owned(), started.elapsed()));
        let tracked = self.tracker.update(&detections);
        let main_face = tracked.main.map(|i| &detections[i]);
        let t = Instant::now();
        let motion = self.motion.observe(&image, main_face);
        stages.push((self.motion_source.name.clone(), t.elapsed()));
        self.replay.observe(&frame.info);
        let looped = self.replay.take_share();
        if let (Some(buf), Some(face)) = (&mut self.evidence, main_face) {
            buf.offer(frame.info.pts_us, &image, &face.bbox);
        }
        let af = AnalysisFrame {
            image: crop_image,
            to_source: to_source / to_crop,
        };
        let mut faces = Vec::with_capacity(detections.len());
        for (i, det) in detections.iter().enumerate() {
            let mut signals = Vec::new();
            if tracked.main == Some(i) {
                let crop_det = det.scaled(to_crop);
                for a in self.engine.analysers() {
                    let t = Instant::now();
                    signals.extend(a.analyse(&af, &crop_det)?);
                    stages.push((a.name().to_owned(), t.elapsed()));
                }
                if let Some(m) = &motion {
                    signals.extend(motion_signals(m, &self.motion_source));
                }
                if let Some(share) = looped {
                    signals.push(Signal::new(names::LOOPED, share, &self.replay_source));
                }
                let mut eye = None;
                let t = Instant::now();
                let reading = self.engine.mesh(af.image.clone(), &crop_det)?;
                if let Some(source) = self.engine.mesh_source() {
                    stages.push((source.name.clone(), t.elapsed()));
                }
                if let Some((mesh, pose, source)) = reading {
                    signals.extend(mesh_signals(&mesh, pose, source));
                    // The pulse compares frames with each other, glances included: its
                    // skin patches are read at the working size, as the glances read them.
                    self.pulse
                        .observe(frame.info.pts_us, &image, &mesh.points, 1.0 / to_crop);
                    eye = eye_openness(&mesh);
                    if let Some(d) = self
                        .last_mesh
                        .as_ref()
                        .and_then(|prev| mesh_deformation(prev, &mesh.points))
                    {
                        signals.push(Signal::new(names::MESH_DEFORMATION, d, source));
                    }
                    self.last_mesh = Some(mesh.points);
                } else {
                    self.last_mesh = None;
                }
                self.eyes.read(frame.info.pts_us, eye);
                signals.extend(self.pulse.signals(frame.info.pts_us));
                // Eyes are only read by the mesh, so counted blinks always have its source.
                if let (Some(n), Some(source)) =
                    (self.eyes.take_blinks(), self.engine.mesh_source())
                {
                    signals.push(Signal::new(names::BLINKS, n, source));
                }
                let track = Some(tracked.track_ids[i]);
                if self.identity.due(frame.info.pts_us, track, det) {
                    let t = Instant::now();
                    if let Some((embedding, source)) =
                        self.engine.embed(af.image.clone(), crop_det)?
                    {
                        let id = &mut self.identity;
                        (id.last_at_us, id.last_track) = (Some(frame.info.pts_us), track);
                        let established = id.session.is_enrolled();
                        if let Some(sim) = id.session.observe(&embedding) {
                            signals.push(Signal::new(names::IDENTITY_SIMILARITY, sim, source));
                        }
                        if let (false, Some(reference), Some(search)) =
                            (established, id.session.reference(), id.search.as_mut())
                        {
                            id.matches = search.search(reference);
                        }
                        if let Some(reference) = &id.candidate {
                            let sim = cosine(reference, &embedding);
                            signals.push(Signal::new(names::CANDIDATE_SIMILARITY, sim, source));
                        }
                        stages.push((source.name.clone(), t.elapsed()));
                    }
                }
            }
            faces.push(FaceObservation {
                track_id: tracked.track_ids[i],
                // Results report positions in the source frame, not the working size.
                detection: det.scaled(to_source),
                signals,
            });
        }
        self.last_timings = FrameTimings {
            total: started.elapsed(),
            stages,
        };
        Ok(FrameObservation {
            info: frame.info,
            main_track: tracked.main.map(|i| tracked.track_ids[i]),
            faces,
            picture_luma: self.motion.picture_luma(),
        })
    }

    fn push(&mut self, event: FrameEvent) -> Option<SegmentReport> {
        self.segmenter.push(event).map(|s| self.judge(s))
    }

    fn judge(&mut self, mut segment: candor_core::Segment) -> SegmentReport {
        self.baseline.annotate(&mut segment);
        let mut assessment = self.judge.judge(&segment);
        identity_search::apply(&self.identity.matches, &mut assessment);
        let report = SegmentReport {
            segment,
            assessment,
        };
        self.summary.add(&report);
        report
    }
}
