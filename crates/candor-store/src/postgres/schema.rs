//! The PostgreSQL schema, as ordered migrations (its own version line, apart from
//! SQLite's: version 1 is SQLite's version 4 in PostgreSQL types).
//!
//! The same rules as [`crate::schema`]: append-only, every row carries its `tenant`
//! and every key starts with it. Differences from SQLite, and why:
//! - numbers are `BIGINT` (the Rust side converts), flags `BOOLEAN`;
//! - tables read "in insertion order" get a `BIGSERIAL` (`seq` or `id`), as SQLite's
//!   rowid gave that order for free;
//! - evidence bytes live in the `evidence` row (`BYTEA`), not in files: every node of
//!   a cluster reads them, and a purge deletes them in the same transaction.

use crate::schema::Migration;

/// The table that records applied migrations. Created before any migration runs.
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL  -- unix ms
);";

/// All migrations, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: "
CREATE TABLE tenants (
    tenant            TEXT    PRIMARY KEY,
    retention_days    BIGINT  NOT NULL DEFAULT 30,
    evidence_capture  BOOLEAN NOT NULL DEFAULT FALSE,
    enrolment_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    duplicate_search  BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
    tenant         TEXT   NOT NULL,
    session_id     TEXT   NOT NULL,
    participant_id TEXT   NOT NULL,
    interview_ref  TEXT,
    candidate_ref  TEXT,
    source         TEXT   NOT NULL,
    settings_json  TEXT   NOT NULL,
    models_json    TEXT   NOT NULL,
    started_at     BIGINT NOT NULL,  -- unix ms
    ended_at       BIGINT,           -- unix ms
    summary_json   TEXT,
    PRIMARY KEY (tenant, session_id)
);
CREATE INDEX sessions_by_candidate ON sessions (tenant, candidate_ref);
CREATE INDEX sessions_by_interview ON sessions (tenant, interview_ref);
CREATE INDEX sessions_by_start     ON sessions (tenant, started_at);
CREATE INDEX sessions_unfinished   ON sessions (started_at) WHERE ended_at IS NULL;

CREATE TABLE segments (
    tenant      TEXT   NOT NULL,
    session_id  TEXT   NOT NULL,
    idx         BIGINT NOT NULL,
    state       TEXT   NOT NULL,
    start_us    BIGINT NOT NULL,
    end_us      BIGINT NOT NULL,
    report_json TEXT   NOT NULL,
    PRIMARY KEY (tenant, session_id, idx),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);

CREATE TABLE state_changes (
    id         BIGSERIAL PRIMARY KEY,
    tenant     TEXT   NOT NULL,
    session_id TEXT   NOT NULL,
    at_us      BIGINT NOT NULL,
    from_state TEXT,
    to_state   TEXT   NOT NULL,
    reason     TEXT   NOT NULL,
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);
CREATE INDEX state_changes_by_session ON state_changes (tenant, session_id, at_us);

CREATE TABLE challenges (
    seq          BIGSERIAL,
    tenant       TEXT   NOT NULL,
    session_id   TEXT   NOT NULL,
    challenge_id TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    result_json  TEXT   NOT NULL,
    recorded_at  BIGINT NOT NULL,  -- unix ms
    PRIMARY KEY (tenant, session_id, challenge_id),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);

CREATE TABLE enrolments (
    tenant         TEXT   NOT NULL,
    candidate_ref  TEXT   NOT NULL,
    model_version  TEXT   NOT NULL,
    dims           BIGINT NOT NULL,
    embedding      BYTEA  NOT NULL,  -- dims x f32, little-endian
    source_session TEXT,             -- set to NULL when that session is purged
    enrolled_at    BIGINT NOT NULL,  -- unix ms
    PRIMARY KEY (tenant, candidate_ref, model_version)
);

CREATE TABLE evidence (
    id            TEXT      PRIMARY KEY,  -- UUID made by the store
    seq           BIGSERIAL,
    tenant        TEXT      NOT NULL,
    session_id    TEXT      NOT NULL,
    segment_index BIGINT    NOT NULL,
    kind          TEXT      NOT NULL,
    location      TEXT      NOT NULL,
    size_bytes    BIGINT    NOT NULL,
    sha256        TEXT      NOT NULL,
    created_at    BIGINT    NOT NULL,     -- unix ms
    bytes         BYTEA     NOT NULL,
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);
CREATE INDEX evidence_by_session ON evidence (tenant, session_id, segment_index);

CREATE TABLE jobs (
    tenant        TEXT   NOT NULL,
    job_id        TEXT   NOT NULL,
    settings_json TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,  -- unix ms
    PRIMARY KEY (tenant, job_id)
);
CREATE INDEX jobs_by_created ON jobs (tenant, created_at);

CREATE TABLE job_files (
    id           BIGSERIAL PRIMARY KEY,
    tenant       TEXT   NOT NULL,
    job_id       TEXT   NOT NULL,
    path         TEXT   NOT NULL,
    content_hash TEXT   NOT NULL,
    key          TEXT   NOT NULL,
    status       TEXT   NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    result_json  TEXT,
    error        TEXT,
    completed_at BIGINT,  -- unix ms
    UNIQUE (tenant, job_id, path),
    FOREIGN KEY (tenant, job_id) REFERENCES jobs (tenant, job_id) ON DELETE CASCADE
);
CREATE INDEX job_files_by_key ON job_files (tenant, job_id, key);

CREATE TABLE session_identities (
    tenant        TEXT   NOT NULL,
    session_id    TEXT   NOT NULL,
    model_version TEXT   NOT NULL,
    dims          BIGINT NOT NULL,
    embedding     BYTEA  NOT NULL,  -- dims x f32, little-endian
    PRIMARY KEY (tenant, session_id, model_version),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);

CREATE TABLE blocklist (
    tenant         TEXT   NOT NULL,
    entry_id       TEXT   NOT NULL,  -- UUID made by the store
    model_version  TEXT   NOT NULL,
    dims           BIGINT NOT NULL,
    embedding      BYTEA  NOT NULL,  -- dims x f32, little-endian
    label          TEXT   NOT NULL,
    reason         TEXT   NOT NULL,
    candidate_ref  TEXT,
    source_session TEXT,
    added_at       BIGINT NOT NULL,  -- unix ms
    PRIMARY KEY (tenant, entry_id)
);
CREATE INDEX blocklist_by_candidate ON blocklist (tenant, candidate_ref);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    tenant      TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    session_id  TEXT,
    caller      TEXT,
    detail_json TEXT   NOT NULL,
    at          BIGINT NOT NULL  -- unix ms
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant, at);

-- Moved by every change to a tenant's searchable identities, whoever makes it (see
-- the SQLite schema): one row trigger for enrolments and blocklist alike.
CREATE TABLE identity_generations (
    tenant     TEXT   PRIMARY KEY,
    generation BIGINT NOT NULL
);
CREATE FUNCTION bump_identity_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO identity_generations AS g (tenant, generation)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant ELSE NEW.tenant END, 1)
    ON CONFLICT (tenant) DO UPDATE SET generation = g.generation + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER enrolments_generation
    AFTER INSERT OR DELETE OR UPDATE OF embedding, model_version ON enrolments
    FOR EACH ROW EXECUTE FUNCTION bump_identity_generation();
CREATE TRIGGER blocklist_generation
    AFTER INSERT OR DELETE ON blocklist
    FOR EACH ROW EXECUTE FUNCTION bump_identity_generation();
",
    },
    Migration {
        version: 2,
        name: "job_file_claims",
        sql: "
-- Which worker scores a job file, until when (see the SQLite migration 5).
ALTER TABLE job_files ADD COLUMN claimed_by TEXT;
ALTER TABLE job_files ADD COLUMN claimed_until BIGINT;  -- unix ms
",
    },
    Migration {
        version: 3,
        name: "nodes",
        sql: "
-- Which node runs a session, node heartbeats and challenge requests between nodes
-- (see the SQLite migration 6).
ALTER TABLE sessions ADD COLUMN node TEXT;
CREATE INDEX sessions_open_by_node ON sessions (node) WHERE ended_at IS NULL;

CREATE TABLE nodes (
    node    TEXT   PRIMARY KEY,
    seen_at BIGINT NOT NULL  -- unix ms, the latest heartbeat
);

CREATE TABLE challenge_requests (
    tenant       TEXT   NOT NULL,
    request_id   TEXT   NOT NULL,
    session_id   TEXT   NOT NULL,
    node         TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    window_ms    BIGINT NOT NULL,
    requested_at BIGINT NOT NULL,  -- unix ms
    answer_json  TEXT,
    answered_at  BIGINT,           -- unix ms
    PRIMARY KEY (tenant, request_id),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, session_id) ON DELETE CASCADE
);
CREATE INDEX challenge_requests_pending ON challenge_requests (node, requested_at)
    WHERE answered_at IS NULL;
",
    },
    Migration {
        version: 4,
        name: "change_notifications",
        sql: "
-- Nodes following a session another node runs, and the challenge relay, learn of
-- new rows as they commit (LISTEN candor_changes) rather than at their next poll.
-- The payload is JSON: {tenant, session_id} or {tenant, request_id, node}.
CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('candor_changes',
        json_build_object('tenant', NEW.tenant, 'session_id', NEW.session_id)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER segments_notify AFTER INSERT ON segments
    FOR EACH ROW EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER state_changes_notify AFTER INSERT ON state_changes
    FOR EACH ROW EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER challenges_notify AFTER INSERT ON challenges
    FOR EACH ROW EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER sessions_end_notify AFTER UPDATE OF ended_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION notify_session_change();

CREATE FUNCTION notify_challenge_request() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('candor_changes', json_build_object(
        'tenant', NEW.tenant, 'request_id', NEW.request_id, 'node', NEW.node)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER challenge_requests_notify AFTER INSERT OR UPDATE OF answer_json
    ON challenge_requests FOR EACH ROW EXECUTE FUNCTION notify_challenge_request();
",
    },
];

/// The version a freshly opened database ends up at.
pub const LATEST_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;
