//! SFace on the real stills against `faces/reference_outputs.json`: raw embeddings,
//! the cosine matrix, and the same-person threshold.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use candor_vision::identity::{EMBEDDING_DIM, SAME_PERSON_COSINE, align_face_into};
use candor_vision::{Embedding, FaceEmbedding, Model, cosine};
use common::{detector, load_shared, references, sface, yunet_n_spec};

fn reference_embedding(raw: &[f32]) -> Embedding {
    let raw: [f32; EMBEDDING_DIM] = raw.try_into().expect("128 values");
    Embedding::from_raw(&raw).expect("non-zero").0
}

fn is_obama(rel: &str) -> bool {
    rel.contains("obama")
}

#[test]
fn embeddings_match_the_reference_from_reference_landmarks() {
    let (refs, ref_cosine) = references();
    let mut model = sface();
    let mut ours: BTreeMap<String, FaceEmbedding> = BTreeMap::new();
    let (mut worst_cos, mut worst_abs) = (1.0f32, 0.0f32);
    for r in &refs {
        let img = load_shared(&r.rel);
        let e = model.run((Arc::clone(&img), r.yunet)).expect("embed");
        let reference = reference_embedding(&r.sface_raw);
        let c = cosine(&e.embedding, &reference);
        let raw = e.raw();
        let max_abs = raw
            .iter()
            .zip(&r.sface_raw)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let ref_norm = r.sface_raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        println!(
            "{:34} cosine to reference {c:.5}, max |raw diff| {max_abs:.4}, norm {:.3} (ref {ref_norm:.3})",
            r.rel, e.raw_norm
        );
        assert!(c >= 0.999, "{}: cosine to reference {c}", r.rel);
        worst_cos = worst_cos.min(c);
        worst_abs = worst_abs.max(max_abs);
        ours.insert(r.rel.clone(), e);
    }
    println!("worst cosine to reference {worst_cos:.5}, worst max |raw diff| {worst_abs:.4}");

    // The cosine matrix, and the same-person threshold.
    let mut worst_matrix = 0.0f32;
    let (mut min_same, mut max_diff) = (1.0f32, -1.0f32);
    for (a, ea) in &ours {
        for (b, eb) in &ours {
            let c = cosine(&ea.embedding, &eb.embedding);
            let rc = ref_cosine[a][b];
            worst_matrix = worst_matrix.max((c - rc).abs());
            assert!((c - rc).abs() <= 0.02, "{a} vs {b}: {c} (reference {rc})");
            if a >= b {
                continue;
            }
            if is_obama(a) && is_obama(b) {
                min_same = min_same.min(c);
                assert!(c >= SAME_PERSON_COSINE, "{a} vs {b}: {c}");
            } else if !(a.contains("image_T1") && b.contains("image_F2")
                || a.contains("image_F2") && b.contains("image_T1"))
            {
                // T1 and F2 probably show the same woman (unconfirmed): not scored.
                max_diff = max_diff.max(c);
                assert!(c < SAME_PERSON_COSINE, "{a} vs {b}: {c}");
            }
        }
    }
    println!(
        "cosine matrix: worst deviation {worst_matrix:.4}; same person >= {min_same:.3}, \
         different people <= {max_diff:.3}"
    );
}

#[test]
fn own_yunet_detections_give_nearly_the_same_embeddings() {
    let (refs, _) = references();
    let mut model = sface();
    let mut det = detector(&yunet_n_spec(), 4096);
    let mut worst = 1.0f32;
    for r in &refs {
        let img = load_shared(&r.rel);
        let face = det.detect(&img).expect("detect")[0];
        let e = model.embed(&img, &face.landmarks).expect("embed");
        let c = cosine(&e.embedding, &reference_embedding(&r.sface_raw));
        println!(
            "{:34} own YuNet landmarks: cosine to reference {c:.5}",
            r.rel
        );
        worst = worst.min(c);
        assert!(c >= 0.99, "{}: {c}", r.rel);
    }
    println!("own detections: worst cosine to reference {worst:.5}");
}

#[test]
fn batch_equals_single_and_is_deterministic() {
    let (refs, _) = references();
    let mut model = sface();
    let imgs: Vec<_> = refs.iter().take(3).map(|r| load_shared(&r.rel)).collect();
    let items: Vec<_> = imgs
        .iter()
        .zip(&refs)
        .map(|(img, r)| (img.as_ref(), &r.yunet.landmarks))
        .collect();
    let batch = model.embed_batch(&items).expect("batch");
    assert_eq!(batch.len(), 3);
    for ((img, lm), b) in items.iter().zip(&batch) {
        let single = model.embed(img, lm).expect("single");
        let again = model.embed(img, lm).expect("again");
        assert_eq!(single, again, "not deterministic");
        assert!(cosine(&single.embedding, &b.embedding) > 0.99999);
        assert!((single.raw_norm - b.raw_norm).abs() < 1e-3);
    }
    assert!(model.embed_batch(&[]).expect("empty").is_empty());
}

#[test]
fn mirrored_face_stays_the_same_person() {
    // MANIFEST: a mirrored copy scores 0.972 against the original.
    let (refs, _) = references();
    let r = refs.iter().find(|r| r.rel.contains("obama_2012")).unwrap();
    let img = load_shared(&r.rel);
    let (w, h) = (img.width, img.height);
    let mut data = Vec::with_capacity(img.data.len());
    for y in 0..h {
        for x in 0..w {
            data.extend(img.pixel(w - 1 - x, y));
        }
    }
    let mirrored = candor_core::BgrImage::new(w, h, data).unwrap();
    // Mirrored landmarks: image-left and image-right swap roles.
    let m = |k: usize| {
        let p = r.yunet.landmarks[k];
        candor_core::Point::new(w as f32 - 1.0 - p.x, p.y)
    };
    let lm = [m(1), m(0), m(2), m(4), m(3)];
    let mut model = sface();
    let a = model.embed(&img, &r.yunet.landmarks).unwrap();
    let b = model.embed(&mirrored, &lm).unwrap();
    let c = cosine(&a.embedding, &b.embedding);
    println!("mirrored obama_2012: cosine {c:.3}");
    assert!(c > 0.9, "{c}");
}

#[test]
fn aligned_crop_matches_the_template_geometry() {
    // The aligned crop of a reference face is 112x112 and not black in the middle.
    let (refs, _) = references();
    let r = &refs[0];
    let img = load_shared(&r.rel);
    let mut crop = candor_core::BgrImage::filled(1, 1, [0; 3]);
    align_face_into(&img, &r.yunet.landmarks, &mut crop).unwrap();
    assert_eq!((crop.width, crop.height), (112, 112));
    assert!(crop.luma(56, 60) > 20.0);
    let mut model = sface();
    let via_crop = model.embed_aligned(&crop).unwrap();
    let direct = model.embed(&img, &r.yunet.landmarks).unwrap();
    assert_eq!(via_crop, direct);
    assert_eq!(model.name(), "sface");
    model.warm_up().expect("warm up");
}

#[test]
fn face_models_run_behind_the_worker_pool() {
    use candor_vision::{MeshRoi, WorkerPool};
    let (refs, _) = references();
    let r = &refs[0];
    let img = load_shared(&r.rel);

    let embedder = WorkerPool::spawn(|| Ok(sface()), 1, 2).expect("sface pool");
    let mesh = WorkerPool::spawn(|| Ok(common::face_mesh()), 1, 2).expect("mesh pool");

    let e = embedder.call((Arc::clone(&img), r.yunet)).expect("embed");
    assert_eq!(e, sface().embed(&img, &r.yunet.landmarks).unwrap());
    let m = mesh
        .call((Arc::clone(&img), MeshRoi::from_detection(&r.yunet)))
        .expect("mesh");
    assert_eq!(m.points.len(), 468);
    assert!(embedder.healthy() && mesh.healthy());
}
