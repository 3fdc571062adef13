//! Shared helpers for the end-to-end tests: where the models and data are, making media
//! with the ffmpeg CLI, and running the real `candor` binary.

#![allow(dead_code)]

pub mod browser;
pub mod process;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Labelled development data: CANDOR_TEST_DATA, default ../shared/data beside the checkout.
pub fn data_dir() -> PathBuf {
    std::env::var_os("CANDOR_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"))
}

pub fn data(rel: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(
        p.is_file(),
        "test data {} is missing (set CANDOR_TEST_DATA)",
        p.display()
    );
    p
}

/// Runs ffmpeg with `args`, failing the test with its stderr when it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg CLI (installed by scripts/setup)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The frame of `clip` at `at_s` seconds, as an image at `out` (PNG by its name).
pub fn still_frame(clip: &Path, at_s: f32, out: &Path) {
    let at = at_s.to_string();
    ffmpeg(&[
        "-ss",
        &at,
        "-i",
        path_str(clip),
        "-frames:v",
        "1",
        path_str(out),
    ]);
}

/// `still` shown for `seconds` at `fps`, as H.264 in MP4 at `out`: a frozen feed, or a
/// photo sent as video.
pub fn frozen_video(still: &Path, seconds: u32, fps: u32, out: &Path) {
    let (t, r) = (seconds.to_string(), fps.to_string());
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        path_str(still),
        "-t",
        &t,
        "-r",
        &r,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        path_str(out),
    ]);
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 test path")
}

/// Whether a segment's reasons include `code`.
pub fn has_reason(seg: &Value, code: &str) -> bool {
    seg["reasons"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["code"] == code))
}

/// A video replay of the tablet-screen still (a presentation attack), `seconds` long
/// at `fps`, made in `dir`.
pub fn screen_replay(dir: &Path, seconds: u32, fps: u32) -> PathBuf {
    let clip = dir.join("replay.mp4");
    let screen = data("spoof-samples/image_F2.jpg");
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        screen.to_str().unwrap(),
        "-t",
        &seconds.to_string(),
        "-r",
        &fps.to_string(),
        "-vf",
        "scale=480:-2",
        "-pix_fmt",
        "yuv420p",
        clip.to_str().unwrap(),
    ]);
    clip
}

/// Runs `candor` with `args`.
pub fn candor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("CANDOR_LOG")
        // The caller's result store must never receive test results.
        .env_remove("CANDOR_DATA_DIR")
        .output()
        .expect("run candor")
}

/// Runs `candor analyze --json` on `files` and returns (exit code, parsed lines, stderr).
pub fn analyze_json(files: &[&Path], extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut args = vec!["analyze", "--json"];
    args.extend_from_slice(extra);
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = candor(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The lines of one kind (`segment`, `summary`, `error`) for one file.
pub fn of_kind<'a>(lines: &'a [Value], kind: &str, file: &Path) -> Vec<&'a Value> {
    let name = file.display().to_string();
    lines
        .iter()
        .filter(|v| v["type"] == kind && v["file"] == name.as_str())
        .collect()
}
