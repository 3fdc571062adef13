//! Demuxing and decoding one video stream into `DecodeEvent`s.

use std::ffi::CStr;
use std::sync::Arc;

use candor_core::replay::Fingerprint;
use candor_core::{Frame, FrameInfo};
use ffmpeg_next::codec::{self, threading};
use ffmpeg_next::format::context::Input;
use ffmpeg_next::format::stream::Disposition;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::util::frame;
use ffmpeg_next::{Packet, Rational, Stream, media, packet};

use crate::MediaError;
use crate::events::{DecodeEvent, StreamInfo};
use crate::options::DecodeOptions;
use crate::orient::Orientation;
use crate::probe::{CONFIDENT_SCORE, recognised_container};
use crate::sampler::{GlanceSampler, Sampler};
use crate::scale::{Scaler, crop_size, working_size};
use crate::stream_io::{SharedIoState, lock};
use crate::timeline::Timeline;

/// Consecutive demux or decode failures tolerated before giving up. Isolated damage
/// is skipped over; a failure that repeats (e.g. an unreachable sample, which a plain
/// packet iterator would retry forever) ends decoding with an error.
const MAX_CONSECUTIVE_FAILURES: u32 = 8;

/// Consecutive decode failures tolerated once the stream has decoded a frame: a live
/// stream that was good can take a burst of corruption (packet loss, a bad relay) and
/// recover at its next key frame. 250 packets is 10 s at 25 fps; longer than that and
/// the stream is not coming back. Before the first frame the tighter bound above holds,
/// so that input which is not video at all fails fast.
const MAX_CONSECUTIVE_FAILURES_AFTER_GOOD: u32 = 250;

const DEFAULT_FPS: f64 = 25.0;

pub struct VideoSource {
    input: Input,
    stream_index: usize,
    decoder: codec::decoder::Video,
    frame: frame::Video,
    timeline: Timeline,
    sampler: Sampler,
    glance: GlanceSampler,
    scaler: Scaler,
    /// A second scaler for the full-resolution picture of sampled frames, so that
    /// neither context is rebuilt when the two sizes alternate.
    crop_scaler: Scaler,
    /// Display orientation from the container (stream side data).
    stream_orientation: Orientation,
    /// Display orientation from the latest frame that carried a display matrix
    /// (H.264/HEVC display orientation SEI). It overrides the container's, as in
    /// FFmpeg's `-autorotate`, and persists until a frame carries another.
    frame_orientation: Option<Orientation>,
    max_side: u32,
    crop_max_side: u32,
    max_source_pixels: u64,
    io: SharedIoState,
    container: String,
    codec: String,
    /// Plain MP4 from a non-seekable stream: if reading fails before any packet of
    /// it, the index was at the end and the samples lie behind us.
    streamed_mp4: bool,
    /// Packets of our stream read so far.
    packets: u64,
    decoded: u64,
    /// The last demux step was damaged (an error, or a packet cut short). If the
    /// input ends right after it, the input was truncated.
    damaged_tail: bool,
    eof_sent: bool,
    read_failures: u32,
    decode_failures: u32,
    /// Packets the decoder refused over the whole stream (corruption survived).
    undecodable: u64,
}

impl VideoSource {
    /// Sets up decoding of the best video stream of an opened input.
    pub fn new(
        input: Input,
        io: SharedIoState,
        seekable: bool,
        options: &DecodeOptions,
    ) -> Result<(Self, StreamInfo), MediaError> {
        let container = input.format().name().to_owned();
        let Some(stream) = pick_video_stream(&input) else {
            // A weak probe match with no video is most likely not media at all.
            if input.probe_score() < CONFIDENT_SCORE {
                return Err(MediaError::UnrecognisedFormat);
            }
            return Err(MediaError::NoVideoStream);
        };
        let stream_index = stream.index();
        let params = stream.parameters();
        let codec_name = params.id().name().to_owned();
        let (width, height) = coded_size(&stream);
        check_size(width, height, options.max_source_pixels)?;
        let stream_orientation = stream_orientation(&stream);

        let mut ctx = codec::context::Context::from_parameters(params)
            .map_err(|e| MediaError::Internal(format!("codec setup: {e}")))?;
        // Frame threads, as many as the caller allows (see `DecodeOptions`).
        ctx.set_threading(threading::Config {
            kind: threading::Type::Frame,
            count: options.decoder_threads,
            ..Default::default()
        });
        let decoder = ctx.decoder().video().map_err(|e| match e {
            ffmpeg_next::Error::DecoderNotFound => MediaError::UnsupportedCodec(codec_name.clone()),
            other => MediaError::UnsupportedCodec(format!("{codec_name} ({other})")),
        })?;

        let declared_fps = declared_rate(&stream);
        let synth_fps = options
            .fps_hint
            .filter(|f| f.is_finite() && *f > 0.0)
            .map(f64::from)
            .or(declared_fps)
            .unwrap_or(DEFAULT_FPS);
        let tb = stream.time_base();
        let start = Some(stream.start_time()).filter(|&t| t != ffmpeg_next::ffi::AV_NOPTS_VALUE);
        let timeline = Timeline::new((tb.numerator(), tb.denominator()), start, synth_fps);

        let (width, height) = stream_orientation.display_size(
            if width > 0 { width } else { decoder.width() },
            if height > 0 { height } else { decoder.height() },
        );
        let info = StreamInfo {
            container: container.clone(),
            codec: codec_name.clone(),
            width,
            height,
            rotation_degrees: stream_orientation.clockwise_degrees(),
            mirrored: stream_orientation.mirrored(),
            fps: declared_fps.map(|f| f as f32),
            duration_us: duration_us(&input, &stream),
        };
        // Only a header that lists samples can have left them behind (a fragmented
        // MP4's header lists none).
        let streamed_mp4 = !seekable && container.starts_with("mov") && stream.frames() > 0;

        let source = Self {
            input,
            stream_index,
            decoder,
            frame: frame::Video::empty(),
            timeline,
            sampler: Sampler::new(options.sample_fps),
            glance: GlanceSampler::new(options.glance.clone()),
            scaler: Scaler::new(),
            crop_scaler: Scaler::new(),
            stream_orientation,
            frame_orientation: None,
            max_side: options.max_side,
            crop_max_side: options.crop_max_side,
            max_source_pixels: options.max_source_pixels,
            io,
            container,
            codec: codec_name,
            streamed_mp4,
            packets: 0,
            decoded: 0,
            damaged_tail: false,
            eof_sent: false,
            read_failures: 0,
            decode_failures: 0,
            undecodable: 0,
        };
        Ok((source, info))
    }

    /// Packets the decoder refused so far.
    pub fn undecodable(&self) -> u64 {
        self.undecodable
    }

    /// The next decoded frame's event; `Ok(None)` once the stream is fully drained.
    pub fn next_event(&mut self) -> Result<Option<DecodeEvent>, MediaError> {
        loop {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => {
                    self.decode_failures = 0;
                    return self.emit().map(Some);
                }
                Err(ffmpeg_next::Error::Eof) => return self.finish(),
                Err(ffmpeg_next::Error::Other { errno }) if errno == EAGAIN => {
                    if !self.feed()? {
                        // Flushed yet still asking for input: nothing more will come.
                        return self.finish();
                    }
                }
                Err(e) => self.decode_failed(e)?,
            }
        }
    }

    /// Sends the next packet of our stream to the decoder, or end-of-stream when the
    /// input is exhausted. `false` when end-of-stream was already sent.
    fn feed(&mut self) -> Result<bool, MediaError> {
        if self.eof_sent {
            return Ok(false);
        }
        loop {
            // A fresh packet each time: av_read_frame wants an unreferenced packet.
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    self.read_failures = 0;
                    // FFmpeg flags a packet corrupt when the data ended inside it.
                    self.damaged_tail = packet.is_corrupt();
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    self.packets += 1;
                    match self.decoder.send_packet(&packet) {
                        Ok(()) => return Ok(true),
                        // The packet is lost; the decoder resynchronises on later ones.
                        Err(e) => self.decode_failed(e)?,
                    }
                }
                Err(ffmpeg_next::Error::Eof) => {
                    self.take_io_error()?;
                    if let Err(e) = self.decoder.send_eof() {
                        tracing::debug!("flushing the {} decoder failed: {e}", self.codec);
                    }
                    self.eof_sent = true;
                    return Ok(true);
                }
                Err(e) => {
                    self.take_io_error()?;
                    self.read_failures += 1;
                    self.damaged_tail = true;
                    tracing::debug!(
                        "demux error #{} in {}: {e}",
                        self.read_failures,
                        self.container
                    );
                    if self.read_failures >= MAX_CONSECUTIVE_FAILURES {
                        return Err(self.read_error(e));
                    }
                }
            }
        }
    }

    fn emit(&mut self) -> Result<DecodeEvent, MediaError> {
        let (width, height) = (self.frame.width(), self.frame.height());
        check_size(width, height, self.max_source_pixels)?;
        let index = self.decoded;
        self.decoded += 1;
        if let Some(orientation) = self
            .frame
            .side_data(frame::side_data::Type::DisplayMatrix)
            .and_then(|matrix| Orientation::from_display_matrix(matrix.data()))
        {
            self.frame_orientation = Some(orientation);
        }
        let orientation = self.frame_orientation.unwrap_or(self.stream_orientation);
        // Sizes as displayed, so that working-size coordinates map back by the
        // width ratio.
        let (source_width, source_height) = orientation.display_size(width, height);
        let info = FrameInfo {
            pts_us: self.timeline.pts_us(self.frame.timestamp(), index),
            decoded_index: index,
            source_width,
            source_height,
            fingerprint: luma_fingerprint(&self.frame),
        };
        let sampled = self.sampler.should_sample(info.pts_us);
        // The glance grid sees sampled frames too, so no glance follows one at once.
        let glanced = self.glance.should_glance(info.pts_us) && !sampled;
        if !sampled && !glanced {
            return Ok(DecodeEvent::Skipped(info));
        }
        // Turned after scaling: at the working size this is a cheap copy.
        let image = orientation.apply(self.scaler.convert(&self.frame, self.max_side)?);
        // Only analysed frames carry the full-resolution picture their face crops are
        // cut from; glances look at the working size alone.
        let working = working_size(width, height, self.max_side);
        let source = match crop_size(width, height, working, self.crop_max_side) {
            Some(_) if sampled => Some(Arc::new(
                orientation.apply(self.crop_scaler.convert(&self.frame, self.crop_max_side)?),
            )),
            _ => None,
        };
        let frame = Frame {
            info,
            image,
            source,
        };
        Ok(if sampled {
            DecodeEvent::Sampled(frame)
        } else {
            DecodeEvent::Glance(frame)
        })
    }

    fn finish(&mut self) -> Result<Option<DecodeEvent>, MediaError> {
        self.take_io_error()?;
        if self.unstreamable() {
            return Err(MediaError::Unstreamable);
        }
        // The input ended right after damage (e.g. an MP4 sample running past the end
        // of the data): the frames so far were delivered, but it was cut short.
        if self.damaged_tail && lock(&self.io).eof {
            return Err(MediaError::Truncated(format!(
                "the {} data ends in the middle of a frame, after {} decoded frames",
                self.container, self.decoded
            )));
        }
        if self.decoded == 0 {
            return Err(MediaError::Corrupt(format!(
                "the {} video stream has no decodable frame",
                self.codec
            )));
        }
        Ok(None)
    }

    /// A non-seekable MP4 whose very first sample could not be read: its index came
    /// at the end, after the sample data had already streamed past.
    fn unstreamable(&self) -> bool {
        self.streamed_mp4 && self.packets == 0
    }

    fn decode_failed(&mut self, e: ffmpeg_next::Error) -> Result<(), MediaError> {
        self.decode_failures += 1;
        self.undecodable += 1;
        tracing::debug!("{} decode error #{}: {e}", self.codec, self.decode_failures);
        let bound = if self.decoded == 0 {
            MAX_CONSECUTIVE_FAILURES
        } else {
            MAX_CONSECUTIVE_FAILURES_AFTER_GOOD
        };
        if self.decode_failures >= bound {
            return Err(MediaError::Corrupt(format!(
                "{} decoding failed {} times in a row: {e}",
                self.codec, self.decode_failures
            )));
        }
        Ok(())
    }

    /// A failure of the caller's reader explains any demux error that follows it.
    fn take_io_error(&self) -> Result<(), MediaError> {
        match lock(&self.io).error.take() {
            Some(e) => Err(MediaError::Io(e)),
            None => Ok(()),
        }
    }

    fn read_error(&self, e: ffmpeg_next::Error) -> MediaError {
        if self.unstreamable() {
            MediaError::Unstreamable
        } else if lock(&self.io).eof {
            MediaError::Truncated(format!(
                "{} data ends before its last frame ({e})",
                self.container
            ))
        } else {
            MediaError::Corrupt(format!(
                "{}: reading failed {} times in a row: {e}",
                self.container, self.read_failures
            ))
        }
    }
}

/// Maps a failed open to the most useful error, using what the reads saw.
/// `forced`: the demuxer the caller's hint chose, if any.
pub fn open_failed(e: ffmpeg_next::Error, io: &SharedIoState, forced: Option<&CStr>) -> MediaError {
    if e == ffmpeg_next::Error::DemuxerNotFound {
        return MediaError::Internal(format!("this FFmpeg build lacks the {forced:?} demuxer"));
    }
    let mut state = lock(io);
    if let Some(io_error) = state.error.take() {
        return MediaError::Io(io_error);
    }
    let Some(container) = recognised_container(&state.head) else {
        return MediaError::UnrecognisedFormat;
    };
    if let Some(forced) = forced.map(CStr::to_string_lossy)
        && !container.split(',').any(|name| name == forced)
    {
        return MediaError::WrongFormat {
            declared: forced.into_owned(),
            detected: container,
        };
    }
    let incomplete = matches!(e, ffmpeg_next::Error::InvalidData | ffmpeg_next::Error::Eof);
    match (state.eof && incomplete, container.starts_with("mov")) {
        (true, true) => MediaError::Truncated(format!(
            "the MP4 index ('moov' atom) is missing; the file was cut short ({e})"
        )),
        (true, false) => {
            MediaError::Truncated(format!("the {container} header is incomplete ({e})"))
        }
        (false, _) => MediaError::Corrupt(format!("{container}: {e}")),
    }
}

/// The best video stream that is real video (not an MP3's cover art).
fn pick_video_stream(input: &Input) -> Option<Stream<'_>> {
    let is_video = |s: &Stream| {
        s.parameters().medium() == media::Type::Video
            && !s.disposition().contains(Disposition::ATTACHED_PIC)
    };
    input
        .streams()
        .best(media::Type::Video)
        .filter(is_video)
        .or_else(|| input.streams().find(is_video))
}

fn coded_size(stream: &Stream) -> (u32, u32) {
    // SAFETY: `codecpar` of a stream of an open input is always allocated.
    let par = unsafe { &*(*stream.as_ptr()).codecpar };
    (
        u32::try_from(par.width).unwrap_or(0),
        u32::try_from(par.height).unwrap_or(0),
    )
}

/// The display orientation the container declares for `stream`, if any.
fn stream_orientation(stream: &Stream) -> Orientation {
    stream
        .side_data()
        .find(|sd| sd.kind() == packet::side_data::Type::DisplayMatrix)
        .and_then(|sd| Orientation::from_display_matrix(sd.data()))
        .unwrap_or_default()
}

fn check_size(width: u32, height: u32, limit: u64) -> Result<(), MediaError> {
    if u64::from(width) * u64::from(height) > limit {
        return Err(MediaError::TooLarge {
            width,
            height,
            limit,
        });
    }
    Ok(())
}

fn rate(r: Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0).then(|| f64::from(r))
}

/// The frame rate the stream declares: average, else the container's base rate.
fn declared_rate(stream: &Stream) -> Option<f64> {
    rate(stream.avg_frame_rate()).or_else(|| rate(stream.rate()))
}

fn duration_us(input: &Input, stream: &Stream) -> Option<i64> {
    // The format duration is already in AV_TIME_BASE units, i.e. microseconds.
    let total = input.duration();
    if total > 0 {
        return Some(total);
    }
    let tb = stream.time_base();
    let d = stream.duration();
    (d > 0 && tb.numerator() > 0 && tb.denominator() > 0).then(|| {
        (i128::from(d) * i128::from(tb.numerator()) * 1_000_000 / i128::from(tb.denominator()))
            as i64
    })
}

/// The frame's fingerprint from its luma plane, for the 8-bit YUV and grey layouts
/// decoders give for camera video; `None` for others (10-bit, RGB), where it would
/// cost a conversion.
fn luma_fingerprint(frame: &frame::Video) -> Option<Fingerprint> {
    use ffmpeg_next::format::Pixel;
    let planar_luma = matches!(
        frame.format(),
        Pixel::YUV420P
            | Pixel::YUVJ420P
            | Pixel::YUV422P
            | Pixel::YUVJ422P
            | Pixel::YUV444P
            | Pixel::YUVJ444P
            | Pixel::YUV440P
            | Pixel::YUVJ440P
            | Pixel::YUV411P
            | Pixel::YUV410P
            | Pixel::YUVA420P
            | Pixel::NV12
            | Pixel::NV21
            | Pixel::NV16
            | Pixel::GRAY8
    );
    if !planar_luma || frame.planes() == 0 {
        return None;
    }
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    Fingerprint::from_luma(frame.data(0), w, h, frame.stride(0))
}
