//! Segments built by hand, for the unit tests of the decision logic.

use std::collections::BTreeMap;

use crate::quality::AbstainCode;
use crate::segment::{FrameCounts, Segment, SignalStats};
use crate::signal::{Source, names};

/// A signal over 4 frames with the given mean (and median) and minimum.
pub fn stats(name: &str, mean: f32, min: f32) -> SignalStats {
    SignalStats {
        name: name.into(),
        source: Source::new("m", "1"),
        frames: 4,
        mean,
        median: mean,
        min,
        max: mean,
    }
}

/// A 2 s segment of 50 decoded frames: `analysed` of them analysed, `usable` usable
/// (the rest without a face), `several` showing several faces, and the live score
/// `live` over 4 frames when given.
pub fn segment(analysed: u32, usable: u32, several: u32, live: Option<f32>) -> Segment {
    let mut unusable = BTreeMap::new();
    if analysed > usable {
        unusable.insert(AbstainCode::NoFace, analysed - usable);
    }
    Segment {
        index: 0,
        start_us: 0,
        end_us: 2_000_000,
        counts: FrameCounts {
            decoded: 50,
            analysed,
            usable,
            several_faces: several,
            one_face: usable.saturating_sub(several),
            no_face: analysed - usable,
            dropped: 0,
            undecodable: 0,
        },
        main_track: Some(1),
        other_tracks: u32::from(several > 0),
        signals: live
            .map(|l| vec![stats(names::LIVENESS, l, l)])
            .unwrap_or_default(),
        quality: Vec::new(),
        unusable,
    }
}
