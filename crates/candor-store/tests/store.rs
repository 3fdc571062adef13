//! The SQLite store: the shared store suite (`suite/`) on a data directory, and what
//! only SQLite has (WAL mode, its migration history, in-memory stores).

mod suite;

use std::path::Path;
use std::sync::Arc;

use candor_core::RiskState;
use candor_store::schema::{LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE};
use candor_store::*;
use rusqlite::Connection;
use suite::*;

/// A fresh data directory.
struct Sqlite {
    dir: tempfile::TempDir,
}

fn sqlite() -> Option<Box<dyn Backend>> {
    Some(Box::new(Sqlite {
        dir: tempfile::tempdir().unwrap(),
    }))
}

impl Backend for Sqlite {
    fn open(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(self.dir.path()).unwrap())
    }

    fn count(&self, table: &str, tenant: &str, session_id: &str) -> i64 {
        raw_count(self.dir.path(), table, tenant, session_id)
    }

    fn evidence_files(&self, tenant: &str, session_id: &str) -> Option<u64> {
        fn count(dir: &Path) -> u64 {
            std::fs::read_dir(dir).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
        }
        Some(count(
            &self
                .dir
                .path()
                .join(EVIDENCE_DIR)
                .join(tenant)
                .join(session_id),
        ))
    }

    fn leave_orphan_file(&self, tenant: &str, session_id: &str) -> bool {
        let dir = self
            .dir
            .path()
            .join(EVIDENCE_DIR)
            .join(tenant)
            .join(session_id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".orphan.tmp"), b"x").unwrap();
        true
    }

    fn bytes_at(&self, record: &EvidenceRecord) -> Vec<u8> {
        let prefix = format!("{EVIDENCE_DIR}/");
        assert!(record.location.starts_with(&prefix), "{}", record.location);
        std::fs::read(self.dir.path().join(&record.location)).unwrap()
    }
}

store_suite!(sqlite());

/// Rows of `table` for one session, counted on a separate raw connection.
fn raw_count(dir: &Path, table: &str, tenant: &str, session_id: &str) -> i64 {
    let c = Connection::open(dir.join(DB_FILE)).unwrap();
    c.query_row(
        &format!("SELECT COUNT(*) FROM {table} WHERE tenant = ?1 AND session_id = ?2"),
        [tenant, session_id],
        |r| r.get(0),
    )
    .unwrap()
}

fn applied_migrations(dir: &Path) -> Vec<(i64, String, i64)> {
    let c = Connection::open(dir.join(DB_FILE)).unwrap();
    let mut stmt = c
        .prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn schema_objects(dir: &Path) -> Vec<(String, String)> {
    let c = Connection::open(dir.join(DB_FILE)).unwrap();
    let mut stmt = c
        .prepare("SELECT name, COALESCE(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// Migrations (SQLite's own history)

#[test]
fn fresh_database_is_at_the_latest_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert!(dir.path().join(DB_FILE).exists());

    let applied = applied_migrations(dir.path());
    let versions: Vec<i64> = applied.iter().map(|m| m.0).collect();
    assert_eq!(versions, (1..=LATEST_VERSION).collect::<Vec<_>>());

    let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    let mem = SqliteStore::open_in_memory().unwrap();
    assert_eq!(mem.schema_version().unwrap(), LATEST_VERSION);
}

#[test]
fn version_1_database_migrates_up_and_reopening_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    // A database as version 1 left it, with data, made by hand.
    {
        let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
        c.execute_batch(MIGRATIONS_TABLE).unwrap();
        c.execute_batch(MIGRATIONS[0].sql).unwrap();
        c.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?1, 1000)",
            [MIGRATIONS[0].name],
        )
        .unwrap();
        c.execute_batch(
            "INSERT INTO tenants (tenant, retention_days, evidence_capture, enrolment_enabled)
                 VALUES ('acme', 90, 0, 1);
             INSERT INTO sessions (tenant, session_id, participant_id, source, settings_json,
                 models_json, started_at)
                 VALUES ('acme', 'old-session', 'p1', 'cli', '{}', '[]', 5000);
             INSERT INTO segments (tenant, session_id, idx, state, start_us, end_us, report_json)
                 VALUES ('acme', 'old-session', 0, 'clear', 0, 2000000, '{\"index\":0}');",
        )
        .unwrap();
        let tables: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('enrolments', 'jobs')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }

    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    // Old data is intact and readable through the store.
    let s = store.get_session("acme", "old-session").unwrap();
    assert_eq!(
        (s.participant_id.as_str(), s.started_at, s.segments),
        ("p1", 5000, 1)
    );
    assert_eq!(
        store.segments("acme", "old-session").unwrap()[0].state,
        RiskState::Clear
    );
    assert_eq!(
        store.tenant_settings("acme").unwrap(),
        settings("acme", 90, false, true)
    );
    // Tables of later versions work.
    store
        .enrol(
            "acme",
            "cand",
            &[0.5, -0.5],
            "arcface-1",
            Some("old-session"),
        )
        .unwrap();
    store.create_job("acme", "job-1", "{}", NOW).unwrap();
    drop(store);

    let applied = applied_migrations(dir.path());
    assert_eq!(applied.len() as i64, LATEST_VERSION);
    assert_eq!(applied[0], (1, MIGRATIONS[0].name.to_owned(), 1000));
    let schema = schema_objects(dir.path());

    // Reopening applies nothing and changes no schema object.
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    drop(store);
    assert_eq!(applied_migrations(dir.path()), applied);
    assert_eq!(schema_objects(dir.path()), schema);
}

#[test]
fn database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
    c.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'future', 0)",
        [LATEST_VERSION + 1],
    )
    .unwrap();
    drop(c);
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::Backend(ref m) if m.contains("newer")),
        "{err}"
    );
}

#[test]
fn version_3_database_migrates_to_duplicate_search_off() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
        c.execute_batch(MIGRATIONS_TABLE).unwrap();
        for m in &MIGRATIONS[..3] {
            c.execute_batch(m.sql).unwrap();
            c.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, 1000)",
                rusqlite::params![m.version, m.name],
            )
            .unwrap();
        }
        c.execute_batch(
            "INSERT INTO tenants (tenant, retention_days, evidence_capture, enrolment_enabled)
                 VALUES ('acme', 90, 0, 1);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let s = store.tenant_settings("acme").unwrap();
    assert!(s.enrolment_enabled && !s.duplicate_search);
    assert_eq!(store.identity_generation("acme").unwrap(), 0);
}

/// In memory there is nowhere to put evidence files.
#[test]
fn an_in_memory_store_refuses_evidence() {
    let mem = SqliteStore::open_in_memory().unwrap();
    mem.upsert_tenant(&settings("acme", 30, true, false))
        .unwrap();
    mem.create_session(&new_session("acme", "s", None, NOW))
        .unwrap();
    assert!(matches!(
        mem.add_evidence("acme", "s", 0, "jpeg", b"img"),
        Err(StoreError::Invalid(_))
    ));
}
