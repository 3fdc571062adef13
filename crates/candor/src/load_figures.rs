//! The arithmetic of the live capacity benchmark (`candor load`), kept apart from the
//! network code so that it can be tested on its own: percentiles, when a segment's last
//! frame left the client, whether a run held real time, and memory growth over a soak.

use std::time::{Duration, Instant};

/// The `p`-th percentile (0-100) of `values` by the nearest-rank method: the smallest
/// value with at least p % of the values at or below it. `None` when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p.clamp(0.0, 100.0) / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// One frame as the client sent it: its presentation time on the server's timeline
/// (the stream starts at 0) and the moment it was handed to the connection.
#[derive(Debug, Clone, Copy)]
pub struct SentFrame {
    pub pts_us: i64,
    pub at: Instant,
}

/// Seconds from the moment the last frame of a segment ending at `end_us` was sent to
/// `arrived`, when its result came back. The segment holds the frames before `end_us`;
/// the last of them to leave the client is the latest send among those. `None` when
/// no frame of the segment was recorded as sent.
pub fn segment_latency(sent: &[SentFrame], end_us: i64, arrived: Instant) -> Option<f64> {
    let last_sent = sent
        .iter()
        .filter(|f| f.pts_us < end_us)
        .map(|f| f.at)
        .max()?;
    // A result can only follow its last frame; `saturating` keeps clock noise at 0.
    Some(arrived.saturating_duration_since(last_sent).as_secs_f64())
}

/// What the capacity rule needs to know about one run of N sessions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunOutcome {
    pub sample_fps: f64,
    /// The lowest analysed frames per second of video over the sessions.
    pub min_analysed_fps: f64,
    pub dropped: u64,
    pub latency_p99_s: Option<f64>,
    /// How late the client sent its most late frame: back-pressure from the server
    /// would make the sender fall behind real time without dropping anything.
    pub max_send_lag_s: f64,
    pub failed_sessions: usize,
}

/// Analysed rate may fall this far under the sampling rate from rounding at the ends
/// of the recording (60 or 61 sampled frames in 30 s at 2 fps) before it counts as
/// not holding it.
const RATE_TOLERANCE: f64 = 0.95;
/// The most a segment result may lag its last frame, and the client its schedule.
pub const MAX_LATENCY_S: f64 = 1.0;

/// The capacity rule: every session held the sampling rate with no sampled frame
/// dropped, results came back within a second (p99), and the client kept real time.
pub fn holds_real_time(run: &RunOutcome) -> bool {
    run.failed_sessions == 0
        && run.dropped == 0
        && run.min_analysed_fps >= run.sample_fps * RATE_TOLERANCE
        && run.latency_p99_s.is_some_and(|p99| p99 <= MAX_LATENCY_S)
        && run.max_send_lag_s <= MAX_LATENCY_S
}

/// Least-squares slope of `(seconds, MiB)` samples, in MiB per hour: how fast resident
/// memory grows over a soak. `None` under two distinct times.
pub fn slope_per_hour(samples: &[(f64, f64)]) -> Option<f64> {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return None;
    }
    let mean_t = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let mean_m = samples.iter().map(|s| s.1).sum::<f64>() / n;
    let sxx: f64 = samples.iter().map(|s| (s.0 - mean_t).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = samples
        .iter()
        .map(|s| (s.0 - mean_t) * (s.1 - mean_m))
        .sum();
    Some(sxy / sxx * 3600.0)
}

/// When the `index`-th frame (counting over repeats) is due, from the start of the
/// session: frames are sent at their presentation time, and a repeat of the recording
/// follows the previous one after `clip_us`.
pub fn due_after(repeat: u32, pts_us: i64, clip_us: i64) -> Duration {
    Duration::from_micros((i64::from(repeat) * clip_us + pts_us).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        // Few values: p99 is the largest, never an interpolation above it.
        assert_eq!(percentile(&[0.2, 0.9, 0.4], 99.0), Some(0.9));
        assert_eq!(percentile(&[0.2, 0.9, 0.4], 50.0), Some(0.4));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn latency_runs_from_the_segments_last_frame_sent() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // 25 fps: frames every 40 ms, sent on time.
        let sent: Vec<SentFrame> = (0..100)
            .map(|i| SentFrame {
                pts_us: i * 40_000,
                at: at(i as u64 * 40),
            })
            .collect();
        // The segment 0-2 s ends with the frame at 1.96 s, sent at 1960 ms.
        let lat = segment_latency(&sent, 2_000_000, at(2_300)).unwrap();
        assert!((lat - 0.34).abs() < 1e-9, "{lat}");
        // A frame sent late (back-pressure) moves the start of the wait.
        let mut late = sent.clone();
        late[49].at = at(2_200);
        let lat = segment_latency(&late, 2_000_000, at(2_300)).unwrap();
        assert!((lat - 0.1).abs() < 1e-9, "{lat}");
        assert_eq!(segment_latency(&sent[..0], 2_000_000, at(1)), None);
    }

    #[test]
    fn real_time_needs_rate_no_drops_latency_and_pace() {
        let good = RunOutcome {
            sample_fps: 2.0,
            min_analysed_fps: 1.98,
            dropped: 0,
            latency_p99_s: Some(0.6),
            max_send_lag_s: 0.05,
            failed_sessions: 0,
        };
        assert!(holds_real_time(&good));
        for bad in [
            RunOutcome { dropped: 1, ..good },
            RunOutcome {
                min_analysed_fps: 1.5,
                ..good
            },
            RunOutcome {
                latency_p99_s: Some(1.2),
                ..good
            },
            RunOutcome {
                latency_p99_s: None,
                ..good
            },
            RunOutcome {
                max_send_lag_s: 3.0,
                ..good
            },
            RunOutcome {
                failed_sessions: 1,
                ..good
            },
        ] {
            assert!(!holds_real_time(&bad), "{bad:?}");
        }
    }

    #[test]
    fn memory_slope_is_in_mib_per_hour() {
        // 1 MiB more every 10 s: 360 MiB an hour.
        let grow: Vec<(f64, f64)> = (0..6)
            .map(|i| (i as f64 * 10.0, 500.0 + i as f64))
            .collect();
        assert!((slope_per_hour(&grow).unwrap() - 360.0).abs() < 1e-9);
        let flat = [(0.0, 500.0), (10.0, 500.0), (20.0, 500.0)];
        assert_eq!(slope_per_hour(&flat), Some(0.0));
        assert_eq!(slope_per_hour(&[(0.0, 1.0)]), None);
        assert_eq!(slope_per_hour(&[(5.0, 1.0), (5.0, 2.0)]), None);
    }

    #[test]
    fn repeats_follow_one_another() {
        assert_eq!(due_after(0, 40_000, 30_000_000), Duration::from_millis(40));
        assert_eq!(
            due_after(2, 40_000, 30_000_000),
            Duration::from_millis(60_040)
        );
    }
}
