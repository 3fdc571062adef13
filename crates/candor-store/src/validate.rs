//! Input checks shared by every backend.

use crate::error::{Result, StoreError};
use crate::types::{
    BlocklistEntry, ChallengeRequest, FileOutcome, JobFileStatus, NewBlocklistEntry,
    NewChallengeRequest,
};
use crate::{new_id, now_ms};

/// Longest id that names a directory (tenant, session, job, evidence kind).
pub const MAX_PATH_ID: usize = 128;
/// Longest free-text id or name.
pub const MAX_TEXT: usize = 512;
/// Longest retention, in days (100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;
/// Longest free text kept (reasons, file paths, error messages).
pub(crate) const MAX_LONG_TEXT: usize = 16 * 1024;

/// An id that becomes a path component: 1–128 of `[A-Za-z0-9._-]`, not starting with
/// `.` (so never `.`, `..` or hidden).
pub fn path_id(what: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= MAX_PATH_ID
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{what} must be 1-{MAX_PATH_ID} characters of [A-Za-z0-9._-] not starting with '.', got {s:?}"
        )))
    }
}

/// Non-empty text up to 512 bytes.
pub fn text(what: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_TEXT {
        return Err(StoreError::Invalid(format!(
            "{what} must be 1-{MAX_TEXT} bytes long"
        )));
    }
    Ok(())
}

/// Text that parses as JSON.
pub fn json(what: &str, s: &str) -> Result<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(s)
        .map(|_| ())
        .map_err(|e| StoreError::Invalid(format!("{what} is not valid JSON: {e}")))
}

pub fn retention_days(days: u32) -> Result<()> {
    if (1..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "retention_days must be 1-{MAX_RETENTION_DAYS}, got {days}"
        )))
    }
}

pub fn span(start_us: i64, end_us: i64) -> Result<()> {
    if end_us < start_us {
        return Err(StoreError::Invalid(format!(
            "segment ends ({end_us} us) before it starts ({start_us} us)"
        )));
    }
    Ok(())
}

pub fn embedding(e: &[f32]) -> Result<()> {
    if e.is_empty() {
        return Err(StoreError::Invalid("embedding is empty".into()));
    }
    if e.len() > 65_536 {
        return Err(StoreError::Invalid(format!(
            "embedding has {} values (at most 65536)",
            e.len()
        )));
    }
    if !e.iter().all(|v| v.is_finite()) {
        return Err(StoreError::Invalid(
            "embedding has a non-finite value".into(),
        ));
    }
    Ok(())
}

/// Free text up to [`MAX_LONG_TEXT`] bytes (reasons, file paths, error messages).
pub(crate) fn long_text(what: &str, s: &str) -> Result<()> {
    if s.len() > MAX_LONG_TEXT {
        return Err(StoreError::Invalid(format!(
            "{what} is longer than {MAX_LONG_TEXT} bytes"
        )));
    }
    Ok(())
}

/// [`text`], when given.
pub(crate) fn opt_text(what: &str, s: Option<&str>) -> Result<()> {
    s.map_or(Ok(()), |s| text(what, s))
}

/// A finished job file's outcome, checked, as the columns every backend stores:
/// status, result JSON, error.
pub(crate) fn file_outcome(
    outcome: &FileOutcome,
) -> Result<(JobFileStatus, Option<&str>, Option<&str>)> {
    Ok(match outcome {
        FileOutcome::Done { result_json } => {
            json("job file result", result_json)?;
            (JobFileStatus::Done, Some(result_json.as_str()), None)
        }
        FileOutcome::Failed { error } => {
            long_text("job file error", error)?;
            (JobFileStatus::Failed, None, Some(error.as_str()))
        }
    })
}

/// A blocklist entry, checked, as the store keeps it: a new id, added now.
pub(crate) fn blocklist_entry(entry: &NewBlocklistEntry) -> Result<BlocklistEntry> {
    text("model version", &entry.model_version)?;
    text("label", &entry.label)?;
    text("reason", &entry.reason)?;
    embedding(&entry.embedding)?;
    opt_text("candidate ref", entry.candidate_ref.as_deref())?;
    if let Some(s) = &entry.source_session {
        path_id("source session", s)?;
    }
    Ok(BlocklistEntry {
        entry_id: new_id(),
        model_version: entry.model_version.clone(),
        label: entry.label.clone(),
        reason: entry.reason.clone(),
        candidate_ref: entry.candidate_ref.clone(),
        source_session: entry.source_session.clone(),
        added_at: now_ms(),
    })
}

/// A challenge request as every backend checks it before storing it.
pub(crate) fn challenge_request(r: &NewChallengeRequest) -> Result<()> {
    path_id("tenant", &r.tenant)?;
    path_id("session id", &r.session_id)?;
    text("request id", &r.request_id)?;
    text("node", &r.node)?;
    text("challenge kind", &r.kind)
}

/// A replayed challenge request: `Ok` if it is the stored one, else `Conflict`.
pub(crate) fn same_challenge_request(
    stored: &ChallengeRequest,
    r: &NewChallengeRequest,
) -> Result<()> {
    let same = stored.session_id == r.session_id
        && stored.node == r.node
        && stored.kind == r.kind
        && stored.window_ms == r.window_ms
        && stored.requested_at == r.requested_at;
    if same {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "challenge request {:?} already exists",
            r.request_id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids() {
        for ok in [
            "a",
            "tenant-1",
            "3f2a9c1e-7b1d-4c4e-9a51-0d6c2b8e4f10",
            "x.y_z",
        ] {
            path_id("id", ok).unwrap();
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a b",
            "é",
            &"x".repeat(129),
        ] {
            assert!(
                matches!(path_id("id", bad), Err(StoreError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn json_and_embeddings() {
        json("j", "{\"a\":1}").unwrap();
        json("j", "null").unwrap();
        assert!(json("j", "{").is_err());
        assert!(json("j", "").is_err());
        embedding(&[0.1, 0.2]).unwrap();
        assert!(embedding(&[]).is_err());
        assert!(embedding(&[f32::NAN]).is_err());
    }
}
