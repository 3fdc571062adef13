//! Display rotation (phone recordings): sampled images and sizes come out as the
//! ffmpeg CLI shows them with its default `-autorotate`.

use std::ops::Range;
use std::path::Path;
use std::process::Command;

use candor_core::Frame;
use candor_media::{DecodeEvent, DecodeOptions, open_path, open_reader};

use crate::fixtures::{ChunkedReader, clip, collect, derived};

const PHONE_CLIP: &str = "/work/shared/data/deepfake-samples/talkinghead_real_obaidakhateeb.mp4";

/// The first frame of `path` as the ffmpeg CLI outputs it (autorotated), as BGR24,
/// after the extra filters `vf` (e.g. a scale), if any.
fn cli_first_frame(path: &Path, vf: Option<&str>) -> Vec<u8> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-frames:v", "1"]);
    if let Some(vf) = vf {
        cmd.args(["-vf", vf]);
    }
    let output = cmd
        .args(["-f", "rawvideo", "-pix_fmt", "bgr24", "-"])
        .output()
        .expect("cannot run the ffmpeg CLI");
    assert!(
        output.status.success(),
        "ffmpeg failed on {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "image sizes differ");
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    total as f64 / a.len() as f64
}

/// Every frame, all sampled, at the source size (these fixtures are small).
fn all_frames() -> DecodeOptions {
    DecodeOptions {
        sample_fps: 0.0,
        ..DecodeOptions::default()
    }
}

fn frames(events: &[DecodeEvent]) -> Vec<&Frame> {
    events.iter().filter_map(DecodeEvent::frame).collect()
}

/// 320x240 testsrc2 (asymmetric, so every turn and mirror looks different), as
/// fragmented MP4 so it also streams.
fn testsrc_fragmented() -> std::path::PathBuf {
    clip(
        "rotation-base.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "0.4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "frag_keyframe+empty_moov",
        ],
    )
}

/// The first child box of type `kind` within `range` of an MP4 file.
fn child_box(mp4: &[u8], range: Range<usize>, kind: &[u8; 4]) -> Option<Range<usize>> {
    let mut pos = range.start;
    while pos + 8 <= range.end {
        let size = u32::from_be_bytes(mp4[pos..pos + 4].try_into().unwrap()) as usize;
        let size = match size {
            0 => range.end - pos,
            1 => u64::from_be_bytes(mp4[pos + 8..pos + 16].try_into().unwrap()) as usize,
            n => n,
        };
        if &mp4[pos + 4..pos + 8] == kind {
            return Some(pos..pos + size);
        }
        pos += size.max(8);
    }
    None
}

/// A copy of `mp4` (one track) whose track header carries the display matrix
/// `[a b 0; c d 0; 0 0 1]` (16.16 fixed point, as FFmpeg lays it out).
fn with_display_matrix(mp4: &[u8], [a, b, c, d]: [i32; 4]) -> Vec<u8> {
    let moov = child_box(mp4, 0..mp4.len(), b"moov").expect("moov");
    let trak = child_box(mp4, moov.start + 8..moov.end, b"trak").expect("trak");
    let tkhd = child_box(mp4, trak.start + 8..trak.end, b"tkhd").expect("tkhd");
    // Box header, version and flags, times/ids/duration (32- or 64-bit), then
    // reserved, layer, alternate group, volume, reserved: then the matrix.
    let times = if mp4[tkhd.start + 8] == 1 { 32 } else { 20 };
    let matrix = tkhd.start + 12 + times + 16;
    let mut out = mp4.to_vec();
    for (i, v) in [a, b, 0, c, d, 0, 0, 0, 1 << 30].into_iter().enumerate() {
        out[matrix + 4 * i..matrix + 4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

const ONE: i32 = 1 << 16;

#[test]
fn every_display_matrix_turn_and_mirror_matches_ffmpeg_autorotate() {
    let base = std::fs::read(testsrc_fragmented()).unwrap();
    // (matrix a, b, c, d; clockwise degrees; mirrored), as ffprobe would report
    // e.g. `rotation=-90` for the second one.
    let cases = [
        ([ONE, 0, 0, ONE], 0, false),
        ([0, ONE, -ONE, 0], 90, false),
        ([-ONE, 0, 0, -ONE], 180, false),
        ([0, -ONE, ONE, 0], 270, false),
        ([-ONE, 0, 0, ONE], 0, true),   // hflip
        ([0, -ONE, -ONE, 0], 90, true), // anti-transpose
        ([ONE, 0, 0, -ONE], 180, true), // vflip
        ([0, ONE, ONE, 0], 270, true),  // transpose
    ];
    for (matrix, degrees, mirrored) in cases {
        let what = format!("matrix {matrix:?}");
        let path = derived(
            &format!("rotation-{degrees}-{mirrored}.mp4"),
            &with_display_matrix(&base, matrix),
        );
        let expected = cli_first_frame(&path, None);
        let (w, h) = if degrees % 180 == 0 {
            (320, 240)
        } else {
            (240, 320)
        };
        assert_eq!(expected.len(), w * h * 3, "{what}: CLI output size");

        for streamed in [false, true] {
            let what = format!("{what}, streamed: {streamed}");
            let decoder = if streamed {
                open_reader(ChunkedReader::of_file(&path), &all_frames()).unwrap()
            } else {
                open_path(&path, &all_frames()).unwrap()
            };
            let info = decoder.info().clone();
            assert_eq!(
                (
                    info.width,
                    info.height,
                    info.rotation_degrees,
                    info.mirrored
                ),
                (w as u32, h as u32, degrees, mirrored),
                "{what}: {info:?}"
            );
            let events = collect(decoder).unwrap();
            assert_eq!(events.len(), 10, "{what}");
            for e in &events {
                let i = e.info();
                assert_eq!((i.source_width, i.source_height), (w as u32, h as u32));
            }
            let first = frames(&events)[0];
            assert_eq!(
                (first.image.width, first.image.height),
                (w as u32, h as u32)
            );
            let diff = mean_abs_diff(&first.image.data, &expected);
            assert!(diff < 3.0, "{what}: mean difference to ffmpeg {diff:.2}");
        }
    }
}

/// Left half red, right half blue, stored 320x120.
fn red_blue_args(movflags: &'static str) -> Vec<&'static str> {
    vec![
        "-f",
        "lavfi",
        "-i",
        "color=red:size=160x120:rate=25,pad=320:120:0:0:blue",
        "-t",
        "0.4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        movflags,
    ]
}

#[test]
fn rotate_tag_written_by_ffmpeg_turns_the_picture_clockwise() {
    // FFmpeg 5.1's MP4 muxer turns the `rotate=270` tag into a display matrix that
    // ffprobe reports as `rotation=-90`: shown turned 90° clockwise, as a phone
    // held upright records it. The left (red) half then ends up on top.
    let base = clip("red-blue.mp4", &red_blue_args("+faststart"));
    let base_str = base.to_str().unwrap();
    let rotated = |name, movflags| {
        let args = [
            "-i",
            base_str,
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=270",
            "-movflags",
            movflags,
        ];
        clip(name, &args)
    };
    let plain = rotated("red-blue-rot.mp4", "+faststart");
    let fragmented = rotated("red-blue-rot-frag.mp4", "frag_keyframe+empty_moov");

    let expected = cli_first_frame(&plain, None);
    for (path, streamed) in [(&plain, false), (&fragmented, true), (&plain, true)] {
        let what = format!("{} streamed: {streamed}", path.display());
        let decoder = if streamed {
            open_reader(ChunkedReader::of_file(path), &all_frames()).unwrap()
        } else {
            open_path(path, &all_frames()).unwrap()
        };
        let info = decoder.info().clone();
        assert_eq!(
            (
                info.width,
                info.height,
                info.rotation_degrees,
                info.mirrored
            ),
            (120, 320, 90, false),
            "{what}: {info:?}"
        );
        let events = collect(decoder).unwrap();
        let frame = frames(&events)[0];
        assert_eq!(
            (frame.image.width, frame.image.height),
            (120, 320),
            "{what}"
        );
        for (x, y) in [(5, 5), (114, 5), (60, 150)] {
            let [b, g, r] = frame.image.pixel(x, y);
            assert!(
                r > 200 && g < 40 && b < 40,
                "{what}: ({x},{y}) is {r},{g},{b}, not red"
            );
        }
        for (x, y) in [(5, 314), (114, 314), (60, 170)] {
            let [b, g, r] = frame.image.pixel(x, y);
            assert!(
                b > 200 && g < 40 && r < 40,
                "{what}: ({x},{y}) is {r},{g},{b}, not blue"
            );
        }
        let diff = mean_abs_diff(&frame.image.data, &expected);
        assert!(diff < 3.0, "{what}: mean difference to ffmpeg {diff:.2}");
    }
}

#[test]
fn per_frame_display_matrix_is_applied_and_persists() {
    // Raw H.264 has no container matrix; the display orientation SEI (written to the
    // first access unit only) says "turn 90° counter-clockwise", i.e. 270° clockwise.
    let base = clip(
        "sei-base.h264",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "0.4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "h264",
        ],
    );
    let sei = clip(
        "sei-rotate.h264",
        &[
            "-i",
            base.to_str().unwrap(),
            "-c",
            "copy",
            "-bsf:v",
            "h264_metadata=display_orientation=insert:rotate=90",
            "-f",
            "h264",
        ],
    );
    let decoder = open_path(&sei, &all_frames()).unwrap();
    let info = decoder.info().clone();
    // Only the frames know: the stream-level info is as stored.
    assert_eq!(
        (info.width, info.height, info.rotation_degrees),
        (320, 240, 0)
    );
    let turned = collect(decoder).unwrap();
    let plain = collect(open_path(&base, &all_frames()).unwrap()).unwrap();
    assert_eq!(turned.len(), 10);
    assert_eq!(plain.len(), 10);

    let diff = mean_abs_diff(&frames(&turned)[0].image.data, &cli_first_frame(&sei, None));
    assert!(diff < 3.0, "mean difference to ffmpeg {diff:.2}");
    for (t, p) in frames(&turned).into_iter().zip(frames(&plain)) {
        let i = t.info.decoded_index;
        assert_eq!(
            (t.info.source_width, t.info.source_height),
            (240, 320),
            "#{i}"
        );
        assert_eq!((t.image.width, t.image.height), (240, 320), "#{i}");
        // Turned 90° counter-clockwise: output (x, y) shows source (319 - y, x).
        for (x, y) in [(0, 0), (239, 0), (0, 319), (120, 200), (37, 91)] {
            assert_eq!(
                t.image.pixel(x, y),
                p.image.pixel(319 - y, x),
                "#{i} at ({x},{y})"
            );
        }
    }
}

#[test]
fn phone_clip_comes_out_portrait() {
    let path = Path::new(PHONE_CLIP);
    if !path.exists() {
        eprintln!("skipped: {PHONE_CLIP} is not available");
        return;
    }
    // Stored 1024x576 with rotation=-90: displayed 576x1024.
    let mut decoder = open_path(path, &DecodeOptions::default()).unwrap();
    let info = decoder.info().clone();
    assert_eq!(
        (
            info.width,
            info.height,
            info.rotation_degrees,
            info.mirrored
        ),
        (576, 1024, 90, false),
        "{info:?}"
    );
    let first = decoder.next().unwrap().unwrap();
    let frame = first.frame().expect("the first frame is sampled");
    assert_eq!(
        (frame.info.source_width, frame.info.source_height),
        (576, 1024)
    );
    assert_eq!((frame.image.width, frame.image.height), (360, 640));
    assert!((frame.to_source_scale() - 1.6).abs() < 1e-6);
    // Same picture as the CLI's autorotated frame scaled to the working size (the
    // resampling filters differ, hence the looser bound).
    let expected = cli_first_frame(path, Some("scale=360:640:flags=area"));
    let diff = mean_abs_diff(&frame.image.data, &expected);
    assert!(diff < 4.0, "mean difference to ffmpeg {diff:.2}");
}
