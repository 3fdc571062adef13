//! Health follows the models: gRPC health (the whole server and the Candor service)
//! and `/healthz` say SERVING only once the models are loaded and warmed up, and only
//! while every model pool still has all its workers. A worker whose model panicked is
//! rebuilt at once; one that cannot be rebuilt leaves its pool short, and then the
//! node stops taking traffic, says why in the log, and counts it in the metrics.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use candor_pipeline::Engine;
use tokio::sync::watch;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::metrics::METRICS;

const SERVICE_NAME: &str = "candor.v1.Candor";

/// How often the model pools are looked at.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// The server's health, as gRPC health and `/healthz` report it.
#[derive(Clone)]
pub struct Health {
    reporter: HealthReporter,
    /// What `/healthz` reads.
    serving: Arc<AtomicBool>,
}

impl Health {
    pub fn new(reporter: HealthReporter) -> Self {
        Self {
            reporter,
            serving: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The flag `/healthz` answers from.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.serving.clone()
    }

    /// Sets both gRPC health entries (the whole server, "", and the Candor service) and
    /// `/healthz`, together.
    pub async fn set(&self, serving: bool) {
        self.serving.store(serving, Ordering::Release);
        METRICS.models_serving.set(i64::from(serving));
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.reporter.set_service_status("", status).await;
        self.reporter.set_service_status(SERVICE_NAME, status).await;
    }

    /// Follows the engine's pools until shutdown: NOT_SERVING while any pool is short of
    /// workers, SERVING again if it recovers.
    pub async fn follow(&self, engine: Arc<Engine>, mut shutdown: watch::Receiver<bool>) {
        let mut serving = true;
        // Panics counted so far per model: the pools keep totals, the metric is fed
        // the increase.
        let mut panics_seen: HashMap<String, u64> = HashMap::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let pools = engine.pool_health();
            for pool in &pools {
                METRICS
                    .model_workers_alive
                    .with_label_values(&[pool.model.as_str()])
                    .set(pool.alive as i64);
                let seen = panics_seen.entry(pool.model.clone()).or_default();
                if pool.panics > *seen {
                    METRICS
                        .model_panics
                        .with_label_values(&[pool.model.as_str()])
                        .inc_by(pool.panics - *seen);
                    *seen = pool.panics;
                }
            }
            let short: Vec<_> = pools.iter().filter(|p| !p.serving()).collect();
            let now = short.is_empty();
            if now == serving {
                continue;
            }
            serving = now;
            if serving {
                tracing::info!("every model pool has its workers again: serving");
            } else {
                let why: Vec<String> = short.iter().map(ToString::to_string).collect();
                tracing::error!(pools = ?why, "model workers died and could not be rebuilt: not serving");
            }
            // Shutdown has the last word: it may have started while this check ran.
            if !*shutdown.borrow() {
                self.set(serving).await;
            }
        }
    }
}
