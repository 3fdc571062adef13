//! Face-forgery classifiers (face-swap and reenactment detectors) on aligned face crops.
//! Everything model-specific — crop rule, input size, colour order, pixel scaling and
//! which output is P(fake) — comes from the model manifest, so a better detector is a
//! manifest entry, not a code change.

use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection, Point, Rect};
use ort::session::Session;
use ort::value::TensorRef;
use serde::Deserialize;

use crate::align::{Border, RotatedSquare, warp_affine_bilinear_into};
use crate::error::VisionError;
use crate::model::{Model, ModelSpec};
use crate::resize::check_image;
use crate::runtime::{RuntimeOptions, build_session, check_io, f32_output};
use crate::tensor::{write_bgr_planes_scaled, write_rgb_planes};

/// Channel order the network expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourOrder {
    Rgb,
    Bgr,
}

/// Where the crop square is centred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropCentre {
    /// The nose tip (YuNet landmark 2), as MesoNet's pipeline centres its crops.
    Nose,
    /// Midway between the eyes' midpoint and the mouth's midpoint.
    FaceCentre,
}

/// Which way the crop is turned upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropRotation {
    /// The eyes-to-mouth axis vertical (MesoNet's pipeline).
    #[default]
    EyesToMouth,
    /// The eye line horizontal (the project's SBI training crop).
    EyeLine,
}

/// What the crop reads where it runs past the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropBorder {
    /// The nearest edge pixel.
    #[default]
    Replicate,
    /// Mirrored, edge pixel not repeated: the SBI training crop's rule.
    Reflect101,
}

/// How a forgery model's input is cut from the frame, given YuNet's 5 landmarks:
/// a square of side `factor × max(inter-ocular distance, eyes-to-mouth distance)`,
/// centred as `crop_centre` says, turned upright as `crop_rotation` says, resampled
/// to `input_side` pixels (bilinear; outside the frame as `crop_border` says).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeryConfig {
    /// Signal name the analyser reports, e.g. `meso4_df_fake`.
    pub signal: String,
    /// Side of the square input, in pixels.
    pub input_side: u32,
    pub colour: ColourOrder,
    /// Each 0-255 pixel value is multiplied by this (1/255 for 0-1 inputs).
    pub pixel_scale: f32,
    /// Then the per-channel mean (in the model's channel order) is subtracted...
    #[serde(default)]
    pub mean: [f32; 3],
    /// ...and the result divided by the per-channel std.
    #[serde(default = "unit_std")]
    pub std: [f32; 3],
    pub crop_factor: f64,
    pub crop_centre: CropCentre,
    #[serde(default)]
    pub crop_rotation: CropRotation,
    #[serde(default)]
    pub crop_border: CropBorder,
    /// Name of the output holding P(fake) per face, shape [N, 1].
    pub output: String,
}

fn unit_std() -> [f32; 3] {
    [1.0; 3]
}

impl ForgeryConfig {
    /// The crop square for `face`; `None` when its landmarks are degenerate.
    pub fn crop_square(&self, face: &FaceDetection) -> Option<RotatedSquare> {
        let p = face.landmarks.map(|p| (f64::from(p.x), f64::from(p.y)));
        let eyes = mid(p[0], p[1]);
        let mouth = mid(p[3], p[4]);
        let (vx, vy) = (mouth.0 - eyes.0, mouth.1 - eyes.1);
        let eye_dist = (p[1].0 - p[0].0).hypot(p[1].1 - p[0].1);
        let size = eye_dist.max(vx.hypot(vy));
        let centre = match self.crop_centre {
            CropCentre::Nose => p[2],
            CropCentre::FaceCentre => mid(eyes, mouth),
        };
        // The crop's x axis maps to (cos r, sin r) in the picture and its y axis to
        // (-sin r, cos r): run y along eyes -> mouth, or x along the eye line.
        let (ex, ey) = (p[1].0 - p[0].0, p[1].1 - p[0].1);
        let rotation = match self.crop_rotation {
            CropRotation::EyesToMouth if vx != 0.0 || vy != 0.0 => (-vx).atan2(vy),
            CropRotation::EyeLine if ex != 0.0 || ey != 0.0 => ey.atan2(ex),
            _ => 0.0,
        };
        let square = RotatedSquare {
            cx: centre.0,
            cy: centre.1,
            side: self.crop_factor * size,
            rotation,
        };
        (square.is_valid() && size > 1.0).then_some(square)
    }
}

fn mid(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
}

/// One forgery classifier with its scratch buffers.
pub struct ForgeryModel {
    session: Session,
    cfg: ForgeryConfig,
    name: String,
    version: String,
    crop: BgrImage,
    input: Vec<f32>,
}

impl ForgeryModel {
    pub fn load(
        spec: &ModelSpec,
        cfg: ForgeryConfig,
        runtime: &RuntimeOptions,
    ) -> Result<Self, VisionError> {
        let session = build_session(&spec.path, runtime)?;
        let load_err = |msg: String| spec.load_error(msg);
        // The output is checked below, with the names the model has in the error.
        check_io(&session, spec, None, [] as [&str; 0], "a forgery model")?;
        if !session.outputs().iter().any(|o| o.name() == cfg.output) {
            let names: Vec<_> = session.outputs().iter().map(|o| o.name()).collect();
            return Err(load_err(format!(
                "no output `{}` (the model has {names:?})",
                cfg.output
            )));
        }
        if cfg.input_side == 0 || cfg.input_side > 1024 || cfg.std.contains(&0.0) {
            return Err(load_err(format!(
                "bad forgery settings: input_side {} (1-1024), std {:?} (non-zero)",
                cfg.input_side, cfg.std
            )));
        }
        let side = cfg.input_side;
        Ok(Self {
            session,
            name: spec.name.clone(),
            version: spec.version.clone(),
            crop: BgrImage::filled(side, side, [0; 3]),
            input: vec![0.0; 3 * (side as usize).pow(2)],
            cfg,
        })
    }

    /// The crop the model sees for `face`, exactly as it is fed (before scaling).
    pub fn crop_for(
        &mut self,
        image: &BgrImage,
        face: &FaceDetection,
    ) -> Result<&BgrImage, VisionError> {
        check_image(image)?;
        let square = self.cfg.crop_square(face).ok_or_else(|| {
            VisionError::BadInput("face landmarks too close together to crop".into())
        })?;
        let m = square.crop_to_image(self.cfg.input_side);
        let border = match self.cfg.crop_border {
            CropBorder::Replicate => Border::Replicate,
            CropBorder::Reflect101 => Border::Reflect101,
        };
        warp_affine_bilinear_into(image, &m, border, &mut self.crop)?;
        Ok(&self.crop)
    }

    /// P(fake) for `face` in `image` (same pixel coordinates).
    pub fn fake_probability(
        &mut self,
        image: &BgrImage,
        face: &FaceDetection,
    ) -> Result<f32, VisionError> {
        self.crop_for(image, face)?;
        let cfg = &self.cfg;
        let side = cfg.input_side as usize;
        match cfg.colour {
            ColourOrder::Rgb => write_rgb_planes(&self.crop, &mut self.input, cfg.pixel_scale),
            ColourOrder::Bgr => {
                write_bgr_planes_scaled(&self.crop, &mut self.input, cfg.pixel_scale)
            }
        }
        let plane = side * side;
        for (c, chunk) in self.input.chunks_exact_mut(plane).enumerate() {
            let (m, s) = (cfg.mean[c], cfg.std[c]);
            if m != 0.0 || s != 1.0 {
                chunk.iter_mut().for_each(|v| *v = (*v - m) / s);
            }
        }
        let tensor = TensorRef::from_array_view(([1usize, 3, side, side], &self.input[..]))
            .map_err(|e| VisionError::inference(&self.name, e))?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| VisionError::inference(&self.name, e))?;
        let probs = f32_output(&outputs, &cfg.output, &self.name)?;
        match probs {
            [p] if p.is_finite() => Ok(p.clamp(0.0, 1.0)),
            other => Err(VisionError::inference(
                &self.name,
                format!("expected one finite probability, got {other:?}"),
            )),
        }
    }
}

impl Model for ForgeryModel {
    type Input = (Arc<BgrImage>, FaceDetection);
    type Output = f32;

    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn run(&mut self, (image, face): Self::Input) -> Result<f32, VisionError> {
        self.fake_probability(&image, &face)
    }

    fn warm_up(&mut self) -> Result<(), VisionError> {
        let image = BgrImage::filled(320, 240, [128, 128, 128]);
        let face = FaceDetection {
            bbox: Rect::new(130.0, 80.0, 60.0, 80.0),
            landmarks: [
                Point::new(145.0, 105.0),
                Point::new(175.0, 105.0),
                Point::new(160.0, 122.0),
                Point::new(148.0, 140.0),
                Point::new(172.0, 140.0),
            ],
            score: 1.0,
        };
        self.fake_probability(&image, &face).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(centre: CropCentre) -> ForgeryConfig {
        ForgeryConfig {
            signal: "x".into(),
            input_side: 256,
            colour: ColourOrder::Rgb,
            pixel_scale: 1.0 / 255.0,
            mean: [0.0; 3],
            std: [1.0; 3],
            crop_factor: 2.86,
            crop_centre: centre,
            crop_rotation: CropRotation::EyesToMouth,
            crop_border: CropBorder::Replicate,
            output: "fake_prob".into(),
        }
    }

    fn face(points: [(f32, f32); 5]) -> FaceDetection {
        FaceDetection {
            bbox: Rect::new(0.0, 0.0, 10.0, 10.0),
            landmarks: points.map(|(x, y)| Point::new(x, y)),
            score: 1.0,
        }
    }

    #[test]
    fn upright_face_gives_an_unrotated_square_on_the_nose() {
        // Eyes 40 px apart, mouth 50 px below the eyes: size = 50.
        let f = face([
            (80.0, 100.0),
            (120.0, 100.0),
            (100.0, 125.0),
            (85.0, 150.0),
            (115.0, 150.0),
        ]);
        let sq = cfg(CropCentre::Nose).crop_square(&f).unwrap();
        assert_eq!((sq.cx, sq.cy), (100.0, 125.0));
        assert!((sq.side - 2.86 * 50.0).abs() < 1e-9);
        assert_eq!(sq.rotation, 0.0);
        let sq = cfg(CropCentre::FaceCentre).crop_square(&f).unwrap();
        assert_eq!((sq.cx, sq.cy), (100.0, 125.0));
    }

    #[test]
    fn a_face_turned_90_degrees_is_turned_back() {
        // Face lying on its side: eyes stacked vertically, mouth to the image left.
        let f = face([
            (100.0, 80.0),
            (100.0, 120.0),
            (75.0, 100.0),
            (50.0, 85.0),
            (50.0, 115.0),
        ]);
        let sq = cfg(CropCentre::Nose).crop_square(&f).unwrap();
        // The crop's y axis, (-sin r, cos r), must point from the eyes to the mouth (-x).
        let (s, c) = sq.rotation.sin_cos();
        assert!(
            (-s - -1.0).abs() < 1e-9 && c.abs() < 1e-9,
            "{}",
            sq.rotation
        );
    }

    #[test]
    fn eye_line_rotation_levels_the_eyes() {
        // Eyes tilted 45 degrees (image-right eye lower): the crop turns by +45 degrees.
        let f = face([
            (80.0, 100.0),
            (100.0, 120.0),
            (85.0, 125.0),
            (70.0, 140.0),
            (90.0, 160.0),
        ]);
        let c = ForgeryConfig {
            crop_rotation: CropRotation::EyeLine,
            ..cfg(CropCentre::FaceCentre)
        };
        let sq = c.crop_square(&f).unwrap();
        assert!(
            (sq.rotation - std::f64::consts::FRAC_PI_4).abs() < 1e-9,
            "{}",
            sq.rotation
        );
        // Centre between the eyes' midpoint (90, 110) and the mouth's (80, 150).
        assert_eq!((sq.cx, sq.cy), (85.0, 130.0));
    }

    #[test]
    fn sbi_crop_matches_the_training_convention() {
        // training/README.md's worked example: frame -> crop matrix M at 224 px.
        let f = face([
            (80.0, 90.0),
            (140.0, 100.0),
            (112.0, 130.0),
            (88.0, 160.0),
            (136.0, 168.0),
        ]);
        let c = ForgeryConfig {
            input_side: 224,
            crop_factor: 3.0,
            crop_rotation: CropRotation::EyeLine,
            ..cfg(CropCentre::FaceCentre)
        };
        let sq = c.crop_square(&f).unwrap();
        let m = crate::align::invert_affine(&sq.crop_to_image(224)).unwrap();
        let want = [
            [1.066954, 0.177826, -29.460319],
            [-0.177826, 1.066954, -6.431895],
        ];
        for (row, want_row) in m.iter().zip(want) {
            for (v, w) in row.iter().zip(want_row) {
                assert!((v - w).abs() < 1e-5, "{m:?}");
            }
        }
    }

    #[test]
    fn degenerate_landmarks_give_no_square() {
        let f = face([(5.0, 5.0); 5]);
        assert!(cfg(CropCentre::Nose).crop_square(&f).is_none());
    }

    #[test]
    fn manifest_table_parses_with_defaults() {
        let c: ForgeryConfig = toml::from_str(
            r#"signal = "meso4_df_fake"
input_side = 256
colour = "rgb"
pixel_scale = 0.00392156862745098
crop_factor = 2.86
crop_centre = "nose"
output = "fake_prob""#,
        )
        .unwrap();
        assert_eq!(c.std, [1.0; 3]);
        assert_eq!(c.mean, [0.0; 3]);
        assert_eq!(c.crop_centre, CropCentre::Nose);
    }
}
