//! JPEG and PNG stills: one frame at pts 0, exact channel order, EXIF orientation.

use std::io::Cursor;
use std::path::Path;

use candor_media::{ContainerHint, DecodeEvent, DecodeOptions, MediaError, open_path, open_reader};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::fixtures::{ChunkedReader, collect, derived};

fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image.clone())
        .write_to(&mut bytes, format)
        .unwrap();
    bytes.into_inner()
}

fn single_frame(events: Vec<DecodeEvent>) -> candor_core::Frame {
    assert_eq!(events.len(), 1);
    match events.into_iter().next() {
        Some(DecodeEvent::Sampled(frame)) => {
            assert_eq!(frame.info.pts_us, 0);
            assert_eq!(frame.info.decoded_index, 0);
            frame
        }
        other => panic!("expected one sampled frame, got {other:?}"),
    }
}

#[test]
fn png_keeps_exact_colours_in_bgr_order() {
    let rgb = RgbImage::from_pixel(48, 32, Rgb([200, 100, 30]));
    let png = encode(&rgb, ImageFormat::Png);
    let path = derived("solid.png", &png);
    let opts = DecodeOptions::default();

    let decoder = open_path(&path, &opts).unwrap();
    assert_eq!(decoder.info().container, "png");
    assert_eq!((decoder.info().width, decoder.info().height), (48, 32));
    let from_path = single_frame(collect(decoder).unwrap());
    let streamed =
        single_frame(collect(open_reader(ChunkedReader::new(png, 100), &opts).unwrap()).unwrap());
    for frame in [from_path, streamed] {
        assert_eq!((frame.image.width, frame.image.height), (48, 32));
        assert!(
            frame
                .image
                .data
                .chunks_exact(3)
                .all(|p| p == [30, 100, 200])
        );
    }
}

#[test]
fn jpeg_decodes_to_one_frame() {
    let rgb = RgbImage::from_pixel(64, 48, Rgb([30, 160, 220]));
    let jpeg = encode(&rgb, ImageFormat::Jpeg);
    let frame = single_frame(
        collect(open_reader(ChunkedReader::new(jpeg, 4096), &DecodeOptions::default()).unwrap())
            .unwrap(),
    );
    assert_eq!((frame.image.width, frame.image.height), (64, 48));
    let [b, g, r] = frame.image.pixel(32, 24);
    assert!(
        b.abs_diff(220) <= 6 && g.abs_diff(160) <= 6 && r.abs_diff(30) <= 6,
        "{b} {g} {r}"
    );
}

/// An APP1 segment holding EXIF with only Orientation = `value`.
fn exif_orientation_segment(value: u8) -> Vec<u8> {
    let mut seg = vec![0xFF, 0xE1, 0x00, 0x22];
    seg.extend(b"Exif\0\0");
    seg.extend([0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08]); // big-endian TIFF, IFD at 8
    seg.extend([0x00, 0x01]); // one entry
    seg.extend([
        0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, value, 0x00, 0x00,
    ]);
    seg.extend([0x00, 0x00, 0x00, 0x00]); // no next IFD
    seg
}

#[test]
fn exif_orientation_6_rotates_to_portrait() {
    // Stored landscape 80x40: left half red, right half blue.
    let stored = RgbImage::from_fn(80, 40, |x, _| {
        if x < 40 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let plain = encode(&stored, ImageFormat::Jpeg);
    let mut jpeg = plain[..2].to_vec(); // SOI
    jpeg.extend(exif_orientation_segment(6));
    jpeg.extend(&plain[2..]);

    let frame = single_frame(
        collect(open_reader(Cursor::new(jpeg), &DecodeOptions::default()).unwrap()).unwrap(),
    );
    assert_eq!((frame.image.width, frame.image.height), (40, 80));
    assert_eq!(
        (frame.info.source_width, frame.info.source_height),
        (40, 80)
    );
    // Rotated 90° clockwise: the stored left half is now on top.
    let [b, g, r] = frame.image.pixel(20, 20);
    assert!(
        r > 200 && b < 60 && g < 60,
        "top should be red, got BGR {b},{g},{r}"
    );
    let [b, g, r] = frame.image.pixel(20, 60);
    assert!(
        b > 200 && r < 60 && g < 60,
        "bottom should be blue, got BGR {b},{g},{r}"
    );
}

#[test]
fn sample_photo_with_exif_orientation_comes_out_portrait() {
    let path = Path::new("/work/shared/data/spoof-samples/image_T1.jpg");
    if !path.exists() {
        eprintln!("skipped: {} is not available", path.display());
        return;
    }
    let (stored_w, stored_h) = image::image_dimensions(path).unwrap();
    assert!(stored_w > stored_h, "the sample is stored landscape");
    let frame = single_frame(collect(open_path(path, &DecodeOptions::default()).unwrap()).unwrap());
    assert_eq!(
        (frame.info.source_width, frame.info.source_height),
        (stored_h, stored_w)
    );
    assert!(frame.image.width < frame.image.height);
    assert!(frame.image.width.max(frame.image.height) <= 640);
}

#[test]
fn large_still_is_scaled_to_the_working_size() {
    let rgb = RgbImage::from_pixel(1000, 500, Rgb([10, 20, 30]));
    let path = derived("large.png", &encode(&rgb, ImageFormat::Png));
    let frame =
        single_frame(collect(open_path(&path, &DecodeOptions::default()).unwrap()).unwrap());
    assert_eq!(
        (frame.info.source_width, frame.info.source_height),
        (1000, 500)
    );
    assert_eq!((frame.image.width, frame.image.height), (640, 320));
    let [b, g, r] = frame.image.pixel(320, 160);
    assert!(b.abs_diff(30) <= 2 && g.abs_diff(20) <= 2 && r.abs_diff(10) <= 2);
}

#[test]
fn still_errors() {
    let rgb = RgbImage::from_pixel(100, 100, Rgb([0, 0, 0]));
    let png = encode(&rgb, ImageFormat::Png);
    let small_limit = DecodeOptions {
        max_source_pixels: 9_999,
        ..DecodeOptions::default()
    };
    let err = open_reader(Cursor::new(png.clone()), &small_limit).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                width: 100,
                height: 100,
                limit: 9_999
            }
        ),
        "{err:?}"
    );

    // Valid magic, broken body.
    let mut broken = png[..40].to_vec();
    broken.extend([0xAB; 64]);
    let err = open_reader(Cursor::new(broken), &DecodeOptions::default()).unwrap_err();
    assert!(matches!(err, MediaError::Image(_)), "{err:?}");

    // A hint forces the still decoder even without the magic.
    let hinted = DecodeOptions {
        hint: ContainerHint::Jpeg,
        ..DecodeOptions::default()
    };
    let err = open_reader(Cursor::new(b"definitely not a jpeg".to_vec()), &hinted).unwrap_err();
    assert!(matches!(err, MediaError::Image(_)), "{err:?}");
}
