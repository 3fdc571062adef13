//! YUV → BGR follows the stream's colour tags: full range ("pc") and the BT.709 matrix.

use std::path::{Path, PathBuf};
use std::process::Command;

use candor_core::Frame;
use candor_media::{DecodeOptions, open_path, open_reader};

use crate::fixtures::{ChunkedReader, clip, collect};

/// Four 32 px stripes of grey: 0, 20, 235 and 255. A full-range picture read as
/// limited range stretches the inner two to about 5 and 255.
const STRIPES: &str = "color=c=black:size=128x32:rate=25,format=rgb24,\
    drawbox=x=32:y=0:w=32:h=32:color=0x141414:t=fill,\
    drawbox=x=64:y=0:w=32:h=32:color=0xEBEBEB:t=fill,\
    drawbox=x=96:y=0:w=32:h=32:color=0xFFFFFF:t=fill";
const STRIPE_GREYS: [u8; 4] = [0, 20, 235, 255];

fn stripes(name: &str, range_args: &[&str], codec_args: &[&str]) -> PathBuf {
    let mut args = vec!["-f", "lavfi", "-i", STRIPES, "-t", "0.2"];
    args.extend_from_slice(range_args);
    args.extend_from_slice(codec_args);
    args.extend(["-pix_fmt", "yuv420p"]);
    clip(name, &args)
}

const FULL_RANGE: [&str; 4] = ["-vf", "scale=out_range=full", "-color_range", "pc"];
const VP9: [&str; 6] = [
    "-c:v",
    "libvpx-vp9",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
];
const X264: [&str; 4] = ["-c:v", "libx264", "-preset", "ultrafast"];

/// `key=value` lines ffprobe reports for the first video stream.
fn ffprobe_stream(path: &Path, entries: &str) -> String {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg(format!("stream={entries}"))
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(path)
        .output()
        .expect("cannot run ffprobe");
    assert!(
        output.status.success(),
        "ffprobe failed on {}",
        path.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn first_frames(path: &Path) -> Vec<Frame> {
    let opts = DecodeOptions::default();
    let from_path = collect(open_path(path, &opts).unwrap()).unwrap();
    let streamed = collect(open_reader(ChunkedReader::of_file(path), &opts).unwrap()).unwrap();
    [from_path, streamed]
        .into_iter()
        .map(|events| events[0].frame().unwrap().clone())
        .collect()
}

fn check_stripes(path: &Path) {
    for frame in first_frames(path) {
        assert_eq!((frame.image.width, frame.image.height), (128, 32));
        for (i, grey) in STRIPE_GREYS.into_iter().enumerate() {
            // The middle of the stripe, clear of chroma bleeding at the edges.
            let x = 32 * i as u32 + 16;
            let [b, g, r] = frame.image.pixel(x, 16);
            for (channel, value) in [("b", b), ("g", g), ("r", r)] {
                assert!(
                    value.abs_diff(grey) <= 3,
                    "{}: stripe {i} {channel} = {value}, expected about {grey}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn full_range_vp9_is_not_read_as_limited() {
    // VP9 decodes to plain yuv420p; only the colour_range tag says it is full range.
    let path = stripes("full-range.webm", &FULL_RANGE, &VP9);
    let probed = ffprobe_stream(&path, "pix_fmt,color_range");
    assert!(
        probed.contains("pix_fmt=yuv420p") && probed.contains("color_range=pc"),
        "{probed}"
    );
    check_stripes(&path);
}

#[test]
fn full_range_h264_is_not_read_as_limited() {
    // The H.264 decoder outputs full range as the (deprecated) yuvj420p format.
    let path = stripes("full-range.mp4", &FULL_RANGE, &X264);
    assert!(ffprobe_stream(&path, "color_range").contains("color_range=pc"));
    check_stripes(&path);
}

#[test]
fn limited_range_is_unchanged() {
    let tagged = stripes("limited-tagged.webm", &["-color_range", "tv"], &VP9);
    assert!(ffprobe_stream(&tagged, "color_range").contains("color_range=tv"));
    check_stripes(&tagged);
    check_stripes(&stripes("limited-untagged.mp4", &[], &X264));
}

#[test]
fn bt709_matrix_is_used_when_tagged() {
    // Red encoded with the BT.709 matrix, as HD phone video is; read with the
    // BT.601 default it would come out as about (233, 0, 2).
    let path = clip(
        "red-bt709.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red:size=64x48:rate=25",
            "-t",
            "0.2",
            "-vf",
            "scale=out_color_matrix=bt709",
            "-colorspace",
            "bt709",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    assert!(ffprobe_stream(&path, "color_space").contains("color_space=bt709"));
    for frame in first_frames(&path) {
        let [b, g, r] = frame.image.pixel(32, 24);
        assert!(
            r >= 250 && g <= 6 && b <= 6,
            "BGR ({b},{g},{r}), expected about (0,0,255)"
        );
    }
}
