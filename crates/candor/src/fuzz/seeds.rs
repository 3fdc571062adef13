//! Seed inputs for each parser, made once with the ffmpeg CLI from real interview
//! clips and kept in a cache folder: small (160x120, one second) so that thousands of
//! mutants decode in seconds, but real encoder output with real headers.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, ensure};

use super::target::Parser;

/// Two seeds per parser (from two clips), so that splicing mixes real streams.
pub fn load(parser: Parser, clips: &[PathBuf], cache: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    std::fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    clips
        .iter()
        .enumerate()
        .map(|(i, clip)| {
            let name = format!("seed-{i}.{}", parser.extension());
            let path = cache.join(&name);
            if !path.exists() {
                let tmp = cache.join(format!("tmp-{}-{name}", std::process::id()));
                make(parser, clip, &tmp)?;
                std::fs::rename(&tmp, &path)?;
            }
            let bytes = std::fs::read(&path)?;
            Ok(match parser {
                Parser::Raw => raw_input(&bytes),
                _ => bytes,
            })
        })
        .collect()
}

/// A raw frame as the fuzzer feeds it: a header of width, height, stride (u32 LE)
/// and a format byte (0 I420, 1 RGB24), then the pixels.
fn raw_input(i420: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + i420.len());
    for v in [RAW_W, RAW_H, 0u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(0);
    out.extend_from_slice(i420);
    out
}

pub const RAW_W: u32 = 32;
pub const RAW_H: u32 = 24;

fn make(parser: Parser, clip: &Path, out: &Path) -> anyhow::Result<()> {
    let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "10"];
    let small = ["-an", "-vf", "scale=160:120", "-pix_fmt", "yuv420p"];
    let mut args: Vec<&str> = vec!["-t", "1"];
    args.extend(small);
    let raw_size = format!("scale={RAW_W}:{RAW_H}");
    match parser {
        Parser::H264 => {
            args.extend(x264);
            args.extend(["-bsf:v", "h264_mp4toannexb", "-f", "h264"]);
        }
        Parser::Webm => args.extend([
            "-c:v",
            "libvpx",
            "-b:v",
            "200k",
            "-deadline",
            "realtime",
            "-f",
            "webm",
        ]),
        Parser::Fmp4 => {
            args.extend(x264);
            args.extend([
                "-movflags",
                "frag_keyframe+empty_moov+default_base_moof",
                "-f",
                "mp4",
            ]);
        }
        Parser::Mp4 => {
            args.extend(x264);
            args.extend(["-f", "mp4"]);
        }
        Parser::Mkv => {
            args.extend(x264);
            args.extend(["-f", "matroska"]);
        }
        Parser::Jpeg => args.extend(["-frames:v", "1", "-q:v", "5", "-f", "mjpeg"]),
        Parser::Png => args.extend([
            "-frames:v",
            "1",
            "-c:v",
            "png",
            "-f",
            "image2",
            "-update",
            "1",
        ]),
        Parser::Raw => {
            args = vec!["-an", "-vf", &raw_size, "-pix_fmt", "yuv420p"];
            args.extend(["-frames:v", "1", "-f", "rawvideo"]);
        }
    }
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i"])
        .arg(clip)
        .args(&args)
        .arg(out)
        .status()
        .context("running the ffmpeg CLI (installed by scripts/setup)")?;
    ensure!(
        status.success(),
        "ffmpeg could not make a {parser:?} seed from {}",
        clip.display()
    );
    Ok(())
}
