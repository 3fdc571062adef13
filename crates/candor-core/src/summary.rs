//! Judged segments, the changes of state they make, and the whole-recording summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::risk::{Assessment, Reason, RiskState};
use crate::segment::{FrameCounts, Segment};
use crate::signal::names;

/// A segment with its judgement: what `analyze` prints and the service streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentReport {
    #[serde(flatten)]
    pub segment: Segment,
    #[serde(flatten)]
    pub assessment: Assessment,
}

/// One reason as it appears over a whole recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonTally {
    pub code: String,
    pub state: RiskState,
    /// Segments that carried this reason.
    pub segments: u32,
    /// Share (0..1) of the recording's time in those segments (by segment count when
    /// the recording has no duration, e.g. a still): how long the problem lasted.
    #[serde(default)]
    pub time_share: f32,
    /// The message of the first segment that carried it.
    pub example: String,
}

/// Whole-recording (or whole-session) summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub segments: u32,
    pub duration_us: i64,
    pub worst_state: RiskState,
    /// Share of time spent in each state, 0..1; every state is present.
    pub time_share: BTreeMap<RiskState, f32>,
    pub counts: FrameCounts,
    /// Mean live score over every usable frame, when any was scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_liveness: Option<f32>,
    /// The highest fused attack score of any segment (`attack_score`); absent when no
    /// segment measured one. Older stored summaries call it `max_synthetic_confidence`.
    #[serde(
        default,
        alias = "max_synthetic_confidence",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_attack_score: Option<f32>,
    /// Median, over the segments that verified it, of each segment's median similarity
    /// to the candidate's enrolled identity; absent when the session was not verified
    /// against an enrolment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_similarity: Option<f32>,
    /// Reasons, most severe first, then most frequent.
    pub reasons: Vec<ReasonTally>,
    /// Blinks counted over the segments that counted them (`blinks` signal); absent
    /// when the eyes were never glanced at often enough to count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blinks: Option<u32>,
}

impl Summary {
    /// The summary of judged segments, in order: what a stored session or job sums up
    /// to when only its segments are at hand (a session cut short, a report).
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a SegmentReport>) -> Self {
        let mut b = SummaryBuilder::default();
        reports.into_iter().for_each(|r| b.add(r));
        b.build()
    }
}

/// A change of a stream's state: the first segment that is not clear, then every
/// segment whose state differs from the one before. What a badge animates and a
/// recruiter is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    /// `None` for the stream's first judged segment.
    pub from: Option<RiskState>,
    pub to: RiskState,
}

/// Finds state changes, fed every judged segment in order.
#[derive(Debug, Default)]
pub struct StateTracker {
    previous: Option<RiskState>,
}

impl StateTracker {
    pub fn observe(&mut self, report: &SegmentReport) -> Option<StateChange> {
        let to = report.assessment.state;
        let from = self.previous.replace(to);
        let changed = match from {
            Some(from) => from != to,
            None => to != RiskState::Clear,
        };
        changed.then_some(StateChange { from, to })
    }
}

/// Builds a `Summary` incrementally, as segments arrive.
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    segments: u32,
    durations: BTreeMap<RiskState, i64>,
    state_segments: BTreeMap<RiskState, u32>,
    counts: FrameCounts,
    liveness_sum: f64,
    liveness_frames: u64,
    max_attack_score: Option<f32>,
    candidate_medians: Vec<f32>,
    reasons: Vec<ReasonTally>,
    /// Time in the segments that carried each reason, in `reasons`' order.
    reason_us: Vec<i64>,
    blinks: Option<u32>,
    worst: Option<RiskState>,
}

impl SummaryBuilder {
    pub fn add(&mut self, report: &SegmentReport) {
        let s = &report.segment;
        let state = report.assessment.state;
        self.segments += 1;
        *self.durations.entry(state).or_default() += s.duration_us();
        *self.state_segments.entry(state).or_default() += 1;
        self.worst = Some(self.worst.map_or(state, |w| w.max(state)));
        let c = &mut self.counts;
        c.decoded += s.counts.decoded;
        c.analysed += s.counts.analysed;
        c.dropped += s.counts.dropped;
        c.undecodable += s.counts.undecodable;
        c.one_face += s.counts.one_face;
        c.no_face += s.counts.no_face;
        c.several_faces += s.counts.several_faces;
        c.usable += s.counts.usable;
        if let Some(l) = s.signal(names::LIVENESS) {
            self.liveness_sum += f64::from(l.mean) * f64::from(l.frames);
            self.liveness_frames += u64::from(l.frames);
        }
        if let Some(a) = report.assessment.attack_score {
            self.max_attack_score = Some(self.max_attack_score.map_or(a, |m| m.max(a)));
        }
        if let Some(c) = s.signal(names::CANDIDATE_SIMILARITY) {
            self.candidate_medians.push(c.median);
        }
        if let Some(b) = s.signal(names::BLINKS) {
            let n = (b.mean * b.frames as f32).round() as u32;
            *self.blinks.get_or_insert(0) += n;
        }
        for r in &report.assessment.reasons {
            self.tally(r, s.duration_us());
        }
    }

    fn tally(&mut self, r: &Reason, duration_us: i64) {
        match self
            .reasons
            .iter()
            .position(|t| t.code == r.code && t.state == r.state)
        {
            Some(i) => {
                self.reasons[i].segments += 1;
                self.reason_us[i] += duration_us;
            }
            None => {
                self.reasons.push(ReasonTally {
                    code: r.code.clone(),
                    state: r.state,
                    segments: 1,
                    time_share: 0.0,
                    example: r.message.clone(),
                });
                self.reason_us.push(duration_us);
            }
        }
    }

    pub fn build(&self) -> Summary {
        let duration_us: i64 = self.durations.values().sum();
        // Stills and single frames have no duration: share by segment count instead.
        let time_share = RiskState::ALL
            .into_iter()
            .map(|st| {
                let share = if duration_us > 0 {
                    *self.durations.get(&st).unwrap_or(&0) as f32 / duration_us as f32
                } else if self.segments > 0 {
                    *self.state_segments.get(&st).unwrap_or(&0) as f32 / self.segments as f32
                } else {
                    0.0
                };
                (st, share)
            })
            .collect();
        let mut reasons = self.reasons.clone();
        for (t, us) in reasons.iter_mut().zip(&self.reason_us) {
            t.time_share = if duration_us > 0 {
                *us as f32 / duration_us as f32
            } else {
                t.segments as f32 / self.segments.max(1) as f32
            };
        }
        reasons.sort_by(|a, b| b.state.cmp(&a.state).then(b.segments.cmp(&a.segments)));
        Summary {
            segments: self.segments,
            duration_us,
            // No segment at all means nothing could be judged.
            worst_state: self.worst.unwrap_or(RiskState::Inconclusive),
            time_share,
            counts: self.counts,
            mean_liveness: (self.liveness_frames > 0)
                .then(|| (self.liveness_sum / self.liveness_frames as f64) as f32),
            max_attack_score: self.max_attack_score,
            candidate_similarity: median(&self.candidate_medians),
            reasons,
            blinks: self.blinks,
        }
    }
}

fn median(values: &[f32]) -> Option<f32> {
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AnalysisConfig;
    use crate::fusion::Fusion;
    use crate::testing;

    fn report(index: u32, dur: i64, live: f32) -> SegmentReport {
        let mut segment = testing::segment(4, 4, 0, Some(live));
        segment.index = index;
        segment.start_us = i64::from(index) * 2_000_000;
        segment.end_us = segment.start_us + dur;
        let assessment = Fusion::from_config(&AnalysisConfig::default()).assess(&segment);
        SegmentReport {
            segment,
            assessment,
        }
    }

    #[test]
    fn summary_shares_and_worst_state() {
        let mut b = SummaryBuilder::default();
        b.add(&report(0, 2_000_000, 0.9));
        b.add(&report(1, 2_000_000, 0.1));
        b.add(&report(2, 1_000_000, 0.9));
        let s = b.build();
        assert_eq!(s.segments, 3);
        assert_eq!(s.worst_state, RiskState::Alert);
        assert_eq!(s.duration_us, 5_000_000);
        assert!((s.time_share[&RiskState::Clear] - 0.6).abs() < 1e-6);
        assert!((s.time_share[&RiskState::Alert] - 0.4).abs() < 1e-6);
        assert_eq!(s.time_share[&RiskState::Suspicious], 0.0);
        assert_eq!(s.counts.decoded, 150);
        assert!((s.mean_liveness.unwrap() - (0.9 + 0.1 + 0.9) / 3.0).abs() < 1e-6);
        assert_eq!(s.reasons[0].code, "liveness_low");
        assert!((s.reasons[0].time_share - 0.4).abs() < 1e-6);
        assert_eq!(
            (s.reasons[1].code.as_str(), s.reasons[1].segments),
            ("live_face", 2)
        );
        assert!((s.reasons[1].time_share - 0.6).abs() < 1e-6);
        assert_eq!(s.blinks, None);
    }

    #[test]
    fn blinks_add_up_over_the_segments_that_counted_them() {
        let mut b = SummaryBuilder::default();
        b.add(&report(0, 2_000_000, 0.9));
        for (i, (mean, frames)) in [(0.25, 4), (0.5, 4)].into_iter().enumerate() {
            let mut r = report(i as u32 + 1, 2_000_000, 0.9);
            let mut st = r.segment.signals[0].clone();
            (st.name, st.mean, st.frames) = (names::BLINKS.into(), mean, frames);
            r.segment.signals.push(st);
            b.add(&r);
        }
        assert_eq!(b.build().blinks, Some(3));
    }

    #[test]
    fn candidate_similarity_is_the_median_of_segment_medians() {
        let mut b = SummaryBuilder::default();
        b.add(&report(0, 2_000_000, 0.9));
        assert_eq!(b.build().candidate_similarity, None);
        for (i, m) in [0.7, 0.2, 0.6].into_iter().enumerate() {
            let mut r = report(i as u32 + 1, 2_000_000, 0.9);
            let mut st = r.segment.signals[0].clone();
            st.name = names::CANDIDATE_SIMILARITY.into();
            st.median = m;
            r.segment.signals.push(st);
            b.add(&r);
        }
        assert_eq!(b.build().candidate_similarity, Some(0.6));
    }

    #[test]
    fn the_highest_attack_score_is_kept() {
        let mut reports: Vec<SegmentReport> = (0..3).map(|i| report(i, 2_000_000, 0.9)).collect();
        for (r, score) in reports.iter_mut().zip([Some(0.2), None, Some(0.7)]) {
            r.assessment.attack_score = score;
        }
        assert_eq!(Summary::from_reports(&reports).max_attack_score, Some(0.7));
        assert_eq!(Summary::from_reports(&reports[1..2]).max_attack_score, None);
    }

    #[test]
    fn old_stored_summaries_keep_their_maximum() {
        let mut v =
            serde_json::to_value(Summary::from_reports(&[report(0, 2_000_000, 0.9)])).unwrap();
        v.as_object_mut().unwrap().remove("max_attack_score");
        v["max_synthetic_confidence"] = serde_json::json!(0.25);
        let s: Summary = serde_json::from_value(v).unwrap();
        assert_eq!(s.max_attack_score, Some(0.25));
    }

    #[test]
    fn state_changes_start_at_the_first_unclear_segment() {
        use RiskState::*;
        let mut t = StateTracker::default();
        let mut seen = Vec::new();
        for (i, live) in [0.9, 0.9, 0.1, 0.1, 0.55, 0.9].into_iter().enumerate() {
            seen.push(t.observe(&report(i as u32, 2_000_000, live)));
        }
        let change = |from, to| Some(StateChange { from, to });
        assert_eq!(
            seen,
            [
                None,
                None,
                change(Some(Clear), Alert),
                None,
                change(Some(Alert), Suspicious),
                change(Some(Suspicious), Clear),
            ]
        );
        let mut first = StateTracker::default();
        assert_eq!(
            first.observe(&report(0, 2_000_000, 0.1)),
            change(None, Alert)
        );
    }

    #[test]
    fn empty_summary_is_inconclusive() {
        let s = SummaryBuilder::default().build();
        assert_eq!(s.worst_state, RiskState::Inconclusive);
        assert_eq!(s.segments, 0);
    }

    #[test]
    fn still_image_shares_by_segment() {
        let mut b = SummaryBuilder::default();
        b.add(&report(0, 0, 0.1));
        assert_eq!(b.build().time_share[&RiskState::Alert], 1.0);
    }

    #[test]
    fn report_serialises_flat() {
        let v = serde_json::to_value(report(0, 2_000_000, 0.9)).unwrap();
        assert_eq!(v["state"], "clear");
        assert_eq!(v["index"], 0);
        assert_eq!(v["counts"]["decoded"], 50);
    }
}
