//! MiniFASNet V2 + V1SE on the Silent-Face sample stills, with faces from our own YuNet.

mod common;

use std::sync::Arc;

use candor_vision::{LivenessScore, Model};
use common::{detector, liveness, load_shared, yunet_n_spec};

fn score_still(rel: &str) -> LivenessScore {
    let img = load_shared(rel);
    let mut det = detector(&yunet_n_spec(), 640);
    let faces = det.detect(&img).expect("detect");
    let face = *faces.first().unwrap_or_else(|| panic!("{rel}: no face"));
    let mut model = liveness();
    let score = model.run((Arc::clone(&img), face)).expect("liveness");
    println!(
        "{rel}: live {:.4} probs [{:.4}, {:.4}, {:.4}] label {}",
        score.live,
        score.probs[0],
        score.probs[1],
        score.probs[2],
        score.label()
    );
    let sum: f32 = score.probs.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
    assert_eq!(score.live, score.probs[1]);
    score
}

#[test]
fn printed_photo_f1_reads_as_spoof() {
    // MANIFEST saw spoof 0.78.
    let s = score_still("spoof-samples/image_F1.jpg");
    assert!(s.live < 0.5, "{s:?}");
    assert!(!s.is_live());
}

#[test]
fn tablet_screen_f2_reads_as_spoof() {
    // MANIFEST saw spoof 0.98.
    let s = score_still("spoof-samples/image_F2.jpg");
    assert!(s.live < 0.5, "{s:?}");
}

#[test]
fn live_face_t1_reads_as_live() {
    // MANIFEST saw live 1.00; T1 needs its EXIF orientation applied.
    let s = score_still("spoof-samples/image_T1.jpg");
    assert!(s.live > 0.9, "{s:?}");
    assert!(s.is_live());
}

#[test]
fn identity_combines_both_files() {
    let mut model = liveness();
    assert_eq!(model.name(), "minifasnet_v2+minifasnet_v1se");
    assert_eq!(model.version(), "2.7_80x80+4.0_80x80");
    model.warm_up().expect("warm up");
}
