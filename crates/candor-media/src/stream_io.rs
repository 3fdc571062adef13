//! Feeding FFmpeg from a Rust `Read` (streams) or `Read + Seek` (files).
//!
//! ffmpeg-next 9 already provides the `AVIOContext` wrapper (`StreamIo`: buffer from
//! `av_malloc`, read/seek callbacks, frees the possibly reallocated `(*avio).buffer`
//! and then the context on drop), so this module only adds what it lacks:
//! * `TrackedReader`: keeps panics from unwinding into C, and records what the
//!   demuxer saw (first bytes, end of input, the real `io::Error`) so failures can be
//!   reported precisely;
//! * `open_input`: like `format::input_from_stream`, but able to force a demuxer.

use std::any::Any;
use std::ffi::CStr;
use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ffmpeg_next::ffi;
use ffmpeg_next::format::context::{Input, StreamIo};

/// How many leading bytes of a stream are kept for diagnosing a failed open.
pub const HEAD_CAPTURE: usize = 64 * 1024;

/// What the demuxer's reads have seen so far.
#[derive(Debug, Default)]
pub struct IoState {
    /// The first bytes of the input (up to `HEAD_CAPTURE`).
    pub head: Vec<u8>,
    /// Whether reads append to `head` (streams); files fill it up front instead.
    pub capture_head: bool,
    /// The demuxer reached the end of the input: a read returned end of input, or
    /// (files) its reads got to the last byte or it sought past the end. A failure
    /// after this is most likely a cut-off input.
    pub eof: bool,
    /// The first real I/O error (or reader panic), kept for the caller because
    /// FFmpeg only sees an errno.
    pub error: Option<io::Error>,
}

pub type SharedIoState = Arc<Mutex<IoState>>;

/// Locks `state`; a poisoned lock is still usable (the state is plain data).
pub fn lock(state: &SharedIoState) -> MutexGuard<'_, IoState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Calls `f`, turning a panic into an `io::Error`: the callers run inside FFmpeg's C
/// callbacks, where unwinding would abort the process.
fn guarded<T>(what: &str, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(io::Error::other(format!(
            "input {what} panicked: {}",
            panic_message(payload.as_ref())
        )))
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic")
}

/// `read` with panics turned into errors, for use outside FFmpeg too (sniffing).
pub fn read_guarded<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    guarded("reader", || reader.read(buf))
}

/// Reads until `buf` is full or the input ends; returns the number of bytes read.
pub fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match read_guarded(reader, &mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n.min(buf.len() - filled),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The reader handed to FFmpeg; see the module docs.
pub struct TrackedReader<R> {
    inner: R,
    state: SharedIoState,
    /// Length of a seekable input, to notice reaching its end without a read
    /// returning 0 (demuxers clamp to the known size and stop there).
    len: Option<u64>,
    /// Current position (meaningful with `len`).
    pos: u64,
}

impl<R> TrackedReader<R> {
    pub fn new(inner: R, state: SharedIoState) -> Self {
        Self {
            inner,
            state,
            len: None,
            pos: 0,
        }
    }

    /// For a seekable input of known length.
    pub fn with_len(inner: R, state: SharedIoState, len: u64) -> Self {
        Self {
            inner,
            state,
            len: Some(len),
            pos: 0,
        }
    }

    /// Keeps `e` for the caller and gives FFmpeg an equivalent error (same errno or
    /// kind, which is all `StreamIo` looks at).
    fn record_error(&self, e: io::Error) -> io::Error {
        let stand_in = match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::from(e.kind()),
        };
        lock(&self.state).error.get_or_insert(e);
        stand_in
    }
}

impl<R: Read> Read for TrackedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match read_guarded(&mut self.inner, buf) {
            Ok(0) if !buf.is_empty() => {
                lock(&self.state).eof = true;
                Ok(0)
            }
            Ok(n) => {
                self.pos = self.pos.saturating_add(n as u64);
                let mut state = lock(&self.state);
                if self.len.is_some_and(|len| self.pos >= len) {
                    state.eof = true;
                }
                if state.capture_head && state.head.len() < HEAD_CAPTURE {
                    // `min`: a misbehaving reader may claim more than the buffer holds
                    // (StreamIo rejects that count itself).
                    let take = n.min(buf.len()).min(HEAD_CAPTURE - state.head.len());
                    state.head.extend_from_slice(&buf[..take]);
                }
                Ok(n)
            }
            // StreamIo retries interruptions itself; they are not failures.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.record_error(e)),
        }
    }
}

impl<R: Seek> Seek for TrackedReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new_pos = guarded("seek", || self.inner.seek(pos)).map_err(|e| self.record_error(e))?;
        self.pos = new_pos;
        // Strictly past: seeking *to* the end is also how the input size is queried.
        if self.len.is_some_and(|len| new_pos > len) {
            lock(&self.state).eof = true;
        }
        Ok(new_pos)
    }
}

/// How much of a live stream the demuxer may read before it must say what it holds.
/// FFmpeg's defaults (5 MB, 5 s of media) are made for files: on a live stream they
/// hold back the first frames for seconds (the reader waits for media that has not
/// been sent yet), and the backlog then arrives at once. 256 KiB is about a second of
/// 720p video; a stream that declares no frame rate falls back to the rate hint.
const LIVE_PROBE_BYTES: i64 = 256 * 1024;
const LIVE_ANALYZE_US: i64 = 500_000;

/// Opens a demuxer reading from `io`, forcing `demuxer` (an FFmpeg short name such
/// as `mp4`) when given, else probing. This mirrors ffmpeg-next's
/// `format::input_from_stream`, which always probes. A `live` input (not seekable:
/// media arriving as it is sent) is probed within a small, bounded window.
pub fn open_input(
    mut io: StreamIo,
    demuxer: Option<&CStr>,
    live: bool,
) -> Result<Input, ffmpeg_next::Error> {
    // SAFETY: plain FFmpeg calls in the documented order. `io` outlives every use of
    // the context: on success it moves into the returned `Input`, which closes the
    // format context before dropping it; on failure the context is freed first
    // (`avformat_open_input` frees it itself, and with AVFMT_FLAG_CUSTOM_IO neither
    // path closes our AVIOContext), then `io` drops and frees the AVIOContext.
    unsafe {
        let format = match demuxer {
            Some(name) => {
                let found = ffi::av_find_input_format(name.as_ptr());
                if found.is_null() {
                    return Err(ffmpeg_next::Error::DemuxerNotFound);
                }
                found
            }
            None => ptr::null(),
        };
        let mut ctx = ffi::avformat_alloc_context();
        if ctx.is_null() {
            return Err(ffmpeg_next::Error::Other { errno: ffi::ENOMEM });
        }
        (*ctx).pb = io.as_mut_ptr();
        (*ctx).flags |= ffi::AVFMT_FLAG_CUSTOM_IO;
        if live {
            (*ctx).probesize = LIVE_PROBE_BYTES;
            (*ctx).max_analyze_duration = LIVE_ANALYZE_US;
        }
        let ret = ffi::avformat_open_input(&mut ctx, c"".as_ptr(), format, ptr::null_mut());
        if ret < 0 {
            return Err(ffmpeg_next::Error::from(ret));
        }
        let ret = ffi::avformat_find_stream_info(ctx, ptr::null_mut());
        if ret < 0 {
            ffi::avformat_close_input(&mut ctx);
            return Err(ffmpeg_next::Error::from(ret));
        }
        Ok(Input::wrap_with_custom_io(ctx, io))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panicking;
    impl Read for Panicking {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            panic!("boom");
        }
    }

    #[test]
    fn panics_become_io_errors() {
        let state = SharedIoState::default();
        let mut r = TrackedReader::new(Panicking, state.clone());
        let err = r.read(&mut [0; 4]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        let kept = lock(&state).error.take().unwrap();
        assert!(kept.to_string().contains("boom"), "{kept}");
    }

    #[test]
    fn captures_head_and_eof() {
        let state = SharedIoState::default();
        lock(&state).capture_head = true;
        let mut r = TrackedReader::new(&b"hello world"[..], state.clone());
        let mut buf = [0; 64];
        assert_eq!(r.read(&mut buf).unwrap(), 11);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        let s = lock(&state);
        assert_eq!(s.head, b"hello world");
        assert!(s.eof);
    }

    #[test]
    fn seeking_past_the_end_counts_as_reaching_it() {
        let state = SharedIoState::default();
        let mut r = TrackedReader::with_len(io::Cursor::new(vec![0; 10]), state.clone(), 10);
        r.seek(SeekFrom::End(0)).unwrap();
        assert!(
            !lock(&state).eof,
            "seeking to the end (size query) is not past it"
        );
        r.seek(SeekFrom::Start(100)).unwrap();
        assert!(lock(&state).eof);

        let state = SharedIoState::default();
        let mut r = TrackedReader::with_len(io::Cursor::new(vec![0; 10]), state.clone(), 10);
        r.read_exact(&mut [0; 9]).unwrap();
        assert!(!lock(&state).eof);
        r.read_exact(&mut [0; 1]).unwrap();
        assert!(lock(&state).eof, "reading the last byte reaches the end");
    }
}
