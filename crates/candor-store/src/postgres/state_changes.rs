//! A session's risk-state changes, in stream-time order.

use candor_core::RiskState;

use super::PostgresStore;
use super::rows::{all, opt_state_col, state_col};
use super::sessions::require_session;
use crate::error::Result;
use crate::types::StateChangeRecord;
use crate::validate::{self, long_text};

pub(super) fn append(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
    at_us: i64,
    from: Option<RiskState>,
    to: RiskState,
    reason: &str,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    long_text("reason", reason)?;
    store.write(|tx| {
        require_session(tx, tenant, session_id)?;
        tx.execute(
            "INSERT INTO state_changes (tenant, session_id, at_us, from_state, to_state, reason)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &tenant,
                &session_id,
                &at_us,
                &from.map(RiskState::as_str),
                &to.as_str(),
                &reason,
            ],
        )?;
        Ok(())
    })
}

pub(super) fn list(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
) -> Result<Vec<StateChangeRecord>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        require_session(tx, tenant, session_id)?;
        let rows = tx.query(
            "SELECT at_us, from_state, to_state, reason FROM state_changes
             WHERE tenant = $1 AND session_id = $2 ORDER BY at_us, id",
            &[&tenant, &session_id],
        )?;
        all(rows, |r| {
            Ok(StateChangeRecord {
                at_us: r.try_get(0)?,
                from: opt_state_col(r, 1)?,
                to: state_col(r, 2)?,
                reason: r.try_get(3)?,
            })
        })
    })
}
