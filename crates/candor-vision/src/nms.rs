//! Greedy non-maximum suppression, as OpenCV's `NMSBoxes` does it for YuNet.

use candor_core::FaceDetection;

/// Keeps the best-scoring detections, dropping any whose box overlaps an already kept
/// one by IoU > `iou_threshold`. Returns at most `top_k`, best first.
pub fn nms(
    mut detections: Vec<FaceDetection>,
    iou_threshold: f32,
    top_k: usize,
) -> Vec<FaceDetection> {
    // Stable sort keeps decode order among equal scores, so results are deterministic.
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<FaceDetection> = Vec::with_capacity(top_k.min(detections.len()));
    for det in detections {
        if kept.len() >= top_k {
            break;
        }
        if kept.iter().all(|k| k.bbox.iou(&det.bbox) <= iou_threshold) {
            kept.push(det);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use candor_core::{Point, Rect};

    use super::*;

    fn det(x: f32, y: f32, w: f32, h: f32, score: f32) -> FaceDetection {
        FaceDetection {
            bbox: Rect::new(x, y, w, h),
            landmarks: [Point::default(); 5],
            score,
        }
    }

    #[test]
    fn overlapping_lower_score_is_dropped() {
        let out = nms(
            vec![
                det(0.0, 0.0, 10.0, 10.0, 0.7),
                det(1.0, 1.0, 10.0, 10.0, 0.9),
            ],
            0.3,
            10,
        );
        assert_eq!(out, vec![det(1.0, 1.0, 10.0, 10.0, 0.9)]);
    }

    #[test]
    fn disjoint_boxes_are_all_kept_best_first() {
        let out = nms(
            vec![
                det(0.0, 0.0, 10.0, 10.0, 0.7),
                det(50.0, 0.0, 10.0, 10.0, 0.9),
                det(0.0, 50.0, 10.0, 10.0, 0.8),
            ],
            0.3,
            10,
        );
        let scores: Vec<f32> = out.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.8, 0.7]);
    }

    #[test]
    fn overlap_at_the_threshold_is_kept() {
        // IoU of these two is exactly 1/3 (intersection 50, union 150).
        let a = det(0.0, 0.0, 10.0, 10.0, 0.9);
        let b = det(5.0, 0.0, 10.0, 10.0, 0.8);
        assert_eq!(nms(vec![a, b], 0.34, 10).len(), 2);
        assert_eq!(nms(vec![a, b], 0.3, 10).len(), 1);
    }

    #[test]
    fn suppression_is_only_by_kept_boxes() {
        // b overlaps a (kept) and is dropped; c overlaps only b, so c survives.
        let a = det(0.0, 0.0, 10.0, 10.0, 0.9);
        let b = det(4.0, 0.0, 10.0, 10.0, 0.8);
        let c = det(9.0, 0.0, 10.0, 10.0, 0.7);
        assert_eq!(nms(vec![c, b, a], 0.3, 10), vec![a, c]);
    }

    #[test]
    fn top_k_caps_the_output() {
        let dets = (0..5)
            .map(|i| det(i as f32 * 20.0, 0.0, 10.0, 10.0, 0.5 + i as f32 * 0.1))
            .collect();
        let out = nms(dets, 0.3, 2);
        assert_eq!(out.len(), 2);
        assert!((out[0].score - 0.9).abs() < 1e-6);
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(nms(Vec::new(), 0.3, 10).is_empty());
    }
}
