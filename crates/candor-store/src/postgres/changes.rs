//! The change feed: `LISTEN candor_changes` on a connection of its own, fed by the
//! triggers of migration 4 as each write commits.

use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use super::pool::Pool;
use crate::error::{Result, StoreError};
use crate::store::ChangeFeed;
use crate::types::Change;

/// The channel every trigger notifies.
const CHANNEL: &str = "candor_changes";

pub(super) struct Feed {
    client: Client,
}

impl Feed {
    pub(super) fn listen(pool: &Pool) -> Result<Self> {
        let mut client = pool.connect()?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        Ok(Self { client })
    }
}

impl ChangeFeed for Feed {
    fn next(&mut self, timeout: Duration) -> Result<Option<Change>> {
        {
            let mut notifications = self.client.notifications();
            let mut waiting = notifications.timeout_iter(timeout);
            while let Some(n) = waiting.next()? {
                // Not one of ours (someone else notifying on the channel): skipped.
                if let Ok(change) = serde_json::from_str::<Change>(n.payload()) {
                    return Ok(Some(change));
                }
            }
        }
        if self.client.is_closed() {
            return Err(StoreError::Backend(
                "the change feed's connection was closed".into(),
            ));
        }
        Ok(None)
    }
}
