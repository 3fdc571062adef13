//! Presence: is a live camera showing the candidate, alone? One rule per check, each
//! about the picture or the people in it rather than the face's authenticity.

use crate::codes;
use crate::config::PresenceThresholds;
use crate::risk::{Reason, RiskRule, RiskState};
use crate::segment::Segment;
use crate::signal::names;

/// Whether the picture behaves like a photo or a recording rather than a live feed:
/// frozen, looped, or a face moving as a rigid plane.
pub fn picture_like(presence: &PresenceThresholds, s: &Segment) -> bool {
    !FrozenRule(presence.clone()).evaluate(s).is_empty()
        || !LoopedRule(presence.clone()).evaluate(s).is_empty()
        || !RigidMotionRule(presence.clone()).evaluate(s).is_empty()
}

/// A picture that does not change: a frozen feed, or a still sent as video.
pub struct FrozenRule(pub PresenceThresholds);

impl RiskRule for FrozenRule {
    fn name(&self) -> &'static str {
        "frozen"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(change) = s.signal(names::FRAME_CHANGE) else {
            return Vec::new();
        };
        if change.frames < 2 || change.median >= self.0.frozen_change_below {
            return Vec::new();
        }
        vec![Reason::new(
            codes::FROZEN_VIDEO,
            RiskState::Suspicious,
            Some(names::FRAME_CHANGE),
            format!(
                "the picture did not change over {} analysed frames (median change {:.3} \
                 of 255, frozen below {}): a frozen feed or a still replayed as video",
                change.frames, change.median, self.0.frozen_change_below
            ),
        )]
    }
}

/// A recording played in a loop instead of a camera.
pub struct LoopedRule(pub PresenceThresholds);

impl RiskRule for LoopedRule {
    fn name(&self) -> &'static str {
        "looped"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(looped) = s.signal(names::LOOPED) else {
            return Vec::new();
        };
        if looped.mean < self.0.looped_share {
            return Vec::new();
        }
        vec![Reason::new(
            codes::LOOPED_VIDEO,
            RiskState::Suspicious,
            Some(names::LOOPED),
            format!(
                "{:.0} % of the frames replay an earlier stretch of the video in order \
                 (looped from {:.0} %): a recording played in a loop instead of a camera",
                looped.mean * 100.0,
                self.0.looped_share * 100.0
            ),
        )]
    }
}

/// A photo moved in front of the camera: the face moves without changing.
pub struct RigidMotionRule(pub PresenceThresholds);

impl RiskRule for RigidMotionRule {
    fn name(&self) -> &'static str {
        "rigid_motion"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(rigid) = s.signal(names::RIGID_RESIDUAL) else {
            return Vec::new();
        };
        if rigid.frames < self.0.rigid_min_moves || rigid.median >= self.0.rigid_residual_below {
            return Vec::new();
        }
        vec![Reason::new(
            codes::RIGID_MOTION,
            RiskState::Suspicious,
            Some(names::RIGID_RESIDUAL),
            format!(
                "the face moved as a rigid picture: once the move is undone it did not \
                 change (median residual {:.2} over {} moves; live faces from {})",
                rigid.median, rigid.frames, self.0.rigid_residual_below
            ),
        )]
    }
}

/// The candidate looking away from the camera (reading, another screen).
pub struct LookingAwayRule(pub PresenceThresholds);

impl RiskRule for LookingAwayRule {
    fn name(&self) -> &'static str {
        "looking_away"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(yaw) = s.signal(names::HEAD_YAW) else {
            return Vec::new();
        };
        if yaw.median.abs() < self.0.looking_away_yaw_deg {
            return Vec::new();
        }
        vec![Reason::new(
            codes::LOOKING_AWAY,
            RiskState::Suspicious,
            Some(names::HEAD_YAW),
            format!(
                "the candidate looked away from the camera: median head yaw {:.0} degrees \
                 over {} frames (looking away from {:.0})",
                yaw.median, yaw.frames, self.0.looking_away_yaw_deg
            ),
        )]
    }
}

/// Other people in view.
pub struct SeveralFacesRule(pub PresenceThresholds);

impl RiskRule for SeveralFacesRule {
    fn name(&self) -> &'static str {
        "several_faces"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        if s.counts.several_faces == 0 || s.several_faces_share() < self.0.several_faces_share {
            return Vec::new();
        }
        vec![Reason::new(
            codes::SEVERAL_FACES,
            RiskState::Suspicious,
            None,
            format!(
                "several faces on {} of {} analysed frames ({} other face(s) seen)",
                s.counts.several_faces, s.counts.analysed, s.other_tracks
            ),
        )]
    }
}
