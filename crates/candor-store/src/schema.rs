//! The SQLite schema, as ordered migrations.
//!
//! At open, the pending migrations (those above the highest version recorded in
//! `schema_migrations`) are applied in order, all in one `BEGIN IMMEDIATE` transaction
//! that also records each of them, so a database is always at a version this list
//! names, and two processes opening it at once cannot both migrate. A database already
//! at [`LATEST_VERSION`] is only read. Migrations are append-only: never edit one that
//! has shipped; add a new one. A database whose recorded version is newer than
//! [`LATEST_VERSION`] is refused at open (an older build must not write to it).
//!
//! Every row carries its `tenant`, and every primary key and index starts with it, so a
//! query that forgets the tenant cannot use them by accident and a tenant's rows sit
//! together.

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// 1, 2, 3, … with no gaps.
    pub version: i64,
    pub name: &'static str,
    /// One or more SQL statements, run with `execute_batch`.
    pub sql: &'static str,
}

/// The table that records applied migrations. Created before any migration runs.
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL  -- unix ms
);";

/// All migrations, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "sessions",
        sql: "
CREATE TABLE tenants (
    tenant            TEXT    PRIMARY KEY,
    retention_days    INTEGER NOT NULL DEFAULT 30,
    evidence_capture  INTEGER NOT NULL DEFAULT 0,
    enrolment_enabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    tenant         TEXT    NOT NULL,
    session_id     TEXT    NOT NULL,
    participant_id TEXT    NOT NULL,
    interview_ref  TEXT,
    candidate_ref  TEXT,
    source         TEXT    NOT NULL,
    settings_json  TEXT    NOT NULL,
    models_json    TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,  -- unix ms
    ended_at       INTEGER,           -- unix ms
    summary_json   TEXT,
    PRIMARY KEY (tenant, session_id)
) WITHOUT ROWID;
CREATE INDEX sessions_by_candidate ON sessions (tenant, candidate_ref);
CREATE INDEX sessions_by_interview ON sessions (tenant, interview_ref);
CREATE INDEX sessions_by_start     ON sessions (tenant, started_at);

CREATE TABLE segments (
    tenant      TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    start_us    INTEGER NOT NULL,
    end_us      INTEGER NOT NULL,
    report_json TEXT    NOT NULL,
    PRIMARY KEY (tenant, session_id, idx),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE state_changes (
    id         INTEGER PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    session_id TEXT    NOT NULL,
    at_us      INTEGER NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);
CREATE INDEX state_changes_by_session ON state_changes (tenant, session_id, at_us);

CREATE TABLE challenges (
    tenant       TEXT    NOT NULL,
    session_id   TEXT    NOT NULL,
    challenge_id TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    result_json  TEXT    NOT NULL,
    recorded_at  INTEGER NOT NULL,  -- unix ms
    PRIMARY KEY (tenant, session_id, challenge_id),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);
",
    },
    Migration {
        version: 2,
        name: "enrolments_and_evidence",
        sql: "
CREATE TABLE enrolments (
    tenant         TEXT    NOT NULL,
    candidate_ref  TEXT    NOT NULL,
    model_version  TEXT    NOT NULL,
    dims           INTEGER NOT NULL,
    embedding      BLOB    NOT NULL,  -- dims x f32, little-endian
    source_session TEXT,              -- set to NULL when that session is purged
    enrolled_at    INTEGER NOT NULL,  -- unix ms
    PRIMARY KEY (tenant, candidate_ref, model_version)
) WITHOUT ROWID;

CREATE TABLE evidence (
    id            TEXT    PRIMARY KEY,  -- UUID made by the store
    tenant        TEXT    NOT NULL,
    session_id    TEXT    NOT NULL,
    segment_index INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    location      TEXT    NOT NULL,     -- path relative to the data directory
    size_bytes    INTEGER NOT NULL,
    sha256        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,     -- unix ms
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);
CREATE INDEX evidence_by_session ON evidence (tenant, session_id, segment_index);
",
    },
    Migration {
        version: 3,
        name: "batch_jobs",
        sql: "
CREATE TABLE jobs (
    tenant        TEXT    NOT NULL,
    job_id        TEXT    NOT NULL,
    settings_json TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,  -- unix ms
    PRIMARY KEY (tenant, job_id)
) WITHOUT ROWID;
CREATE INDEX jobs_by_created ON jobs (tenant, created_at);

CREATE TABLE job_files (
    id           INTEGER PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    job_id       TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    result_json  TEXT,
    error        TEXT,
    completed_at INTEGER,  -- unix ms
    UNIQUE (tenant, job_id, path),
    FOREIGN KEY (tenant, job_id) REFERENCES jobs (tenant, job_id) ON DELETE CASCADE
);
CREATE INDEX job_files_by_key ON job_files (tenant, job_id, key);
",
    },
    Migration {
        version: 4,
        name: "identity_search_blocklist_audit",
        sql: "
ALTER TABLE tenants ADD COLUMN duplicate_search INTEGER NOT NULL DEFAULT 0;

-- The identity of a session of a tenant with duplicate search on, so that it can be
-- blocklisted later; goes with the session.
CREATE TABLE session_identities (
    tenant        TEXT    NOT NULL,
    session_id    TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    dims          INTEGER NOT NULL,
    embedding     BLOB    NOT NULL,  -- dims x f32, little-endian
    PRIMARY KEY (tenant, session_id, model_version),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE blocklist (
    tenant         TEXT    NOT NULL,
    entry_id       TEXT    NOT NULL,  -- UUID made by the store
    model_version  TEXT    NOT NULL,
    dims           INTEGER NOT NULL,
    embedding      BLOB    NOT NULL,  -- dims x f32, little-endian
    label          TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    candidate_ref  TEXT,              -- purging this candidate removes the entry
    source_session TEXT,              -- kept as text: the session may expire first
    added_at       INTEGER NOT NULL,  -- unix ms; expires with the tenant's retention
    PRIMARY KEY (tenant, entry_id)
) WITHOUT ROWID;
CREATE INDEX blocklist_by_candidate ON blocklist (tenant, candidate_ref);

-- Who read or found what: every identity search that returned a match, and later
-- reads of stored results. Swept with the tenant's retention period.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    session_id  TEXT,
    caller      TEXT,
    detail_json TEXT    NOT NULL,
    at          INTEGER NOT NULL  -- unix ms
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant, at);

-- A counter per tenant that every change to its searchable identities (enrolments,
-- blocklist) moves, whichever process or path made it (purge, sweep, CLI), so a
-- server's in-memory search index knows when it is out of step with the store.
CREATE TABLE identity_generations (
    tenant     TEXT    PRIMARY KEY,
    generation INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER enrolments_insert_generation AFTER INSERT ON enrolments BEGIN
    INSERT INTO identity_generations VALUES (NEW.tenant, 1)
    ON CONFLICT (tenant) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER enrolments_update_generation AFTER UPDATE OF embedding, model_version ON enrolments BEGIN
    INSERT INTO identity_generations VALUES (NEW.tenant, 1)
    ON CONFLICT (tenant) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER enrolments_delete_generation AFTER DELETE ON enrolments BEGIN
    INSERT INTO identity_generations VALUES (OLD.tenant, 1)
    ON CONFLICT (tenant) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER blocklist_insert_generation AFTER INSERT ON blocklist BEGIN
    INSERT INTO identity_generations VALUES (NEW.tenant, 1)
    ON CONFLICT (tenant) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER blocklist_delete_generation AFTER DELETE ON blocklist BEGIN
    INSERT INTO identity_generations VALUES (OLD.tenant, 1)
    ON CONFLICT (tenant) DO UPDATE SET generation = generation + 1;
END;
",
    },
    Migration {
        version: 5,
        name: "job_file_claims",
        sql: "
-- Which worker scores a job file, until when: several workers on one job score each
-- file once, and a dead worker's files are taken over when its lease ends.
ALTER TABLE job_files ADD COLUMN claimed_by TEXT;
ALTER TABLE job_files ADD COLUMN claimed_until INTEGER;  -- unix ms
",
    },
    Migration {
        version: 6,
        name: "nodes",
        sql: "
-- Which server node runs a session (NULL: no node does, e.g. the CLI), so that when a
-- node dies another closes its sessions. Nodes and their heartbeats belong to no
-- tenant: they are the servers themselves.
ALTER TABLE sessions ADD COLUMN node TEXT;
CREATE INDEX sessions_open_by_node ON sessions (node) WHERE ended_at IS NULL;

CREATE TABLE nodes (
    node    TEXT    PRIMARY KEY,
    seen_at INTEGER NOT NULL  -- unix ms, the latest heartbeat
) WITHOUT ROWID;

-- A Challenge call made on one node for a session another node runs: that node starts
-- it and writes the answer here.
CREATE TABLE challenge_requests (
    tenant       TEXT    NOT NULL,
    request_id   TEXT    NOT NULL,
    session_id   TEXT    NOT NULL,
    node         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    window_ms    INTEGER NOT NULL,
    requested_at INTEGER NOT NULL,  -- unix ms
    answer_json  TEXT,
    answered_at  INTEGER,           -- unix ms
    PRIMARY KEY (tenant, request_id),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);
-- What a node polls for: its own unanswered requests, of every tenant.
CREATE INDEX challenge_requests_pending ON challenge_requests (node, requested_at)
    WHERE answered_at IS NULL;
",
    },
];

/// The version a freshly opened database ends up at.
pub const LATEST_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dense_and_ordered() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "migration {}", m.name);
        }
        assert_eq!(LATEST_VERSION, MIGRATIONS.len() as i64);
    }
}
