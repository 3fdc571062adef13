//! The parsers under test, each driven the way Candor drives it: streamed formats
//! through `open_reader` with the hint the server gives, files through `open_path`,
//! stills as the server decodes a frame message, raw frames through the converter.

use std::io::Read;
use std::path::Path;

use candor_media::{ContainerHint, DecodeOptions, RawConverter, RawFormat, RawFrame};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Parser {
    /// H.264 Annex-B chunks (live streams).
    H264,
    /// WebM chunks (browser cameras).
    Webm,
    /// Fragmented MP4 chunks.
    Fmp4,
    /// Plain MP4 files (batch and `candor analyze`).
    Mp4,
    /// Matroska files.
    Mkv,
    /// JPEG frames.
    Jpeg,
    /// PNG frames.
    Png,
    /// Raw I420/RGB24 frames: a header of width, height, stride, format, then pixels.
    Raw,
}

pub const ALL: [Parser; 8] = [
    Parser::H264,
    Parser::Webm,
    Parser::Fmp4,
    Parser::Mp4,
    Parser::Mkv,
    Parser::Jpeg,
    Parser::Png,
    Parser::Raw,
];

impl Parser {
    pub fn extension(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::Webm => "webm",
            Self::Fmp4 => "fmp4.mp4",
            Self::Mp4 => "mp4",
            Self::Mkv => "mkv",
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Raw => "yuv",
        }
    }

    /// As `--parser` names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fmp4 => "fmp4",
            Self::Jpeg => "jpeg",
            Self::Raw => "raw",
            other => other.extension(),
        }
    }
}

/// What decoding one input came to (errors are fine: only panics and hangs are
/// findings).
pub struct Outcome {
    pub frames: usize,
    pub error: bool,
}

/// The server's options: one decoder thread, a bound on picture size.
fn options(hint: ContainerHint) -> DecodeOptions {
    DecodeOptions {
        hint,
        decoder_threads: 1,
        max_source_pixels: 4096 * 4096,
        ..DecodeOptions::default()
    }
}

/// Decodes `input` with `parser` to the end. `scratch` is a file path the file
/// parsers may write the input to.
pub fn run(parser: Parser, input: &[u8], scratch: &Path) -> Outcome {
    match parser {
        Parser::H264 => stream(input, ContainerHint::H264AnnexB),
        Parser::Webm => stream(input, ContainerHint::Matroska),
        Parser::Fmp4 => stream(input, ContainerHint::Mp4),
        Parser::Jpeg => still(input, ContainerHint::Jpeg),
        Parser::Png => still(input, ContainerHint::Png),
        Parser::Mp4 | Parser::Mkv => file(input, scratch),
        Parser::Raw => raw(input),
    }
}

fn drain(decoder: Result<candor_media::Decoder, candor_media::MediaError>) -> Outcome {
    let Ok(decoder) = decoder else {
        return Outcome {
            frames: 0,
            error: true,
        };
    };
    let mut frames = 0;
    for event in decoder {
        if event.is_err() {
            return Outcome {
                frames,
                error: true,
            };
        }
        frames += 1;
    }
    Outcome {
        frames,
        error: false,
    }
}

/// Hands the input over in network-sized pieces, as the chunk reader does.
struct Chunked<'a> {
    data: &'a [u8],
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(4096).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn stream(input: &[u8], hint: ContainerHint) -> Outcome {
    // The reader must be 'static: the decoder may keep it on another thread.
    let data = input.to_vec();
    let reader = OwnedChunked { data, pos: 0 };
    drain(candor_media::open_reader(reader, &options(hint)))
}

struct OwnedChunked {
    data: Vec<u8>,
    pos: usize,
}

impl Read for OwnedChunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = Chunked {
            data: &self.data[self.pos..],
        }
        .read(buf)?;
        self.pos += n;
        Ok(n)
    }
}

fn still(input: &[u8], hint: ContainerHint) -> Outcome {
    let opts = DecodeOptions {
        sample_fps: 0.0,
        ..options(hint)
    };
    drain(candor_media::open_reader(
        std::io::Cursor::new(input.to_vec()),
        &opts,
    ))
}

fn file(input: &[u8], scratch: &Path) -> Outcome {
    if std::fs::write(scratch, input).is_err() {
        return Outcome {
            frames: 0,
            error: true,
        };
    }
    let out = drain(candor_media::open_path(
        scratch,
        &options(ContainerHint::Auto),
    ));
    let _ = std::fs::remove_file(scratch);
    out
}

fn raw(input: &[u8]) -> Outcome {
    let Some((header, data)) = input.split_at_checked(13) else {
        return Outcome {
            frames: 0,
            error: true,
        };
    };
    let field =
        |i: usize| u32::from_le_bytes(header[i * 4..i * 4 + 4].try_into().unwrap_or_default());
    let frame = RawFrame {
        format: if header[12] & 1 == 0 {
            RawFormat::I420
        } else {
            RawFormat::Rgb24
        },
        width: field(0),
        height: field(1),
        stride: field(2),
        data,
    };
    // Both uses of a raw frame: its fingerprint (every frame) and its conversion.
    let _ = frame.fingerprint();
    let mut conv = RawConverter::new(640, 4096 * 4096).with_crop_max_side(1280);
    let ok = conv.convert_with_source(&frame).is_ok();
    Outcome {
        frames: usize::from(ok),
        error: !ok,
    }
}
