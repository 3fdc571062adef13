//! The public entry points: open a file or a stream, then iterate decode events.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::iter::FusedIterator;
use std::path::Path;
use std::sync::{Arc, Mutex};

use candor_core::Frame;
use ffmpeg_next::format::context::StreamIo;

use crate::MediaError;
use crate::events::{DecodeEvent, StreamInfo};
use crate::options::{ContainerHint, DecodeOptions};
use crate::still::{MAGIC_LEN, StillKind, decode_still};
use crate::stream_io::{
    HEAD_CAPTURE, IoState, TrackedReader, open_input, read_guarded, read_up_to,
};
use crate::video::{VideoSource, open_failed};

/// Stills larger than this are refused rather than buffered.
const MAX_STILL_BYTES: u64 = 64 * 1024 * 1024;

/// Iterates the decode events of one input. Ends (returns `None`) after the last
/// frame or after the first error; it is `Send` so it can run on a worker thread.
pub struct Decoder {
    info: StreamInfo,
    state: State,
    undecodable: u64,
}

enum State {
    Still(Option<Frame>),
    Video(Box<VideoSource>),
    Done,
}

impl Decoder {
    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// Packets of the stream the decoder refused so far (corruption it decoded past).
    /// Always 0 for stills.
    pub fn undecodable(&self) -> u64 {
        self.undecodable
    }

    /// Same as `Iterator::next`.
    pub fn next_event(&mut self) -> Option<Result<DecodeEvent, MediaError>> {
        let event = match &mut self.state {
            State::Done => return None,
            State::Still(frame) => frame.take().map(|f| Ok(DecodeEvent::Sampled(f))),
            State::Video(video) => {
                let event = video.next_event().transpose();
                self.undecodable = video.undecodable();
                event
            }
        };
        if !matches!(event, Some(Ok(_))) {
            // Finished or failed: release the decoder and input now.
            self.state = State::Done;
        }
        event
    }

    fn still(bytes: &[u8], kind: StillKind, options: &DecodeOptions) -> Result<Self, MediaError> {
        let frame = decode_still(bytes, kind, options)?;
        let info = StreamInfo {
            container: kind.name().to_owned(),
            codec: kind.name().to_owned(),
            width: frame.info.source_width,
            height: frame.info.source_height,
            rotation_degrees: 0,
            mirrored: false,
            fps: None,
            duration_us: None,
        };
        Ok(Self {
            info,
            state: State::Still(Some(frame)),
            undecodable: 0,
        })
    }

    fn video(
        io: StreamIo,
        io_state: Arc<Mutex<IoState>>,
        seekable: bool,
        options: &DecodeOptions,
    ) -> Result<Self, MediaError> {
        let demuxer = options.hint.demuxer();
        let input =
            open_input(io, demuxer, !seekable).map_err(|e| open_failed(e, &io_state, demuxer))?;
        let (source, info) = VideoSource::new(input, io_state, seekable, options)?;
        Ok(Self {
            info,
            state: State::Video(Box::new(source)),
            undecodable: 0,
        })
    }
}

impl Iterator for Decoder {
    type Item = Result<DecodeEvent, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}

impl FusedIterator for Decoder {}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Opens a recorded file (video container, raw H.264 or still image). A path that
/// cannot seek (a FIFO, `/dev/stdin`) is read as a stream, like `open_reader`.
pub fn open_path(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<Decoder, MediaError> {
    crate::init_ffmpeg();
    let mut file = File::open(path)?;
    // The head serves both to recognise stills and to explain a failed open.
    let mut head = vec![0; HEAD_CAPTURE];
    let n = read_up_to(&mut file, &mut head)?;
    head.truncate(n);
    if head.is_empty() {
        return Err(MediaError::Empty);
    }
    if let Some(kind) = still_kind(options.hint, &head) {
        return Decoder::still(&read_still(head, file)?, kind, options);
    }
    let Ok(len) = file.seek(SeekFrom::End(0)) else {
        return open_stream(head, file, options);
    };
    file.seek(SeekFrom::Start(0))?;
    let io_state = Arc::new(Mutex::new(IoState {
        head,
        ..IoState::default()
    }));
    let io = StreamIo::from_read_seek(TrackedReader::with_len(file, io_state.clone(), len))
        .map_err(|e| MediaError::Internal(format!("I/O context: {e}")))?;
    Decoder::video(io, io_state, true, options)
}

/// Opens a non-seekable stream (e.g. network chunks through a pipe). Containers must
/// be streamable: fragmented or faststart MP4, WebM/MKV, raw H.264; stills are
/// buffered whole (up to 64 MiB).
pub fn open_reader(
    reader: impl Read + Send + 'static,
    options: &DecodeOptions,
) -> Result<Decoder, MediaError> {
    crate::init_ffmpeg();
    let mut reader = reader;
    let mut magic = [0; MAGIC_LEN];
    let n = read_up_to(&mut reader, &mut magic)?;
    if n == 0 {
        return Err(MediaError::Empty);
    }
    let prefix = magic[..n].to_vec();
    if let Some(kind) = still_kind(options.hint, &prefix) {
        return Decoder::still(&read_still(prefix, reader)?, kind, options);
    }
    open_stream(prefix, reader, options)
}

/// Opens streamed video whose first bytes, `prefix`, were already read.
fn open_stream(
    prefix: Vec<u8>,
    reader: impl Read + Send + 'static,
    options: &DecodeOptions,
) -> Result<Decoder, MediaError> {
    let io_state = Arc::new(Mutex::new(IoState {
        capture_head: true,
        ..IoState::default()
    }));
    // The sniffed bytes go back in front of the rest of the stream.
    let replayed = Cursor::new(prefix).chain(reader);
    let io = StreamIo::from_read(TrackedReader::new(replayed, io_state.clone()))
        .map_err(|e| MediaError::Internal(format!("I/O context: {e}")))?;
    Decoder::video(io, io_state, false, options)
}

fn still_kind(hint: ContainerHint, head: &[u8]) -> Option<StillKind> {
    match hint {
        ContainerHint::Jpeg => Some(StillKind::Jpeg),
        ContainerHint::Png => Some(StillKind::Png),
        ContainerHint::Auto => StillKind::sniff(head),
        ContainerHint::Mp4 | ContainerHint::Matroska | ContainerHint::H264AnnexB => None,
    }
}

/// Reads the rest of a still after its sniffed prefix, up to `MAX_STILL_BYTES`.
fn read_still(prefix: Vec<u8>, mut reader: impl Read) -> Result<Vec<u8>, MediaError> {
    let mut bytes = prefix;
    let mut chunk = vec![0; 64 * 1024];
    loop {
        match read_guarded(&mut reader, &mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n.min(chunk.len())]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        if bytes.len() as u64 > MAX_STILL_BYTES {
            return Err(MediaError::Image(format!(
                "still image is larger than {} MiB",
                MAX_STILL_BYTES >> 20
            )));
        }
    }
}
