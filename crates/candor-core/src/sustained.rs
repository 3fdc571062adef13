//! Replays that last. One segment of a loop, or of a face moving as a rigid picture,
//! can be a slip of the measure; the same reason in several segments in a row is a
//! recording or a photo in front of the camera, and the segment becomes `alert`.
//!
//! A frozen picture is not escalated (networks freeze honest feeds for seconds), nor
//! are the other presence reasons (looking away, other people in view), which say
//! nothing about the face being genuine.

use crate::codes;
use crate::risk::{Assessment, Reason, RiskState};

/// Reasons that become `alert` when they last, with the code they then add.
const ESCALATED: [(&str, &str); 2] = [
    (codes::LOOPED_VIDEO, codes::LOOPED_VIDEO_SUSTAINED),
    (codes::RIGID_MOTION, codes::RIGID_MOTION_SUSTAINED),
];

/// Counts consecutive segments per escalated reason; fed every judged segment in order.
#[derive(Debug, Clone)]
pub struct Sustained {
    /// Segments in a row that make an alert; 0 never escalates.
    needed: u32,
    runs: [u32; ESCALATED.len()],
}

impl Sustained {
    pub fn new(needed: u32) -> Self {
        Self {
            needed,
            runs: [0; ESCALATED.len()],
        }
    }

    /// Adds `<code>_sustained` at `alert` to an assessment whose reason has now held for
    /// `needed` segments in a row.
    pub fn apply(&mut self, a: &mut Assessment) {
        for ((code, sustained), run) in ESCALATED.iter().zip(&mut self.runs) {
            let Some(signal) = a
                .reasons
                .iter()
                .find(|r| r.code == *code)
                .map(|r| r.signal.clone())
            else {
                *run = 0;
                continue;
            };
            *run += 1;
            if self.needed == 0 || *run < self.needed {
                continue;
            }
            a.reasons.push(Reason::new(
                sustained,
                RiskState::Alert,
                signal.as_deref(),
                format!(
                    "{code} in {run} segments in a row: not a glitch but a recording or a \
                     picture in front of the camera"
                ),
            ));
        }
        // Most severe first, as the fusion orders them.
        a.reasons.sort_by_key(|r| std::cmp::Reverse(r.state));
        a.state = a.reasons.first().map_or(a.state, |r| r.state.max(a.state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment(codes: &[&str]) -> Assessment {
        let reasons: Vec<Reason> = codes
            .iter()
            .map(|c| Reason::new(c, RiskState::Suspicious, None, String::new()))
            .collect();
        Assessment {
            state: if codes.is_empty() {
                RiskState::Clear
            } else {
                RiskState::Suspicious
            },
            reasons,
            abstain: None,
            attack_score: None,
            synthetic_face_confidence: None,
        }
    }

    /// Reasons per segment in order -> state of each segment after escalation.
    #[test]
    fn escalation_table() {
        use RiskState::*;
        type Case = (&'static [&'static [&'static str]], &'static [RiskState]);
        let cases: &[Case] = &[
            // Three in a row: the third alerts, and so does every one after it.
            (
                &[
                    &["looped_video"],
                    &["looped_video"],
                    &["looped_video"],
                    &["looped_video"],
                ],
                &[Suspicious, Suspicious, Alert, Alert],
            ),
            // A break starts the count again.
            (
                &[
                    &["rigid_motion"],
                    &["rigid_motion"],
                    &[],
                    &["rigid_motion"],
                    &["rigid_motion"],
                ],
                &[Suspicious, Suspicious, Clear, Suspicious, Suspicious],
            ),
            // Each reason counts on its own.
            (
                &[&["rigid_motion"], &["looped_video"], &["rigid_motion"]],
                &[Suspicious, Suspicious, Suspicious],
            ),
            // Frozen video never escalates.
            (
                &[&["frozen_video"], &["frozen_video"], &["frozen_video"]],
                &[Suspicious, Suspicious, Suspicious],
            ),
        ];
        for (segments, want) in cases {
            let mut s = Sustained::new(3);
            let got: Vec<RiskState> = segments
                .iter()
                .map(|codes| {
                    let mut a = assessment(codes);
                    s.apply(&mut a);
                    a.state
                })
                .collect();
            assert_eq!(&got, want, "{segments:?}");
        }
    }

    #[test]
    fn the_sustained_reason_leads_and_zero_never_escalates() {
        let mut s = Sustained::new(1);
        let mut a = assessment(&["looking_away", "looped_video"]);
        s.apply(&mut a);
        assert_eq!(a.reasons[0].code, "looped_video_sustained");
        assert_eq!(a.state, RiskState::Alert);
        let mut never = Sustained::new(0);
        let mut a = assessment(&["looped_video"]);
        never.apply(&mut a);
        assert_eq!(a.state, RiskState::Suspicious);
    }
}
