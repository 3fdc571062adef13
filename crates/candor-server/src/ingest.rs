//! Turns what a client sends into frames for analysis, on a dedicated thread.
//!
//! Encoded streams (H.264 Annex-B, WebM, fragmented MP4) arrive as byte chunks and are
//! decoded through a blocking reader over the chunk channel: the decoder sees every
//! byte. Per-frame formats (JPEG, PNG, raw I420/RGB24) are sampled by timestamp first
//! and only sampled frames are decoded. When analysis falls behind, sampled frames are
//! dropped (and counted) instead of queueing without bound.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use candor_core::replay::Fingerprint;
use candor_core::{Frame, FrameInfo};
use candor_media::{
    ContainerHint, DecodeEvent, DecodeOptions, GlanceSampler, RawConverter, RawFormat, RawFrame,
    Sampler,
};
use candor_pipeline::StreamInput;
use crossbeam_channel::Sender;
use tokio::sync::mpsc;

use crate::error::ServiceError;
use crate::frame_clock::{FrameClock, MAX_GAP_US, Placed};
use crate::metrics::METRICS;
use crate::proto::{MediaFormat, VideoFrame};

/// Work for the analysis thread, in stream order.
pub enum Work {
    /// A decoded frame for the stream runner; `Instant` is when it was received.
    Frame(StreamInput, Instant),
    /// The input ended normally.
    End,
    /// The input cannot be decoded; results so far still stand.
    Failed(ServiceError),
}

/// Bounds frames waiting for analysis: a sampled frame that would exceed the bound is
/// dropped instead.
#[derive(Clone)]
pub struct InFlight {
    count: Arc<AtomicUsize>,
    limit: usize,
}

impl InFlight {
    pub fn new(limit: usize) -> Self {
        Self {
            count: Arc::new(AtomicUsize::new(0)),
            limit: limit.max(1),
        }
    }

    fn try_take(&self) -> bool {
        self.take_below(self.limit)
    }

    /// For glances: never the last quarter of the bound (at least one place), which
    /// stays for frames to analyse. Glances are quick, so a burst of them (a decoder
    /// catching up) drains fast.
    fn try_take_spare(&self) -> bool {
        self.take_below(self.limit - (self.limit / 4).max(1))
    }

    fn take_below(&self, limit: usize) -> bool {
        self.count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok()
    }

    pub fn release(&self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Sends a sampled frame, or its info as dropped when too many are in flight.
fn offer(work: &Sender<Work>, in_flight: &InFlight, frame: Frame, at: Instant) -> bool {
    let msg = if in_flight.try_take() {
        Work::Frame(StreamInput::Analyse(frame), at)
    } else {
        Work::Frame(StreamInput::Dropped(frame.info), at)
    };
    work.send(msg).is_ok()
}

pub fn is_stream_format(f: MediaFormat) -> bool {
    matches!(
        f,
        MediaFormat::H264Annexb | MediaFormat::Webm | MediaFormat::FragmentedMp4
    )
}

/// A blocking `Read` over the chunks the gRPC handler forwards. Ends (EOF) when the
/// handler drops its sender: finish, end of the request stream, or cancellation.
pub struct ChunkReader {
    rx: mpsc::Receiver<bytes::Bytes>,
    current: bytes::Bytes,
}

impl ChunkReader {
    pub fn new(rx: mpsc::Receiver<bytes::Bytes>) -> Self {
        Self {
            rx,
            current: bytes::Bytes::new(),
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Decodes an encoded stream until it ends or breaks.
pub fn run_stream(
    format: MediaFormat,
    chunks: mpsc::Receiver<bytes::Bytes>,
    mut opts: DecodeOptions,
    work: Sender<Work>,
    in_flight: InFlight,
) {
    opts.hint = match format {
        MediaFormat::H264Annexb => ContainerHint::H264AnnexB,
        MediaFormat::Webm => ContainerHint::Matroska,
        _ => ContainerHint::Mp4,
    };
    let mut decoder = match candor_media::open_reader(ChunkReader::new(chunks), &opts) {
        Ok(d) => d,
        Err(candor_media::MediaError::Empty) => {
            let _ = work.send(Work::End);
            return;
        }
        Err(e) => {
            let _ = work.send(Work::Failed(e.into()));
            return;
        }
    };
    let mut undecodable = 0;
    while let Some(event) = decoder.next_event() {
        let at = Instant::now();
        // Corruption the decoder got past: counted in the segment of the frame that
        // follows it and in the metrics, and logged when a burst begins.
        let now_undecodable = decoder.undecodable();
        if now_undecodable > undecodable {
            let packets = now_undecodable - undecodable;
            if undecodable == 0 || packets > 1 {
                tracing::info!(packets, "stream packets failed to decode and were skipped");
            }
            METRICS.frames("undecodable", packets);
            undecodable = now_undecodable;
            if let Ok(next) = &event {
                let info = next.info().clone();
                let n = u32::try_from(packets).unwrap_or(u32::MAX);
                if work
                    .send(Work::Frame(StreamInput::Undecodable(info, n), at))
                    .is_err()
                {
                    return;
                }
            }
        }
        let sent = match event {
            Ok(DecodeEvent::Skipped(info)) => work
                .send(Work::Frame(StreamInput::Skipped(info), at))
                .is_ok(),
            Ok(DecodeEvent::Sampled(frame)) => offer(&work, &in_flight, frame, at),
            // A glance the analysis has no spare room for is simply not taken.
            Ok(DecodeEvent::Glance(frame)) => {
                let msg = if in_flight.try_take_spare() {
                    Work::Frame(StreamInput::Glance(frame), at)
                } else {
                    Work::Frame(StreamInput::Skipped(frame.info), at)
                };
                work.send(msg).is_ok()
            }
            Err(e) => {
                let _ = work.send(Work::Failed(e.into()));
                return;
            }
        };
        if !sent {
            return; // analysis stopped: the session is over
        }
    }
    let _ = work.send(Work::End);
}

/// One frame of a per-frame format, with when it arrived.
pub struct IncomingFrame {
    pub frame: VideoFrame,
    pub at: Instant,
}

/// How long decoding of sampled frames may keep failing before the session ends:
/// one undecodable JPEG, or a few, is a glitch to count and skip (the frame is
/// reported as dropped); 10 s of media, or 250 frames, failing in a row means the
/// client is not sending pictures at all.
pub const MAX_BAD_FRAMES_US: i64 = 10_000_000;
pub const MAX_BAD_FRAMES: u32 = 250;

/// A run of consecutive frames that failed to decode.
#[derive(Default)]
struct BadRun {
    since_us: Option<i64>,
    count: u32,
}

impl BadRun {
    /// Records a failure at `pts_us`; true while the run is within the bound.
    fn tolerate(&mut self, pts_us: i64) -> bool {
        let since = *self.since_us.get_or_insert(pts_us);
        self.count += 1;
        self.count < MAX_BAD_FRAMES && pts_us.saturating_sub(since) <= MAX_BAD_FRAMES_US
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}

/// Samples, decodes and converts individually sent frames.
pub fn run_frames(
    format: MediaFormat,
    mut frames: mpsc::Receiver<IncomingFrame>,
    opts: DecodeOptions,
    work: Sender<Work>,
    in_flight: InFlight,
) {
    let mut sampler = Sampler::new(opts.sample_fps);
    let mut glancer = GlanceSampler::new(opts.glance.clone());
    let mut raw = RawConverter::new(opts.max_side, opts.max_source_pixels)
        .with_crop_max_side(opts.crop_max_side);
    let mut clock = FrameClock::default();
    let mut bad = BadRun::default();
    let mut index = 0u64;
    while let Some(IncomingFrame { frame, at }) = frames.blocking_recv() {
        let pts_us = match clock.place(frame.pts_us) {
            Placed::At(t) => t,
            Placed::Jumped(t) => {
                tracing::info!(
                    client_pts_us = frame.pts_us,
                    "frame timestamps leapt forward more than {} s: clock re-based",
                    MAX_GAP_US / 1_000_000
                );
                t
            }
            Placed::Late => {
                METRICS.frames("late", 1);
                if clock.late == 1 {
                    tracing::info!(
                        client_pts_us = frame.pts_us,
                        "frame earlier than the one before it: dropped (later ones counted in frames_total{{kind=\"late\"}})"
                    );
                }
                continue;
            }
        };
        if !matches!(frame.rotation, 0 | 90 | 180 | 270) {
            let _ = work.send(Work::Failed(ServiceError::InvalidArgument(format!(
                "frame rotation must be 0, 90, 180 or 270, got {}",
                frame.rotation
            ))));
            return;
        }
        let info = FrameInfo {
            pts_us,
            decoded_index: index,
            source_width: frame.width,
            source_height: frame.height,
            fingerprint: raw_fingerprint(format, &frame),
        };
        index += 1;
        let sampled = sampler.should_sample(pts_us);
        let glanced = glancer.should_glance(pts_us) && !sampled;
        let sent = if sampled {
            match decode_frame(format, frame, &opts, &mut raw, info.clone(), true) {
                Ok(frame) => {
                    bad.clear();
                    offer(&work, &in_flight, frame, at)
                }
                // Raw frames that do not match their declared layout are a client
                // error, the same every time; a picture that does not decode is damage.
                Err(e) if !is_encoded(format) => {
                    let _ = work.send(Work::Failed(e));
                    return;
                }
                Err(e) if bad.tolerate(pts_us) => {
                    METRICS.frames("undecodable", 1);
                    tracing::info!("frame at {pts_us} us not decoded, skipped: {e}");
                    work.send(Work::Frame(StreamInput::Undecodable(info, 1), at))
                        .is_ok()
                }
                Err(e) => {
                    let _ = work.send(Work::Failed(ServiceError::InvalidArgument(format!(
                        "{} frames in a row failed to decode (the bound is {} s or {MAX_BAD_FRAMES} frames): {e}",
                        bad.count,
                        MAX_BAD_FRAMES_US / 1_000_000
                    ))));
                    return;
                }
            }
        } else if glanced && in_flight.try_take_spare() {
            // A frame that would have been skipped: one that fails to decode is
            // skipped still, not an error of the session.
            match decode_frame(format, frame, &opts, &mut raw, info.clone(), false) {
                Ok(frame) => work
                    .send(Work::Frame(StreamInput::Glance(frame), at))
                    .is_ok(),
                Err(e) => {
                    in_flight.release();
                    tracing::debug!("glance at {pts_us} us not decoded: {e}");
                    work.send(Work::Frame(StreamInput::Skipped(info), at))
                        .is_ok()
                }
            }
        } else {
            work.send(Work::Frame(StreamInput::Skipped(info), at))
                .is_ok()
        };
        if !sent {
            return;
        }
    }
    let _ = work.send(Work::End);
}

fn is_encoded(format: MediaFormat) -> bool {
    matches!(format, MediaFormat::Jpeg | MediaFormat::Png)
}

/// Raw frames carry their fingerprint for loop detection whether sampled or not;
/// JPEG and PNG frames do not (it would mean decoding every one).
fn raw_fingerprint(format: MediaFormat, f: &VideoFrame) -> Option<Fingerprint> {
    let format = match format {
        MediaFormat::RawI420 => RawFormat::I420,
        MediaFormat::RawRgb24 => RawFormat::Rgb24,
        _ => return None,
    };
    RawFrame {
        format,
        width: f.width,
        height: f.height,
        stride: f.stride,
        data: &f.data,
    }
    .fingerprint()
}

/// Decodes one frame to BGR at the working size, applying its rotation; `info` gets
/// the displayed source size.
fn decode_frame(
    format: MediaFormat,
    f: VideoFrame,
    opts: &DecodeOptions,
    raw: &mut RawConverter,
    info: FrameInfo,
    // Analysed frames also keep the full-resolution picture their face crops come
    // from; glances need only the working size.
    analysed: bool,
) -> Result<Frame, ServiceError> {
    let (image, source, w, h) = match format {
        MediaFormat::Jpeg | MediaFormat::Png => {
            let hint = if format == MediaFormat::Jpeg {
                ContainerHint::Jpeg
            } else {
                ContainerHint::Png
            };
            let still_opts = DecodeOptions {
                hint,
                sample_fps: 0.0,
                crop_max_side: if analysed { opts.crop_max_side } else { 0 },
                ..opts.clone()
            };
            let mut decoder = candor_media::open_reader(std::io::Cursor::new(f.data), &still_opts)?;
            let (w, h) = (decoder.info().width, decoder.info().height);
            match decoder.next() {
                Some(Ok(DecodeEvent::Sampled(frame))) => {
                    let source = frame.source.map(Arc::unwrap_or_clone);
                    (frame.image, source, w, h)
                }
                Some(Err(e)) => return Err(e.into()),
                _ => {
                    return Err(ServiceError::InvalidArgument(
                        "image frame held no picture".into(),
                    ));
                }
            }
        }
        MediaFormat::RawI420 | MediaFormat::RawRgb24 => {
            let fmt = if format == MediaFormat::RawI420 {
                RawFormat::I420
            } else {
                RawFormat::Rgb24
            };
            let frame = RawFrame {
                format: fmt,
                width: f.width,
                height: f.height,
                stride: f.stride,
                data: &f.data,
            };
            let (image, source) = if analysed {
                raw.convert_with_source(&frame)?
            } else {
                (raw.convert(&frame)?, None)
            };
            (image, source, f.width, f.height)
        }
        other => {
            return Err(ServiceError::InvalidArgument(format!(
                "{other:?} is a stream format: send it as chunks, not frames"
            )));
        }
    };
    let rotation = f.rotation as i32;
    let (source_width, source_height) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
    Ok(Frame {
        info: FrameInfo {
            source_width,
            source_height,
            ..info
        },
        image: image.rotated_cw(rotation),
        // Turning by 0 would copy the picture.
        source: source.map(|s| {
            Arc::new(if rotation == 0 {
                s
            } else {
                s.rotated_cw(rotation)
            })
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_reader_reads_across_chunks_then_ends() {
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(bytes::Bytes::from_static(b"abc")).unwrap();
        tx.try_send(bytes::Bytes::from_static(b"defg")).unwrap();
        drop(tx);
        let mut out = Vec::new();
        ChunkReader::new(rx).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcdefg");
    }

    #[test]
    fn glances_only_take_spare_room() {
        let f = InFlight::new(4);
        assert!(f.try_take_spare());
        assert!(f.try_take_spare());
        assert!(f.try_take_spare());
        assert!(!f.try_take_spare());
        // A frame for analysis still finds room.
        assert!(f.try_take());
        assert!(!f.try_take());
    }

    #[test]
    fn in_flight_bounds_and_releases() {
        let f = InFlight::new(2);
        assert!(f.try_take());
        assert!(f.try_take());
        assert!(!f.try_take());
        f.release();
        assert!(f.try_take());
    }
}
