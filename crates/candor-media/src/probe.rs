//! Asks FFmpeg's probers whether some bytes look like a known container, to tell
//! "not a video at all" from "a damaged or cut-off video" after an open fails.

use std::ffi::CStr;
use std::os::raw::c_int;
use std::ptr;

use ffmpeg_next::ffi;

/// FFmpeg's AVPROBE_SCORE_RETRY: below this a match is a guess (libavformat keeps
/// reading before accepting it).
pub const CONFIDENT_SCORE: c_int = 25;
/// AVPROBE_PADDING_SIZE: probers may read this far past the data.
const PADDING: usize = 32;

/// The demuxer name when `head` confidently matches one.
pub fn recognised_container(head: &[u8]) -> Option<String> {
    // Probers need no more than the first few KiB; the cap keeps the length an int.
    let head = &head[..head.len().min(1 << 20)];
    if head.is_empty() {
        return None;
    }
    let mut buf = Vec::with_capacity(head.len() + PADDING);
    buf.extend_from_slice(head);
    buf.resize(head.len() + PADDING, 0);
    let probe = ffi::AVProbeData {
        filename: c"".as_ptr(),
        buf: buf.as_mut_ptr(),
        buf_size: head.len() as c_int, // <= 1 MiB, see above
        mime_type: ptr::null(),
    };
    let mut score: c_int = 0;
    // SAFETY: `probe` points at `buf`, which is zero-padded as the probers require and
    // outlives the call; the returned format is static FFmpeg data.
    let name = unsafe {
        let format = ffi::av_probe_input_format2(&probe, 1, &mut score);
        if format.is_null() || score < CONFIDENT_SCORE || (*format).name.is_null() {
            return None;
        }
        CStr::from_ptr((*format).name)
    };
    Some(name.to_string_lossy().into_owned())
}
