//! Test media and helpers.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use candor_media::{DecodeEvent, Decoder, MediaError};

fn fixture_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("candor-media-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `ffmpeg <args> <out>`, failing the test with ffmpeg's stderr if it fails.
pub fn ffmpeg(args: &[&str], out: &Path) {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .arg(out)
        .output()
        .expect("cannot run the ffmpeg CLI");
    assert!(
        output.status.success(),
        "ffmpeg {args:?} {} failed:\n{}",
        out.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A file generated once by ffmpeg with `args`; reused while the arguments are the
/// same (the arguments are stored next to it).
pub fn clip(name: &str, args: &[&str]) -> PathBuf {
    static LOCKS: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut done = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(path) = done.get(name) {
        return path.clone();
    }
    let dir = fixture_dir();
    let path = dir.join(name);
    let stamp = dir.join(format!("{name}.args"));
    let wanted = args.join(" ");
    let fresh = std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) && path.exists();
    if !fresh {
        // Keep the real extension last so ffmpeg picks the right muxer.
        let tmp = dir.join(format!("tmp-{}-{name}", std::process::id()));
        ffmpeg(args, &tmp);
        std::fs::rename(&tmp, &path).unwrap();
        std::fs::write(&stamp, wanted).unwrap();
    }
    done.insert(name.to_owned(), path.clone());
    path
}

/// Writes `bytes` to a fixture file (for derived inputs: truncated, concatenated...).
/// `name` must be unique among tests.
pub fn derived(name: &str, bytes: &[u8]) -> PathBuf {
    let path = fixture_dir().join(format!("derived-{name}"));
    std::fs::write(&path, bytes).unwrap();
    path
}

const TESTSRC_2S: &str = "testsrc2=size=320x240:rate=25";

/// 2 s of 320x240 at 25 fps with the given output options.
fn testsrc(name: &str, codec_args: &[&str]) -> PathBuf {
    let mut args = vec!["-f", "lavfi", "-i", TESTSRC_2S, "-t", "2"];
    args.extend_from_slice(codec_args);
    clip(name, &args)
}

const X264: [&str; 6] = [
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
];

pub fn mp4() -> PathBuf {
    testsrc("plain.mp4", &X264)
}

pub fn fragmented_mp4() -> PathBuf {
    let mut args = X264.to_vec();
    args.extend(["-g", "12", "-movflags", "frag_keyframe+empty_moov"]);
    testsrc("fragmented.mp4", &args)
}

pub fn webm_vp8() -> PathBuf {
    testsrc(
        "vp8.webm",
        &[
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "500k",
        ],
    )
}

pub fn webm_vp9() -> PathBuf {
    testsrc(
        "vp9.webm",
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "500k",
        ],
    )
}

pub fn mkv_h264() -> PathBuf {
    testsrc("h264.mkv", &X264)
}

pub fn annexb_h264() -> PathBuf {
    let mut args = X264.to_vec();
    args.extend(["-bsf:v", "h264_mp4toannexb", "-f", "h264"]);
    testsrc("annexb.h264", &args)
}

pub fn annexb_h264_640() -> PathBuf {
    clip(
        "annexb-640.h264",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x480:rate=25",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "h264",
        ],
    )
}

pub fn hd_mp4() -> PathBuf {
    clip(
        "hd.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=25",
            "-t",
            "0.4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

pub fn red_mp4() -> PathBuf {
    clip(
        "red.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red:size=64x48:rate=25",
            "-t",
            "0.2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

pub fn audio_only_m4a() -> PathBuf {
    clip(
        "audio.m4a",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-c:a",
            "aac",
        ],
    )
}

/// Hands out `data` in chunks of at most `chunk` bytes, like network reads.
pub struct ChunkedReader {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl ChunkedReader {
    pub fn new(data: Vec<u8>, chunk: usize) -> Self {
        Self {
            data,
            pos: 0,
            chunk,
        }
    }

    pub fn of_file(path: &Path) -> Self {
        Self::new(std::fs::read(path).unwrap(), 4096)
    }
}

impl Read for ChunkedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Drains a decoder, stopping at the first error.
pub fn collect(decoder: Decoder) -> Result<Vec<DecodeEvent>, MediaError> {
    decoder.collect()
}

pub fn pts(events: &[DecodeEvent]) -> Vec<i64> {
    events.iter().map(|e| e.info().pts_us).collect()
}

pub fn sampled_pts(events: &[DecodeEvent]) -> Vec<i64> {
    events
        .iter()
        .filter_map(|e| e.frame())
        .map(|f| f.info.pts_us)
        .collect()
}

pub fn every_40ms(n: i64) -> Vec<i64> {
    (0..n).map(|i| i * 40_000).collect()
}

/// Runs `f` on another thread and fails the test if it takes longer than `limit`.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
