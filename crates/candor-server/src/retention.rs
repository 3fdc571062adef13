//! The retention sweep: every so often, delete the sessions (with their segments and
//! evidence) and batch jobs older than their tenant's retention period.

use std::sync::Arc;
use std::time::Duration;

use candor_store::{Store, SweepReport};
use tokio::sync::watch;

use crate::metrics::METRICS;

/// Sweeps now, then every `every`, until shutdown. The store call runs off the runtime.
pub async fn sweep_every(
    store: Arc<dyn Store>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(every.max(Duration::from_secs(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let store = store.clone();
        let swept =
            tokio::task::spawn_blocking(move || store.sweep_expired(candor_store::now_ms())).await;
        match swept {
            Ok(Ok(report)) => record(&report),
            Ok(Err(e)) => {
                METRICS.record_store_error(&e);
                tracing::warn!(error = %e, "retention sweep failed");
            }
            Err(e) => tracing::warn!(error = %e, "retention sweep task failed"),
        }
    }
}

fn record(r: &SweepReport) {
    for (what, n) in r.counts() {
        METRICS.swept.with_label_values(&[what]).inc_by(n);
    }
    if r.sessions + r.jobs > 0 {
        tracing::info!(
            sessions = r.sessions,
            segments = r.segments,
            evidence = r.evidence,
            jobs = r.jobs,
            "retention sweep deleted expired data"
        );
    }
}
