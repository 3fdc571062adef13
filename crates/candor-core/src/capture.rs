//! What the client says about its camera. A virtual camera (software that presents
//! itself as a webcam) is how real-time face-swap and replay tools usually reach a
//! call, but streamers and background-blur users have them too: it is context for a
//! reviewer, never evidence on its own.

use crate::codes;
use crate::risk::{Reason, RiskRule, RiskState};
use crate::segment::Segment;

/// Known virtual-camera products, by a lower-case fragment of the device label and the
/// name shown to people.
const VIRTUAL_CAMERAS: [(&str, &str); 12] = [
    ("obs virtual", "OBS Virtual Camera"),
    ("obs-camera", "OBS Virtual Camera"),
    ("manycam", "ManyCam"),
    ("xsplit", "XSplit VCam"),
    ("snap camera", "Snap Camera"),
    ("deepfacelive", "DeepFaceLive"),
    ("avatarify", "Avatarify"),
    ("splitcam", "SplitCam"),
    ("camtwist", "CamTwist"),
    ("mmhmm", "mmhmm"),
    ("e2esoft", "e2eSoft VCam"),
    ("virtual cam", "a virtual camera"),
];

/// The virtual-camera product a device label names, if any.
pub fn virtual_camera(device_label: &str) -> Option<&'static str> {
    let label = device_label
        .to_lowercase()
        .replace("virtualcam", "virtual cam");
    VIRTUAL_CAMERAS
        .iter()
        .find(|(fragment, _)| label.contains(fragment))
        .map(|(_, name)| *name)
}

/// Adds the capture context to every segment as a `clear`-level reason: it never
/// raises a state, and a reviewer sees it beside whatever else the segment shows.
pub struct CaptureContextRule {
    camera: &'static str,
    label: String,
}

impl CaptureContextRule {
    /// The rule for a session whose camera has `device_label`; `None` for an
    /// ordinary camera.
    pub fn for_device(device_label: &str) -> Option<Self> {
        virtual_camera(device_label).map(|camera| Self {
            camera,
            label: device_label.to_owned(),
        })
    }
}

impl RiskRule for CaptureContextRule {
    fn name(&self) -> &'static str {
        "capture_context"
    }

    fn evaluate(&self, _s: &Segment) -> Vec<Reason> {
        vec![Reason::new(
            codes::VIRTUAL_CAMERA,
            RiskState::Clear,
            None,
            format!(
                "the video comes from {} (device \"{}\"): software can alter or replace \
                 it; context, not evidence on its own",
                self.camera, self.label
            ),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_cameras_are_named_and_real_ones_are_not() {
        let cases = [
            ("OBS Virtual Camera", Some("OBS Virtual Camera")),
            ("ManyCam Virtual Webcam", Some("ManyCam")),
            ("XSplit VCam", Some("XSplit VCam")),
            ("DeepFaceLive", Some("DeepFaceLive")),
            ("Unity Video Capture VirtualCam", Some("a virtual camera")),
            ("FaceTime HD Camera", None),
            ("Logitech BRIO (046d:085e)", None),
            ("", None),
        ];
        for (label, want) in cases {
            assert_eq!(virtual_camera(label), want, "{label}");
        }
    }

    #[test]
    fn context_never_raises_the_state() {
        use crate::{AnalysisConfig, Fusion};
        let mut fusion = Fusion::from_config(&AnalysisConfig::default());
        fusion.push(Box::new(
            CaptureContextRule::for_device("OBS Virtual Camera").unwrap(),
        ));
        let seg = Segment {
            index: 0,
            start_us: 0,
            end_us: 2_000_000,
            counts: crate::FrameCounts {
                analysed: 4,
                usable: 4,
                one_face: 4,
                ..Default::default()
            },
            main_track: Some(1),
            other_tracks: 0,
            signals: Vec::new(),
            quality: Vec::new(),
            unusable: Default::default(),
        };
        let a = fusion.assess(&seg);
        assert_eq!(a.state, RiskState::Clear);
        assert_eq!(a.reasons[0].code, "virtual_camera");
        assert!(a.reasons[0].message.contains("OBS Virtual Camera"));
        assert!(CaptureContextRule::for_device("FaceTime HD Camera").is_none());
    }
}
