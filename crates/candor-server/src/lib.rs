//! Candor's live gRPC service. Interview platforms stream a participant's video in;
//! per-segment results, state changes and a summary stream back. Health (gRPC and
//! /healthz), reflection and Prometheus metrics come with it.

pub mod analysis;
pub mod auth;
pub mod badge_config;
pub mod badge_feed;
pub mod badge_web;
pub mod blocking;
pub mod blocklist;
pub mod candidate;
pub mod challenge_relay;
pub mod convert;
pub mod error;
pub mod failed_auth;
pub mod frame_clock;
pub mod health;
pub mod identity_index;
pub mod ingest;
pub mod job_run;
pub mod jobs;
pub mod metrics;
pub mod nodes;
pub mod persist;
pub mod read_audit;
pub mod registry;
pub mod retention;
pub mod run;
pub mod running_jobs;
pub mod scoring;
pub mod service;
pub mod session;
pub mod session_follow;
pub mod session_watch;
pub mod state;
pub mod store_changes;
pub mod validate;
pub mod values;
pub mod view_link;

/// Generated protobuf types and the gRPC client and server for `candor.v1`.
pub mod proto {
    tonic::include_proto!("candor.v1");
    /// Encoded descriptors for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("candor_descriptor");
}

pub use auth::{ApiKey, AuthMode, hash_key};
pub use badge_config::{BadgeSettings, FrameAncestors};
pub use error::lost_connection;
pub use run::{RunningServer, ServerSettings, TlsFiles, run, start};
pub use state::Limits;
