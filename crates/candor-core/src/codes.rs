//! Every reason code a judged segment can carry: the stable strings platforms match on
//! and the README's table explains. A segment that could not be judged carries its
//! abstain code instead (`AbstainCode::as_str`: `camera_off`, `no_face`,
//! `face_too_small`, `too_dark`, `too_bright`, `too_blurred`).

/// Nothing wrong found on enough usable frames.
pub const LIVE_FACE: &str = "live_face";
/// Every sampled frame was dropped, or none was sampled.
pub const NO_ANALYSED_FRAMES: &str = "no_analysed_frames";
/// Passive liveness below its thresholds (print, screen, replay).
pub const LIVENESS_LOW: &str = "liveness_low";
/// The synthetic-face rule's confidence above its thresholds.
pub const SYNTHETIC_FACE: &str = "synthetic_face";
/// Another person than the one the session started with.
pub const IDENTITY_CHANGED: &str = "identity_changed";
/// Some identity checks did not match the session's face.
pub const IDENTITY_UNSTABLE: &str = "identity_unstable";
/// Not the enrolled candidate.
pub const CANDIDATE_MISMATCH: &str = "candidate_mismatch";
/// The session's face matches another enrolled candidate of the tenant (one face, many
/// personas).
pub const DUPLICATE_IDENTITY: &str = "duplicate_identity";
/// The session's face matches an identity on the tenant's blocklist.
pub const BLOCKLISTED_IDENTITY: &str = "blocklisted_identity";
/// The picture did not change.
pub const FROZEN_VIDEO: &str = "frozen_video";
/// The video replays an earlier stretch of itself.
pub const LOOPED_VIDEO: &str = "looped_video";
/// The face moved as a rigid picture.
pub const RIGID_MOTION: &str = "rigid_motion";
/// The candidate looked away from the camera.
pub const LOOKING_AWAY: &str = "looking_away";
/// Several faces on camera.
pub const SEVERAL_FACES: &str = "several_faces";
/// `looped_video` in several segments in a row.
pub const LOOPED_VIDEO_SUSTAINED: &str = "looped_video_sustained";
/// `rigid_motion` in several segments in a row.
pub const RIGID_MOTION_SUSTAINED: &str = "rigid_motion_sustained";
/// The camera is a known virtual camera (screen-capture or face-swap software).
pub const VIRTUAL_CAMERA: &str = "virtual_camera";
