//! Changes other nodes write to a shared store, as they commit: one thread per node
//! listens on the store's change feed (PostgreSQL `LISTEN`/`NOTIFY`) and hands each
//! change to whatever waits for it on this node: watchers following a session another
//! node runs, and the challenge relay. Those still read the store now and then on
//! their own, so a feed that is reconnecting only slows them down.

use std::sync::Arc;
use std::time::Duration;

use candor_store::{Change, Store};
use tokio::sync::{broadcast, watch};

/// Changes a slow waiter may fall behind by before it simply reads the store.
const BUFFER: usize = 1024;
/// One wait on the feed, so that the thread sees shutdown.
const WAIT: Duration = Duration::from_millis(500);
/// After the feed's connection fails, before opening another.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The changes this node hears of.
#[derive(Clone)]
pub struct StoreChanges {
    tx: broadcast::Sender<Change>,
}

impl StoreChanges {
    /// Starts listening on a thread of its own, which stops at shutdown (or at once
    /// if the store has no feed).
    pub fn start(store: Arc<dyn Store>, shutdown: watch::Receiver<bool>) -> std::io::Result<Self> {
        let (tx, _) = broadcast::channel(BUFFER);
        let sender = tx.clone();
        std::thread::Builder::new()
            .name("candor-store-changes".into())
            .spawn(move || listen(store.as_ref(), &sender, &shutdown))?;
        Ok(Self { tx })
    }

    /// Changes from now on.
    pub fn subscribe(&self) -> Waiter {
        Waiter {
            rx: Some(self.tx.subscribe()),
        }
    }
}

/// One waiter's changes; none at all where the node hears of none (it polls).
pub struct Waiter {
    rx: Option<broadcast::Receiver<Change>>,
}

impl Waiter {
    /// A waiter that never hears of a change.
    pub fn deaf() -> Self {
        Self { rx: None }
    }

    /// Whether changes reach this waiter (else poll often).
    pub fn hears(&self) -> bool {
        self.rx.is_some()
    }

    /// Resolves at the next change `wanted` picks, or when changes were missed (read
    /// the store anyway); never while deaf.
    pub async fn next(&mut self, wanted: impl Fn(&Change) -> bool) {
        loop {
            let Some(rx) = &mut self.rx else {
                return std::future::pending().await;
            };
            match rx.recv().await {
                Ok(c) if wanted(&c) => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => self.rx = None,
            }
        }
    }
}

fn listen(store: &dyn Store, tx: &broadcast::Sender<Change>, shutdown: &watch::Receiver<bool>) {
    let mut feed = None;
    while !*shutdown.borrow() {
        let Some(f) = feed.as_mut() else {
            match store.change_feed() {
                Ok(Some(f)) => feed = Some(f),
                Ok(None) => return,
                Err(e) => {
                    crate::metrics::METRICS.record_store_error(&e);
                    tracing::warn!(error = %e, "cannot listen for store changes: polling");
                    std::thread::sleep(RECONNECT_AFTER);
                }
            }
            continue;
        };
        match f.next(WAIT) {
            // No one waiting is not an error.
            Ok(Some(change)) => drop(tx.send(change)),
            Ok(None) => {}
            Err(e) => {
                crate::metrics::METRICS.record_store_error(&e);
                tracing::warn!(error = %e, "store change feed lost: polling until it is back");
                feed = None;
                std::thread::sleep(RECONNECT_AFTER);
            }
        }
    }
}
