//! Per-inference timings of the face models on a real still (printed, not asserted):
//! one test, so the models do not compete for the cores with each other.

mod common;

use std::time::{Duration, Instant};

use candor_vision::{FaceMetrics, MeshRoi};
use common::{face_mesh, head_pose_estimator, load_shared, references, sface};

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> Duration {
    f(); // not counted
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(f());
    }
    start.elapsed() / runs
}

#[test]
fn per_inference_timings() {
    let (refs, _) = references();
    let r = refs
        .iter()
        .find(|r| r.rel.contains("obama_2012"))
        .expect("obama_2012");
    let img = load_shared(&r.rel);
    let mut embedder = sface();
    let mut mesh = face_mesh();
    let pose = head_pose_estimator();
    let m = mesh.landmarks_refined(&img, &r.yunet).expect("mesh");
    let roi = MeshRoi::from_mesh(&m.points).expect("roi");
    let runs = 20;

    let t_sface = time(runs, || embedder.embed(&img, &r.yunet.landmarks).unwrap());
    let t_mesh = time(runs, || mesh.landmarks(&img, &roi).unwrap());
    let t_pose = time(runs, || {
        pose.estimate(&m.points, img.width, img.height).unwrap()
    });
    let t_metrics = time(runs, || FaceMetrics::from_mesh(&m.points).unwrap());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "per inference ({runs} runs, 1 intra-op thread, {}x{} still, alignment/crop included):",
        img.width, img.height
    );
    println!("  SFace embedding     {:8.3} ms", ms(t_sface));
    println!("  face mesh (1 pass)  {:8.3} ms", ms(t_mesh));
    println!("  head pose PnP solve {:8.3} ms", ms(t_pose));
    println!("  EAR + mouth ratios  {:8.4} ms", ms(t_metrics));
}
