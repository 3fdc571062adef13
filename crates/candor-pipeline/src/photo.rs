//! The identity of the one person in a reference photo (JPEG or PNG), for enrolling a
//! candidate without a first interview round. A photo without exactly one usable face
//! is an answer, not an error: the caller says what was wrong.

use std::sync::Arc;

use candor_core::config::IdentityConfig;
use candor_media::{ContainerHint, DecodeEvent, DecodeOptions};

use crate::engine::Engine;
use crate::error::PipelineError;

/// What a reference photo yields.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoIdentity {
    /// The unit identity embedding of the photo's one face.
    Face(Vec<f32>),
    NoFace,
    /// How many faces were found.
    SeveralFaces(usize),
    /// The face's width in working-size pixels, and the least the identity model needs.
    FaceTooSmall {
        width_px: f32,
        min_px: f32,
    },
    /// The engine runs without an identity model.
    NoIdentityModel,
}

/// Decodes `bytes` as one still (EXIF orientation applied), detects faces at the working
/// size of `decode` and embeds the only one from the picture at (up to) full resolution. Blocks on the model workers:
/// call it off the async runtime.
pub fn photo_identity(
    engine: &Engine,
    bytes: Vec<u8>,
    decode: &DecodeOptions,
    cfg: &IdentityConfig,
) -> Result<PhotoIdentity, PipelineError> {
    let opts = DecodeOptions {
        sample_fps: 0.0,
        hint: ContainerHint::Auto,
        ..decode.clone()
    };
    let mut decoder = candor_media::open_reader(std::io::Cursor::new(bytes), &opts)?;
    let frame = loop {
        match decoder.next() {
            Some(Ok(DecodeEvent::Sampled(frame))) => break frame,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => return Ok(PhotoIdentity::NoFace),
        }
    };
    let image = Arc::new(frame.image);
    let faces = engine.detect(image.clone())?;
    let face = match faces.as_slice() {
        [] => return Ok(PhotoIdentity::NoFace),
        [one] => *one,
        many => return Ok(PhotoIdentity::SeveralFaces(many.len())),
    };
    if face.bbox.w < cfg.min_face_width_px {
        return Ok(PhotoIdentity::FaceTooSmall {
            width_px: face.bbox.w,
            min_px: cfg.min_face_width_px,
        });
    }
    // Embedded from the full-resolution picture, as the faces of a session are.
    let (crop, to_crop) = candor_core::crop_image(&image, frame.source.as_ref());
    Ok(match engine.embed(crop, face.scaled(to_crop))? {
        Some((embedding, _)) => PhotoIdentity::Face(embedding),
        None => PhotoIdentity::NoIdentityModel,
    })
}
