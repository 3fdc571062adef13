//! A session's judged segments, each index stored once, read in index order.

use super::PostgresStore;
use super::rows::{all, state_col, u32_col};
use super::sessions::require_session;
use crate::error::{Result, StoreError};
use crate::types::{NewSegment, SegmentRecord};
use crate::validate;

pub(super) fn append(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
    seg: &NewSegment,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::span(seg.start_us, seg.end_us)?;
    validate::json("segment report", &seg.report_json)?;
    let index = i64::from(seg.index);
    store.write(|tx| {
        require_session(tx, tenant, session_id)?;
        // Insert first, compare after: a replay racing the first write stores once.
        let inserted = tx.execute(
            "INSERT INTO segments (tenant, session_id, idx, state, start_us, end_us, report_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant, session_id, idx) DO NOTHING",
            &[
                &tenant,
                &session_id,
                &index,
                &seg.state.as_str(),
                &seg.start_us,
                &seg.end_us,
                &seg.report_json,
            ],
        )?;
        if inserted == 1 {
            return Ok(());
        }
        let r = tx.query_one(
            "SELECT state, start_us, end_us, report_json FROM segments
             WHERE tenant = $1 AND session_id = $2 AND idx = $3",
            &[&tenant, &session_id, &index],
        )?;
        let same = state_col(&r, 0)? == seg.state
            && r.try_get::<_, i64>(1)? == seg.start_us
            && r.try_get::<_, i64>(2)? == seg.end_us
            && r.try_get::<_, &str>(3)? == seg.report_json;
        if same {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "segment {} of session {session_id:?} already stored with different content",
                seg.index
            )))
        }
    })
}

/// The segments with index `from` or above (0: all of them).
pub(super) fn list_from(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
    from: u32,
) -> Result<Vec<SegmentRecord>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        require_session(tx, tenant, session_id)?;
        let rows = tx.query(
            "SELECT idx, state, start_us, end_us, report_json FROM segments
             WHERE tenant = $1 AND session_id = $2 AND idx >= $3 ORDER BY idx",
            &[&tenant, &session_id, &i64::from(from)],
        )?;
        all(rows, |r| {
            Ok(SegmentRecord {
                index: u32_col(r, 0)?,
                state: state_col(r, 1)?,
                start_us: r.try_get(2)?,
                end_us: r.try_get(3)?,
                report_json: r.try_get(4)?,
            })
        })
    })
}
