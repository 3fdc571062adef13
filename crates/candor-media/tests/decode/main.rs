//! Decoding tests over media generated with the ffmpeg CLI (cached under the target
//! directory's tmp folder).

mod bad_input;
mod colour;
mod containers;
mod fixtures;
mod rotation;
mod stills;
