//! Every supported container, from a path and streamed, with exact frame timing.

use std::path::Path;
use std::time::Duration;

use candor_media::{
    ContainerHint, DecodeEvent, DecodeOptions, GlanceRate, MediaError, StreamInfo, open_path,
    open_reader,
};

use crate::fixtures::*;

/// 25 fps for 2 s sampled at 2 fps: the first frame at or after each half second.
const SAMPLED_2FPS: [i64; 4] = [0, 520_000, 1_000_000, 1_520_000];

fn check_testsrc(events: &[DecodeEvent], what: &str) {
    assert_eq!(events.len(), 50, "{what}: decoded frame count");
    assert_eq!(pts(events), every_40ms(50), "{what}: timestamps");
    for (i, e) in events.iter().enumerate() {
        let info = e.info();
        assert_eq!(info.decoded_index, i as u64, "{what}");
        assert_eq!(
            (info.source_width, info.source_height),
            (320, 240),
            "{what}"
        );
    }
    // Every frame, sampled or not, carries its fingerprint for loop detection, and
    // testsrc's moving pattern makes consecutive ones differ.
    let prints: Vec<_> = events
        .iter()
        .map(|e| {
            e.info()
                .fingerprint
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: no fingerprint"))
        })
        .collect();
    assert!(
        prints.windows(2).all(|w| w[0] != w[1]),
        "{what}: fingerprints"
    );
    assert_eq!(sampled_pts(events), SAMPLED_2FPS, "{what}: sampled");
    let skipped = events
        .iter()
        .filter(|e| matches!(e, DecodeEvent::Skipped(_)))
        .count();
    assert_eq!(skipped, 46, "{what}: skipped");
    for frame in events.iter().filter_map(DecodeEvent::frame) {
        assert_eq!(
            (frame.image.width, frame.image.height),
            (320, 240),
            "{what}"
        );
        assert_eq!(frame.image.data.len(), 320 * 240 * 3, "{what}");
    }
}

fn decode_both_ways(path: &Path, codec: &str, container: &str) -> StreamInfo {
    let opts = DecodeOptions::default();
    let decoder = open_path(path, &opts).unwrap();
    let info = decoder.info().clone();
    let from_file = collect(decoder).unwrap();
    check_testsrc(&from_file, &format!("{} (path)", path.display()));

    let decoder = open_reader(ChunkedReader::of_file(path), &opts).unwrap();
    let streamed_info = decoder.info().clone();
    let streamed = collect(decoder).unwrap();
    check_testsrc(&streamed, &format!("{} (stream)", path.display()));
    assert_eq!(pts(&streamed), pts(&from_file));

    for i in [&info, &streamed_info] {
        assert_eq!(i.codec, codec);
        assert!(i.container.contains(container), "{i:?}");
        assert_eq!((i.width, i.height), (320, 240));
    }
    assert_eq!(info.fps, Some(25.0), "{info:?}");
    info
}

#[test]
fn plain_mp4_from_path() {
    let opts = DecodeOptions::default();
    let decoder = open_path(mp4(), &opts).unwrap();
    let info = decoder.info().clone();
    assert_eq!(info.codec, "h264");
    assert!(info.container.contains("mp4"), "{info:?}");
    assert_eq!(info.duration_us, Some(2_000_000));
    check_testsrc(&collect(decoder).unwrap(), "plain mp4");
}

#[test]
fn fragmented_mp4_path_and_stream() {
    decode_both_ways(&fragmented_mp4(), "h264", "mp4");
}

#[test]
fn webm_vp8_path_and_stream() {
    let info = decode_both_ways(&webm_vp8(), "vp8", "webm");
    assert_eq!(info.duration_us, Some(2_000_000));
}

#[test]
fn webm_vp9_path_and_stream() {
    decode_both_ways(&webm_vp9(), "vp9", "webm");
}

#[test]
fn mkv_h264_path_and_stream() {
    decode_both_ways(&mkv_h264(), "h264", "matroska");
}

#[test]
fn annexb_h264_path_and_stream() {
    decode_both_ways(&annexb_h264(), "h264", "h264");
}

#[test]
fn forced_container_hints_decode_the_same() {
    for (path, hint) in [
        (annexb_h264(), ContainerHint::H264AnnexB),
        (webm_vp8(), ContainerHint::Matroska),
        (fragmented_mp4(), ContainerHint::Mp4),
    ] {
        let opts = DecodeOptions {
            hint,
            ..DecodeOptions::default()
        };
        let events = collect(open_reader(ChunkedReader::of_file(&path), &opts).unwrap()).unwrap();
        check_testsrc(&events, &format!("{hint:?}"));
    }
}

#[test]
fn fps_hint_sets_the_rate_of_synthesised_timestamps() {
    // Raw H.264 frames carry no timestamps; the hint overrides the declared 25 fps.
    let opts = DecodeOptions {
        fps_hint: Some(50.0),
        sample_fps: 0.0,
        ..DecodeOptions::default()
    };
    let events = collect(open_path(annexb_h264(), &opts).unwrap()).unwrap();
    let expected: Vec<i64> = (0..50).map(|i| i * 20_000).collect();
    assert_eq!(pts(&events), expected);
    assert_eq!(
        sampled_pts(&events),
        expected,
        "sample_fps 0 samples every frame"
    );
}

#[test]
fn large_source_is_scaled_to_the_working_size() {
    let opts = DecodeOptions {
        sample_fps: 0.0,
        ..DecodeOptions::default()
    };
    let events = collect(open_path(hd_mp4(), &opts).unwrap()).unwrap();
    assert_eq!(events.len(), 10);
    for e in &events {
        let frame = e.frame().expect("every frame sampled");
        assert_eq!(
            (frame.info.source_width, frame.info.source_height),
            (1280, 720)
        );
        assert_eq!((frame.image.width, frame.image.height), (640, 360));
        assert!((frame.to_source_scale() - 2.0).abs() < 1e-6);
    }

    let opts = DecodeOptions {
        max_side: 200,
        ..opts
    };
    let frame = open_path(hd_mp4(), &opts).unwrap().next().unwrap().unwrap();
    let image = &frame.frame().unwrap().image;
    assert_eq!((image.width, image.height), (200, 113));
}

#[test]
fn analysed_frames_keep_the_full_resolution_picture_for_face_crops() {
    let opts = DecodeOptions {
        sample_fps: 5.0,
        glance: GlanceRate::new(25.0),
        crop_max_side: 1920,
        ..DecodeOptions::default()
    };
    let events = collect(open_path(hd_mp4(), &opts).unwrap()).unwrap();
    let (mut sampled, mut glanced) = (0, 0);
    for e in &events {
        match e {
            DecodeEvent::Sampled(frame) => {
                sampled += 1;
                let full = frame.source.as_ref().expect("a full-resolution picture");
                assert_eq!((full.width, full.height), (1280, 720));
                // The same picture as the working one, only larger.
                let (a, b) = (frame.image.luma(320, 180), full.luma(641, 361));
                assert!((a - b).abs() < 24.0, "{a} vs {b}");
            }
            DecodeEvent::Glance(frame) => {
                glanced += 1;
                assert!(frame.source.is_none(), "glances stay at the working size");
            }
            DecodeEvent::Skipped(_) => {}
        }
    }
    assert!(
        sampled > 0 && glanced > 0,
        "{sampled} sampled, {glanced} glanced"
    );

    // Capped at crop_max_side; off when that is no larger than the working size.
    for (cap, want) in [(960, Some((960, 540))), (640, None), (0, None)] {
        let opts = DecodeOptions {
            crop_max_side: cap,
            ..DecodeOptions::default()
        };
        let event = open_path(hd_mp4(), &opts).unwrap().next().unwrap().unwrap();
        let got = event
            .frame()
            .unwrap()
            .source
            .as_ref()
            .map(|f| (f.width, f.height));
        assert_eq!(got, want, "crop_max_side {cap}");
    }
}

#[test]
fn red_video_decodes_to_red_bgr() {
    let events = collect(open_path(red_mp4(), &DecodeOptions::default()).unwrap()).unwrap();
    let frame = events[0].frame().unwrap();
    for (x, y) in [(0, 0), (32, 24), (63, 47)] {
        let [b, g, r] = frame.image.pixel(x, y);
        assert!(
            b <= 10 && g <= 10 && r >= 245,
            "pixel ({x},{y}) is BGR ({b},{g},{r}), expected about (0,0,255)"
        );
    }
}

#[test]
fn resolution_change_mid_stream() {
    let mut bytes = std::fs::read(annexb_h264()).unwrap();
    bytes.extend(std::fs::read(annexb_h264_640()).unwrap());
    let events =
        collect(open_reader(ChunkedReader::new(bytes, 4096), &DecodeOptions::default()).unwrap())
            .unwrap();
    assert_eq!(events.len(), 75);
    assert_eq!(pts(&events), every_40ms(75));
    let sizes: Vec<(u32, u32)> = events
        .iter()
        .filter_map(DecodeEvent::frame)
        .map(|f| (f.image.width, f.image.height))
        .collect();
    assert_eq!(
        sizes,
        [
            (320, 240),
            (320, 240),
            (320, 240),
            (320, 240),
            (640, 480),
            (640, 480)
        ]
    );
    assert!(events[..50].iter().all(|e| e.info().source_width == 320));
    assert!(events[50..].iter().all(|e| e.info().source_width == 640));
}

#[test]
fn plain_mp4_streamed_terminates_with_frames_or_a_clear_error() {
    let path = mp4();
    let result = within(Duration::from_secs(20), move || {
        open_reader(ChunkedReader::of_file(&path), &DecodeOptions::default()).and_then(collect)
    });
    match result {
        Ok(events) => check_testsrc(&events, "non-faststart mp4 streamed"),
        Err(e) => {
            assert!(matches!(e, MediaError::Unstreamable), "{e:?}");
            assert!(e.to_string().contains("faststart"), "{e}");
        }
    }
}

#[test]
fn faststart_mp4_streams() {
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
    let events =
        collect(open_reader(ChunkedReader::of_file(&path), &DecodeOptions::default()).unwrap())
            .unwrap();
    check_testsrc(&events, "faststart mp4 streamed");
}

#[test]
fn decoder_runs_on_a_worker_thread() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let decoder = open_reader(
        ChunkedReader::of_file(&webm_vp8()),
        &DecodeOptions::default(),
    )
    .unwrap();
    assert_send(&decoder);
    let events = within(Duration::from_secs(20), move || collect(decoder)).unwrap();
    assert_eq!(events.len(), 50);
}

#[cfg(unix)]
#[test]
fn unseekable_path_is_read_as_a_stream() {
    let fifo = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("candor-media-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(webm_vp8()).unwrap();
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(writer_path, bytes));
    let reader_path = fifo.clone();
    let result = within(Duration::from_secs(20), move || {
        open_path(&reader_path, &DecodeOptions::default()).and_then(collect)
    });
    writer.join().unwrap().unwrap();
    let _ = std::fs::remove_file(&fifo);
    check_testsrc(&result.unwrap(), "fifo");
}

/// Serves `data`, then waits for media that has not been sent yet, as a live stream
/// does between a camera's frames.
struct LiveReader {
    data: std::io::Cursor<Vec<u8>>,
    more: std::sync::mpsc::Receiver<()>,
}

impl std::io::Read for LiveReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        // Nothing more comes until the sender goes: then the stream ends.
        let _ = self.more.recv();
        Ok(0)
    }
}

#[test]
fn a_live_stream_gives_its_first_frames_without_waiting_for_more_media() {
    // One second of 640x480 H.264, then a stream that stays open: FFmpeg's file
    // defaults would wait for 5 MB or 5 s of media before saying what the stream holds.
    let data = std::fs::read(annexb_h264_640()).unwrap();
    let (keep_open, more) = std::sync::mpsc::channel::<()>();
    let frames = within(Duration::from_secs(20), move || {
        let reader = LiveReader {
            data: std::io::Cursor::new(data),
            more,
        };
        let opts = DecodeOptions {
            sample_fps: 0.0,
            ..DecodeOptions::default()
        };
        let mut decoder = open_reader(reader, &opts).unwrap();
        let mut sampled = 0;
        while sampled < 5 {
            match decoder.next() {
                Some(Ok(DecodeEvent::Sampled(_))) => sampled += 1,
                Some(Ok(_)) => {}
                other => panic!("stream ended early: {other:?}"),
            }
        }
        sampled
    });
    assert_eq!(frames, 5);
    drop(keep_open);
}
