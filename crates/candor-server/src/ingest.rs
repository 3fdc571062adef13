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
    let decoder = match candor_media::open_reader(ChunkReader::new(chunks), &opts) {
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
    for event in decoder {
        let at = Instant::now();
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
    let mut first_pts = None;
    let mut last_pts = i64::MIN;
    let mut index = 0u64;
    while let Some(IncomingFrame { frame, at }) = frames.blocking_recv() {
        let origin = *first_pts.get_or_insert(frame.pts_us);
        let pts_us = frame.pts_us - origin;
        if pts_us < last_pts {
            let _ = work.send(Work::Failed(ServiceError::InvalidArgument(format!(
                "frame timestamps went backwards ({} us after {} us)",
                pts_us, last_pts
            ))));
            return;
        }
        last_pts = pts_us;
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
            match decode_frame(format, frame, &opts, &mut raw, info, true) {
                Ok(frame) => offer(&work, &in_flight, frame, at),
                Err(e) => {
                    let _ = work.send(Work::Failed(e));
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
    if !matches!(f.rotation, 0 | 90 | 180 | 270) {
        return Err(ServiceError::InvalidArgument(format!(
            "frame rotation must be 0, 90, 180 or 270, got {}",
            f.rotation
        )));
    }
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
