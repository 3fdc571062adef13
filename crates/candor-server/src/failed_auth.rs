//! Failed authentication, counted per peer address: a client that keeps presenting
//! wrong keys is refused for the rest of a window, so keys cannot be guessed at line
//! rate. While refused, no key is checked at all (a right key would otherwise be
//! told apart from a wrong one). Only failures count: a busy platform behind one
//! address with a good key is never limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed from one address within [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
/// The window failures are counted over; a refused address waits for its end.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most; past this, expired windows are swept out first and then
/// the map is cleared (a flood of addresses must not grow memory without bound).
const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub struct FailedAuth {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailedAuth {
    /// `Err(wait)` while `ip` has used up its failures in the current window.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.get(&ip) {
            Some(&(start, n)) if n >= MAX_FAILURES && now < start + WINDOW => {
                Err(start + WINDOW - now)
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_TRACKED {
            windows.retain(|_, (start, _)| now < *start + WINDOW);
            if windows.len() >= MAX_TRACKED {
                windows.clear();
            }
        }
        let entry = windows.entry(ip).or_insert((now, 0));
        if now >= entry.0 + WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let limit = FailedAuth::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(limit.check(a, t0).is_ok());
            limit.failed(a, t0);
        }
        let wait = limit.check(a, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        assert!(
            limit.check(b, t0).is_ok(),
            "other addresses are not limited"
        );
        assert!(limit.check(a, t0 + WINDOW).is_ok(), "the window ends");
        limit.failed(a, t0 + WINDOW);
        assert!(limit.check(a, t0 + WINDOW).is_ok(), "a new window starts");
    }
}
