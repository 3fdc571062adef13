//! Alerts that hold. On an honest webcam a face-forgery reading or a live score can
//! cross its alert line for one segment (blur read as a blend boundary, a dim room or
//! a single usable frame read as a screen); an attack keeps crossing it. So in video
//! such an alert stands once its reason has reached `alert` in several segments in a
//! row, each read on enough frames; until then the segment is `suspicious` and says
//! why. A still is one picture: nothing to wait for; nor is a live-score alert whose
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

/// What a reason's alert must hold for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// `segments` segments in a row, each read on `min_frames` frames or more.
    Segments,
    /// `min_frames` readings in a row, however the segments split them (identity checks
    /// come about once a second).
    Readings,
}

/// The reasons whose alerts must hold.
const CONFIRMED: [(&str, Hold); 3] = [
    (codes::SYNTHETIC_FACE, Hold::Segments),
    (codes::LIVENESS_LOW, Hold::Segments),
    (codes::IDENTITY_CHANGED, Hold::Readings),
];

#[derive(Debug, Clone)]
pub struct Confirmation {
    cfg: ConfirmConfig,
    presence: PresenceThresholds,
    runs: [u32; CONFIRMED.len()],
}

impl Confirmation {
    pub fn new(cfg: &ConfirmConfig, presence: &PresenceThresholds) -> Self {
        Self {
            cfg: cfg.clone(),
            presence: presence.clone(),
            runs: [0; CONFIRMED.len()],
        }
    }

    pub fn apply(&mut self, segment: &Segment, a: &mut Assessment) {
        let video = segment.signal(names::FRAME_CHANGE).is_some();
        let picture = picture_like(&self.presence, segment);
        let mut changed = false;
        for ((code, hold), run) in CONFIRMED.iter().zip(&mut self.runs) {
            let Some(reason) = a
                .reasons
                .iter_mut()
                .find(|r| r.code == *code && r.state == RiskState::Alert)
            else {
                *run = 0;
                continue;
            };
            let frames = reason
                .signal
                .as_deref()
                .and_then(|name| segment.signal(name))
                .map_or(0, |s| s.frames);
            let holds = match hold {
                Hold::Segments => {
                    *run = if frames >= self.cfg.min_frames {
                        *run + 1
                    } else {
                        0
                    };
                    *run >= self.cfg.segments
                }
                Hold::Readings => {
                    *run += frames;
                    *run >= self.cfg.min_frames
                }
            };
            let backed = *code == codes::LIVENESS_LOW && picture;
            if !video || backed || holds || self.cfg.segments <= 1 {
                continue;
            }
            reason.state = RiskState::Suspicious;
            reason.message.push_str(&match hold {
                Hold::Segments => format!(
                    "; alert once it holds {} segments in a row on {} frames or more each \
                     ({} so far)",
                    self.cfg.segments, self.cfg.min_frames, run
                ),
                Hold::Readings => format!(
                    "; alert once {} checks in a row agree ({} so far)",
                    self.cfg.min_frames, run
                ),
            });
            changed = true;
        }
        if changed {
            a.state = settle(&mut a.reasons, segment);
        }
    }
}
