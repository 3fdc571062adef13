//! Inputs that must fail with a precise error, never a panic or a hang.

use std::io::{self, Cursor, Read};
use std::time::Duration;

use candor_media::{DecodeOptions, MediaError, open_path, open_reader};

use crate::fixtures::*;

const LIMIT: Duration = Duration::from_secs(20);

fn from_path(path: std::path::PathBuf) -> Result<usize, MediaError> {
    within(LIMIT, move || {
        open_path(&path, &DecodeOptions::default())
            .and_then(collect)
            .map(|e| e.len())
    })
}

fn from_stream(bytes: Vec<u8>) -> Result<usize, MediaError> {
    within(LIMIT, move || {
        open_reader(ChunkedReader::new(bytes, 4096), &DecodeOptions::default())
            .and_then(collect)
            .map(|e| e.len())
    })
}

#[test]
fn empty_input() {
    let path = derived("empty.mp4", &[]);
    assert!(matches!(from_path(path), Err(MediaError::Empty)));
    assert!(matches!(from_stream(Vec::new()), Err(MediaError::Empty)));
    assert_eq!(MediaError::Empty.to_string(), "input is empty");
}

#[test]
fn missing_file_is_an_io_error() {
    let err = open_path("/nonexistent/candor/video.mp4", &DecodeOptions::default()).unwrap_err();
    assert!(
        matches!(&err, MediaError::Io(e) if e.kind() == io::ErrorKind::NotFound),
        "{err:?}"
    );
}

#[test]
fn random_bytes_are_unrecognised() {
    for seed in 1..=4 {
        let bytes = random_bytes(seed, 48 * 1024);
        let path = derived(&format!("random-{seed}.bin"), &bytes);
        for result in [from_path(path), from_stream(bytes)] {
            let err = result.unwrap_err();
            assert!(
                matches!(err, MediaError::UnrecognisedFormat | MediaError::Corrupt(_)),
                "seed {seed}: {err:?}"
            );
            assert!(!err.to_string().is_empty());
        }
    }
}

#[test]
fn mp4_cut_before_its_index_is_truncated() {
    let bytes = std::fs::read(mp4()).unwrap();
    let cut = bytes[..bytes.len() * 3 / 10].to_vec();
    let path = derived("cut.mp4", &cut);
    for result in [from_path(path), from_stream(cut)] {
        let err = result.unwrap_err();
        assert!(matches!(err, MediaError::Truncated(_)), "{err:?}");
        assert!(err.to_string().contains("moov"), "{err}");
    }
}

#[test]
fn webm_cut_inside_its_header_is_truncated() {
    let bytes = std::fs::read(webm_vp8()).unwrap();
    let cut = bytes[..40].to_vec();
    let err = from_stream(cut).unwrap_err();
    assert!(matches!(err, MediaError::Truncated(_)), "{err:?}");
}

#[test]
fn audio_only_has_no_video_stream() {
    let m4a = audio_only_m4a();
    let mp3 = clip(
        "audio.mp3",
        &["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libmp3lame"],
    );
    for path in [m4a, mp3] {
        let bytes = std::fs::read(&path).unwrap();
        for result in [from_path(path.clone()), from_stream(bytes)] {
            let err = result.unwrap_err();
            assert!(
                matches!(err, MediaError::NoVideoStream),
                "{}: {err:?}",
                path.display()
            );
        }
    }
}

#[test]
fn oversized_source_is_rejected() {
    let opts = DecodeOptions {
        max_source_pixels: 320 * 240 - 1,
        ..DecodeOptions::default()
    };
    let err = open_path(webm_vp9(), &opts).unwrap_err();
    assert!(
        matches!(err, MediaError::TooLarge { width: 320, height: 240, limit } if limit == 320 * 240 - 1),
        "{err:?}"
    );
    let err = open_reader(ChunkedReader::of_file(&annexb_h264()), &opts).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { .. }), "{err:?}");
}

/// Delivers `good` bytes, then fails (or panics).
struct FailingReader {
    inner: Cursor<Vec<u8>>,
    panic: bool,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len().min(4096);
        let n = self.inner.read(&mut buf[..len])?;
        if n > 0 {
            return Ok(n);
        }
        if self.panic {
            panic!("reader exploded");
        }
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "peer went away",
        ))
    }
}

#[test]
fn reader_failure_mid_stream_ends_iteration_with_the_io_error() {
    let bytes = std::fs::read(webm_vp8()).unwrap();
    for panic in [false, true] {
        let half = bytes[..bytes.len() / 2].to_vec();
        let reader = FailingReader {
            inner: Cursor::new(half),
            panic,
        };
        let mut decoder = open_reader(reader, &DecodeOptions::default()).unwrap();
        let mut frames = 0;
        let err = loop {
            match decoder.next() {
                Some(Ok(_)) => frames += 1,
                Some(Err(e)) => break e,
                None => panic!("ended without reporting the reader failure"),
            }
        };
        assert!(frames > 5, "frames before the failure: {frames}");
        match (&err, panic) {
            (MediaError::Io(e), false) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            (MediaError::Io(e), true) => assert!(e.to_string().contains("reader exploded"), "{e}"),
            _ => panic!("unexpected {err:?}"),
        }
        assert!(decoder.next().is_none(), "iteration ends after an error");
        assert!(decoder.next().is_none());
    }
}

#[test]
fn reader_failing_immediately_is_an_io_error() {
    let reader = FailingReader {
        inner: Cursor::new(Vec::new()),
        panic: false,
    };
    let err = open_reader(reader, &DecodeOptions::default()).unwrap_err();
    assert!(matches!(err, MediaError::Io(_)), "{err:?}");
}

#[test]
fn mp4_cut_inside_its_samples_yields_the_frames_then_truncated() {
    let path = clip(
        "faststart.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ],
    );
    let bytes = std::fs::read(path).unwrap();
    let cut = bytes[..bytes.len() * 6 / 10].to_vec();
    let cut_path = derived("cut-faststart.mp4", &cut);
    let decoders = [
        open_path(cut_path, &DecodeOptions::default()).unwrap(),
        open_reader(ChunkedReader::new(cut, 4096), &DecodeOptions::default()).unwrap(),
    ];
    for mut decoder in decoders {
        let mut pts = Vec::new();
        let err = loop {
            match decoder.next() {
                Some(Ok(event)) => pts.push(event.info().pts_us),
                Some(Err(e)) => break e,
                None => panic!("a cut MP4 must not end silently"),
            }
        };
        assert!(matches!(err, MediaError::Truncated(_)), "{err:?}");
        assert!(pts.len() > 10 && pts.len() < 50, "{} frames", pts.len());
        // Frames whose references were cut off are missing, the rest keep their time.
        assert_eq!(pts[..20], every_40ms(20));
        assert!(
            pts.windows(2).all(|w| w[0] < w[1] && w[1] % 40_000 == 0),
            "{pts:?}"
        );
        assert!(decoder.next().is_none());
    }
}

#[test]
fn wrong_container_hint_is_reported() {
    let opts = DecodeOptions {
        hint: candor_media::ContainerHint::Mp4,
        ..DecodeOptions::default()
    };
    let path = webm_vp8();
    let err = within(LIMIT, move || {
        open_reader(ChunkedReader::of_file(&path), &opts).map(|_| ())
    })
    .unwrap_err();
    match &err {
        MediaError::WrongFormat { declared, detected } => {
            assert_eq!(declared, "mp4");
            assert!(detected.contains("webm"), "{detected}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn damage_in_the_middle_is_survived_or_reported() {
    for (name, path) in [
        ("mkv", mkv_h264()),
        ("h264", annexb_h264()),
        ("webm", webm_vp9()),
    ] {
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        let noise = random_bytes(7, 3000);
        bytes[mid..mid + noise.len()].copy_from_slice(&noise);
        match from_stream(bytes) {
            // Matroska resynchronises on the next cluster; in a 2 s clip that is the
            // end, so fewer frames without an error is a legitimate outcome.
            Ok(frames) => assert!(frames > 0, "{name}: no frames"),
            Err(e) => assert!(
                matches!(e, MediaError::Corrupt(_) | MediaError::Truncated(_)),
                "{name}: {e:?}"
            ),
        }
    }
}

/// A live H.264 stream that was good, then carried a burst of corrupt slices (more
/// than the 8 failures in a row tolerated before the first frame), then recovered:
/// the burst is counted and the frames after it still come.
#[test]
fn a_burst_of_h264_corruption_after_good_frames_is_survived_and_counted() {
    let good = std::fs::read(annexb_h264()).unwrap();
    let mut bytes = good.clone();
    // 40 coded slices (IDR type 5) whose headers are noise: each one fails to decode.
    for i in 0..40u64 {
        bytes.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88]);
        bytes.extend(random_bytes(100 + i, 400).into_iter().map(|b| b | 1));
    }
    bytes.extend_from_slice(&good);
    let (frames, undecodable) = within(LIMIT, move || {
        let mut decoder =
            open_reader(ChunkedReader::new(bytes, 4096), &DecodeOptions::default()).unwrap();
        let mut frames = 0;
        for event in &mut decoder {
            event.unwrap();
            frames += 1;
        }
        (frames, decoder.undecodable())
    });
    assert!(frames > 50, "frames after the burst were lost: {frames}");
    assert!(
        undecodable > 8,
        "the burst should fail more than the bound before the first frame: {undecodable}"
    );
}
