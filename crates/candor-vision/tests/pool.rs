//! The real models behind the worker pool, and per-inference timings.

mod common;

use std::sync::Arc;
use std::time::Instant;

use candor_core::BgrImage;
use candor_vision::resize::{PixelRect, resize_bilinear};
use candor_vision::{FaceDetector, Model, WorkerPool};
use common::{detector, liveness, load_shared, yunet_n_spec, yunet_s_spec};

#[test]
fn detector_pool_serves_concurrent_callers() {
    let spec = yunet_n_spec();
    let pool = WorkerPool::spawn(move || Ok(detector(&spec, 640)), 2, 4).expect("spawn");
    assert_eq!(pool.name(), "yunet_n");
    fn shareable<T: Send + Sync>(_: &T) {}
    shareable(&pool);
    let stills: Vec<Arc<BgrImage>> = [
        "faces/collins_nasa.jpg",
        "spoof-samples/image_T1.jpg",
        "spoof-samples/image_F2.jpg",
    ]
    .iter()
    .map(|rel| load_shared(rel))
    .collect();
    let mut single = detector(&yunet_n_spec(), 640);
    let expected: Vec<_> = stills
        .iter()
        .map(|img| single.detect(img).expect("detect"))
        .collect();

    std::thread::scope(|s| {
        for t in 0..3 {
            let (pool, stills, expected) = (&pool, &stills, &expected);
            s.spawn(move || {
                for i in 0..6 {
                    let k = (t + i) % stills.len();
                    let faces = pool.call(Arc::clone(&stills[k])).expect("call");
                    assert_eq!(faces, expected[k], "still {k}");
                }
            });
        }
    });
    assert!(pool.healthy());
}

#[test]
fn a_bad_input_fails_its_call_only() {
    let img = load_shared("spoof-samples/image_T1.jpg");
    let face = detector(&yunet_n_spec(), 640).detect(&img).expect("detect")[0];
    let pool = WorkerPool::spawn(|| Ok(liveness()), 1, 2).expect("spawn");
    let score = pool.call((Arc::clone(&img), face)).expect("liveness");
    assert!(score.live > 0.9, "{score:?}");
    // A degenerate box is a bad input for this call only; the worker carries on.
    let mut bad = face;
    bad.bbox.w = 0.0;
    assert!(pool.call((Arc::clone(&img), bad)).is_err());
    assert!(pool.call((img, face)).is_ok());
    assert!(pool.healthy());
}

fn mean_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f(); // one more warm run
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed().as_secs_f64() * 1000.0 / runs as f64
}

#[test]
fn per_inference_timings() {
    // T1 squeezed to a landscape 640x480 frame: the usual working size.
    let t1 = load_shared("spoof-samples/image_T1.jpg");
    let frame = Arc::new(resize_bilinear(&t1, PixelRect::full(&t1), 640, 480).expect("resize"));
    let detect_ms = |det: &mut FaceDetector| {
        det.warm_up().expect("warm up");
        mean_ms(20, || {
            det.detect(&frame).expect("detect");
        })
    };
    let n = detect_ms(&mut detector(&yunet_n_spec(), 640));
    let s = detect_ms(&mut detector(&yunet_s_spec(), 640));

    let face = detector(&yunet_n_spec(), 640).detect(&t1).expect("detect")[0];
    let mut live = liveness();
    live.warm_up().expect("warm up");
    let l = mean_ms(20, || {
        live.score(&t1, &face).expect("liveness");
    });
    println!(
        "1 intra-op thread: yunet_n 640x480 {n:.2} ms, yunet_s 640x480 {s:.2} ms, MiniFASNet V2+V1SE pair {l:.2} ms"
    );
    // Loose bounds: only catch pathological slowness, not measure.
    assert!(n < 1000.0 && s < 1000.0 && l < 1000.0);
}
