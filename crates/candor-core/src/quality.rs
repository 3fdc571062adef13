//! Whether a frame carries usable face evidence, and why not when it does not.

use serde::{Deserialize, Serialize};

use crate::config::QualityThresholds;
use crate::observation::FrameObservation;
use crate::signal::{find, names};

/// Why a frame or segment could not be judged. These are results, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbstainCode {
    /// The whole picture is black: the camera is off or covered.
    CameraOff,
    NoFace,
    FaceTooSmall,
    TooDark,
    TooBright,
    TooBlurred,
    SeveralFaces,
}

impl AbstainCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CameraOff => "camera_off",
            Self::NoFace => "no_face",
            Self::FaceTooSmall => "face_too_small",
            Self::TooDark => "too_dark",
            Self::TooBright => "too_bright",
            Self::TooBlurred => "too_blurred",
            Self::SeveralFaces => "several_faces",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::CameraOff => "camera off or covered (black picture)",
            Self::NoFace => "no face on camera",
            Self::FaceTooSmall => "face too small to judge",
            Self::TooDark => "face too dark",
            Self::TooBright => "face over-exposed",
            Self::TooBlurred => "face too blurred",
            Self::SeveralFaces => "several faces on camera",
        }
    }
}

/// `Ok` when the main face of `frame` is good enough to judge. Quality signals that an
/// analyser did not produce are not held against the frame.
pub fn frame_usability(frame: &FrameObservation, t: &QualityThresholds) -> Result<(), AbstainCode> {
    let Some(face) = frame.main_face() else {
        let black = frame
            .picture_luma
            .is_some_and(|l| l < t.camera_off_luma_below);
        return Err(if black {
            AbstainCode::CameraOff
        } else {
            AbstainCode::NoFace
        });
    };
    let value = |name| find(&face.signals, name).map(|s| s.value);
    if value(names::FACE_WIDTH_PX).is_some_and(|w| w < t.min_face_width_px) {
        return Err(AbstainCode::FaceTooSmall);
    }
    if let Some(b) = value(names::BRIGHTNESS) {
        if b < t.min_brightness {
            return Err(AbstainCode::TooDark);
        }
        if b > t.max_brightness {
            return Err(AbstainCode::TooBright);
        }
    }
    if value(names::SHARPNESS).is_some_and(|s| s < t.min_sharpness) {
        return Err(AbstainCode::TooBlurred);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::FaceObservation;
    use crate::signal::{Signal, Source};
    use crate::{FaceDetection, FrameInfo, Point, Rect};

    fn frame_with(signals: &[(&str, f32)]) -> FrameObservation {
        let src = Source::new("test", "1");
        FrameObservation {
            info: FrameInfo {
                pts_us: 0,
                decoded_index: 0,
                source_width: 640,
                source_height: 480,
                fingerprint: None,
            },
            picture_luma: None,
            faces: vec![FaceObservation {
                track_id: 1,
                detection: FaceDetection {
                    bbox: Rect::new(0.0, 0.0, 100.0, 100.0),
                    landmarks: [Point::default(); 5],
                    score: 0.9,
                },
                signals: signals
                    .iter()
                    .map(|(n, v)| Signal::new(*n, *v, &src))
                    .collect(),
            }],
            main_track: Some(1),
        }
    }

    #[test]
    fn a_black_picture_without_a_face_is_camera_off() {
        let t = QualityThresholds::default();
        let mut frame = frame_with(&[]);
        frame.faces.clear();
        frame.main_track = None;
        for (luma, want) in [
            (Some(1.0), AbstainCode::CameraOff),
            (Some(11.9), AbstainCode::CameraOff),
            (Some(12.0), AbstainCode::NoFace),
            (Some(80.0), AbstainCode::NoFace),
            (None, AbstainCode::NoFace),
        ] {
            frame.picture_luma = luma;
            assert_eq!(frame_usability(&frame, &t), Err(want), "{luma:?}");
        }
    }

    #[test]
    fn each_threshold_gives_its_code() {
        let t = QualityThresholds::default();
        let good = [
            (names::FACE_WIDTH_PX, 100.0),
            (names::BRIGHTNESS, 120.0),
            (names::SHARPNESS, 200.0),
        ];
        assert_eq!(frame_usability(&frame_with(&good), &t), Ok(()));
        let cases = [
            (names::FACE_WIDTH_PX, 20.0, AbstainCode::FaceTooSmall),
            (names::BRIGHTNESS, 10.0, AbstainCode::TooDark),
            (names::BRIGHTNESS, 250.0, AbstainCode::TooBright),
            (names::SHARPNESS, 1.0, AbstainCode::TooBlurred),
        ];
        for (name, value, code) in cases {
            let mut s = good.to_vec();
            s.retain(|(n, _)| *n != name);
            s.push((name, value));
            assert_eq!(frame_usability(&frame_with(&s), &t), Err(code), "{name}");
        }
    }

    #[test]
    fn missing_main_face_is_no_face() {
        let mut f = frame_with(&[]);
        f.main_track = None;
        assert_eq!(
            frame_usability(&f, &QualityThresholds::default()),
            Err(AbstainCode::NoFace)
        );
    }

    #[test]
    fn absent_quality_signals_do_not_block() {
        assert_eq!(
            frame_usability(&frame_with(&[]), &QualityThresholds::default()),
            Ok(())
        );
    }
}
