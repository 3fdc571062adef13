//! The built-in rules: each a pure function of a segment that may find a reason for a
//! state, and may give an attack confidence. One module per concern.

mod evidence;
mod identity;
mod liveness;
mod presence;
mod synthetic;

pub use evidence::EvidenceRule;
pub use identity::{CandidateRule, IdentityRule};
pub use liveness::{LivenessRule, live_score_stands};
pub use presence::{
    FrozenRule, LookingAwayRule, LoopedRule, RigidMotionRule, SeveralFacesRule, picture_like,
};
pub use synthetic::SyntheticRule;

use crate::config::AnalysisConfig;
use crate::risk::RiskRule;

/// Every built-in rule, configured from `cfg`, in the order that breaks ties between
/// reasons of the same severity.
pub fn built_in(cfg: &AnalysisConfig) -> Vec<Box<dyn RiskRule>> {
    let presence = &cfg.presence;
    vec![
        Box::new(EvidenceRule(cfg.quality.clone())),
        Box::new(LivenessRule(cfg.liveness.clone())),
        Box::new(FrozenRule(presence.clone())),
        Box::new(LoopedRule(presence.clone())),
        Box::new(RigidMotionRule(presence.clone())),
        Box::new(LookingAwayRule(presence.clone())),
        Box::new(SeveralFacesRule(presence.clone())),
        Box::new(SyntheticRule(cfg.synthetic.clone())),
        Box::new(IdentityRule(cfg.identity.clone())),
        Box::new(CandidateRule(cfg.identity.clone())),
    ]
}
