//! Findings that hold. On an honest webcam a face-forgery reading or a live score can
//! cross its line for one segment (blur read as a blend boundary, a dim room or a
//! single usable frame read as a screen); an attack keeps crossing it. So in video
//! such an alert stands once its reason has reached `alert` in several segments in a
//! row, each read on enough frames; until then the segment is `suspicious` and says
//! why. A face-forgery finding waits the same before it is `suspicious` at all: its
//! detectors are weak, and single segments above their line are as common on real
//! webcams as on forged faces, while runs of them are not (the fit sets the lines on
//! runs). A still is one picture: nothing to wait for; nor is a live-score alert whose
//! picture behaves like a photo or a recording (frozen, looped, rigid), which is
//! evidence of its own. An identity alert holds once two checks in a row have seen
//! another person (in one segment or across segments): one check of a blurred or
//! half-turned face, or a glimpse of someone else in view, is not a new person in the
//! seat. Fed every judged segment in order, after the hysteresis.

use crate::codes;
use crate::config::{ConfirmConfig, PresenceThresholds};
use crate::fusion::settle;
use crate::risk::{Assessment, RiskState};
use crate::rules::picture_like;
use crate::segment::Segment;
use crate::signal::names;

/// What a reason's finding must hold for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// `segments` segments in a row, each read on `min_frames` frames or more.
    Segments,
    /// `min_frames` readings in a row, however the segments split them (identity checks
    /// come about once a second).
    Readings,
}

/// The reasons that must hold, how, and from which state on: a face-forgery reading
/// waits before it is even `suspicious` (an honest webcam's reading crosses that line
/// for a segment now and then, a forged face's keeps crossing it), the others only
/// before `alert`.
const CONFIRMED: [(&str, Hold, RiskState); 3] = [
    (codes::SYNTHETIC_FACE, Hold::Segments, RiskState::Suspicious),
    (codes::LIVENESS_LOW, Hold::Segments, RiskState::Alert),
    (codes::IDENTITY_CHANGED, Hold::Readings, RiskState::Alert),
];

/// How long a reason has held so far.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    /// Segments (or readings) in a row at `alert`.
    alert: u32,
    /// Segments in a row at `suspicious` or worse.
    flagged: u32,
}

#[derive(Debug, Clone)]
pub struct Confirmation {
    cfg: ConfirmConfig,
    presence: PresenceThresholds,
    runs: [Run; CONFIRMED.len()],
}

impl Confirmation {
    pub fn new(cfg: &ConfirmConfig, presence: &PresenceThresholds) -> Self {
        Self {
            cfg: cfg.clone(),
            presence: presence.clone(),
            runs: [Run::default(); CONFIRMED.len()],
        }
    }

    pub fn apply(&mut self, segment: &Segment, a: &mut Assessment) {
        let video = segment.signal(names::FRAME_CHANGE).is_some();
        let waits = video && self.cfg.segments > 1;
        let mut changed = false;
        for ((code, hold, from), run) in CONFIRMED.iter().zip(&mut self.runs) {
            // Reasons are sorted most severe first.
            let Some(at) = a
                .reasons
                .iter()
                .position(|r| r.code == *code && r.state >= RiskState::Suspicious)
            else {
                *run = Run::default();
                continue;
            };
            let reason = &mut a.reasons[at];
            let frames = reason
                .signal
                .as_deref()
                .and_then(|name| segment.signal(name))
                .map_or(0, |s| s.frames);
            let alert = reason.state == RiskState::Alert;
            let counts = frames >= self.cfg.min_frames;
            run.flagged = if counts { run.flagged + 1 } else { 0 };
            let alert_holds = match hold {
                Hold::Segments => {
                    run.alert = if alert && counts { run.alert + 1 } else { 0 };
                    run.alert >= self.cfg.segments
                }
                Hold::Readings => {
                    run.alert = if alert { run.alert + frames } else { 0 };
                    run.alert >= self.cfg.min_frames
                }
            };
            // A live score whose picture behaves like a photo or a recording is backed:
            // nothing to wait for (asked only of that reason).
            let backed = *code == codes::LIVENESS_LOW && picture_like(&self.presence, segment);
            if !waits || backed {
                continue;
            }
            if *from == RiskState::Suspicious && run.flagged < self.cfg.segments {
                // Not yet a finding: the segment's confidence still carries the reading.
                a.reasons.remove(at);
                changed = true;
                continue;
            }
            if !alert || alert_holds {
                continue;
            }
            reason.state = RiskState::Suspicious;
            reason.message.push_str(&match hold {
                Hold::Segments => format!(
                    "; alert once it holds {} segments in a row on {} frames or more each \
                     ({} so far)",
                    self.cfg.segments, self.cfg.min_frames, run.alert
                ),
                Hold::Readings => format!(
                    "; alert once {} checks in a row agree ({} so far)",
                    self.cfg.min_frames, run.alert
                ),
            });
            changed = true;
        }
        if changed {
            a.state = settle(&mut a.reasons, segment);
        }
    }
}
