//! A session's judged segments, each index stored once, read in index order.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::rows::state_col;
use super::sessions::require_session;
use crate::error::{Result, StoreError};
use crate::types::{NewSegment, SegmentRecord};
use crate::validate;

pub(super) fn append(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
    seg: &NewSegment,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::span(seg.start_us, seg.end_us)?;
    validate::json("segment report", &seg.report_json)?;
    store.write(|tx| {
        require_session(tx, tenant, session_id)?;
        let existing = tx
            .query_row(
                "SELECT state, start_us, end_us, report_json FROM segments
                 WHERE tenant = ?1 AND session_id = ?2 AND idx = ?3",
                params![tenant, session_id, seg.index],
                |r| {
                    Ok((
                        state_col(r, 0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        if let Some((state, start_us, end_us, report_json)) = existing {
            let same = state == seg.state
                && start_us == seg.start_us
                && end_us == seg.end_us
                && report_json == seg.report_json;
            return if same {
                Ok(())
            } else {
                Err(StoreError::Conflict(format!(
                    "segment {} of session {session_id:?} already stored with different content",
                    seg.index
                )))
            };
        }
        tx.prepare_cached(
            "INSERT INTO segments (tenant, session_id, idx, state, start_us, end_us, report_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            tenant,
            session_id,
            seg.index,
            seg.state.as_str(),
            seg.start_us,
            seg.end_us,
            seg.report_json
        ])?;
        Ok(())
    })
}

/// The segments with index `from` or above (0: all of them).
pub(super) fn list_from(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
    from: u32,
) -> Result<Vec<SegmentRecord>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        require_session(tx, tenant, session_id)?;
        let mut stmt = tx.prepare_cached(
            "SELECT idx, state, start_us, end_us, report_json FROM segments
             WHERE tenant = ?1 AND session_id = ?2 AND idx >= ?3 ORDER BY idx",
        )?;
        let rows = stmt.query_map(params![tenant, session_id, from], |r| {
            Ok(SegmentRecord {
                index: r.get(0)?,
                state: state_col(r, 1)?,
                start_us: r.get(2)?,
                end_us: r.get(3)?,
                report_json: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}
