//! Session time for individually sent frames, from the client's `pts_us`.
//!
//! Client clocks are untrusted: they repeat, step back, wrap or leap. The rules:
//! * The first frame is at 0; later ones advance by the client's difference.
//! * A frame earlier than the one before it is late: it is dropped (and counted),
//!   never the session ended for it. Equal timestamps are kept.
//! * A step forward longer than [`MAX_GAP_US`] (or one that does not fit in 64 bits,
//!   e.g. `-2^63` then 0) is a clock jump, not a minute of missing media: the frame is
//!   placed [`JUMP_STEP_US`] after the previous one and the clock re-based on it, so
//!   segment indices and durations stay those of the media actually sent.
//!
//! All arithmetic is checked or saturating: no input wraps or panics.

/// Longest forward step between two frames taken as media time (a long freeze of
/// the sender); anything longer re-bases the clock.
pub const MAX_GAP_US: i64 = 60_000_000;

/// Where a frame after a clock jump lands: one frame at 25 fps after the previous.
pub const JUMP_STEP_US: i64 = 40_000;

#[derive(Debug, Default)]
pub struct FrameClock {
    /// The previous kept frame: its client timestamp and its session time.
    last: Option<(i64, i64)>,
    /// Frames dropped for going back in time.
    pub late: u64,
    /// Forward jumps re-based.
    pub jumps: u64,
}

/// What to do with a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Placed {
    /// Keep it, at this session time (µs).
    At(i64),
    /// Drop it: it is earlier than the frame before it.
    Late,
    /// Keep it at this session time; the client clock jumped and was re-based.
    Jumped(i64),
}

impl FrameClock {
    pub fn place(&mut self, client_pts: i64) -> Placed {
        let Some((last_client, last)) = self.last else {
            self.last = Some((client_pts, 0));
            return Placed::At(0);
        };
        match client_pts.checked_sub(last_client) {
            Some(step) if step < 0 => {
                self.late += 1;
                Placed::Late
            }
            Some(step) if step <= MAX_GAP_US => {
                let at = last.saturating_add(step);
                self.last = Some((client_pts, at));
                Placed::At(at)
            }
            // A leap forward, or one too large to represent (which only a leap is:
            // a step back that large would be a leap forward read the other way).
            Some(_) | None if client_pts > last_client => {
                self.jumps += 1;
                let at = last.saturating_add(JUMP_STEP_US);
                self.last = Some((client_pts, at));
                Placed::Jumped(at)
            }
            _ => {
                self.late += 1;
                Placed::Late
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_run_from_the_first_frame() {
        let mut c = FrameClock::default();
        assert_eq!(c.place(5_000_000), Placed::At(0));
        assert_eq!(c.place(5_040_000), Placed::At(40_000));
        assert_eq!(c.place(5_040_000), Placed::At(40_000), "equal is kept");
    }

    #[test]
    fn a_frame_going_back_is_dropped_and_counted_not_fatal() {
        let mut c = FrameClock::default();
        c.place(1_000_000);
        c.place(1_040_000);
        assert_eq!(c.place(1_039_999), Placed::Late);
        assert_eq!(c.place(1_080_000), Placed::At(80_000));
        assert_eq!(c.late, 1);
    }

    #[test]
    fn extreme_timestamps_do_not_wrap() {
        let mut c = FrameClock::default();
        assert_eq!(c.place(i64::MIN), Placed::At(0));
        assert_eq!(c.place(0), Placed::Jumped(JUMP_STEP_US));
        assert_eq!(c.place(i64::MAX), Placed::Jumped(2 * JUMP_STEP_US));
        assert_eq!(c.place(i64::MIN), Placed::Late);
        assert_eq!((c.late, c.jumps), (1, 2));
    }

    #[test]
    fn a_leap_forward_is_rebased_not_a_huge_gap() {
        let mut c = FrameClock::default();
        c.place(0);
        c.place(40_000);
        assert_eq!(c.place(1_000_000_000_000), Placed::Jumped(80_000));
        assert_eq!(c.place(1_000_000_040_000), Placed::At(120_000));
        // A freeze up to the bound is media time.
        assert_eq!(
            c.place(1_000_000_040_000 + MAX_GAP_US),
            Placed::At(120_000 + MAX_GAP_US)
        );
    }
}
