-- Destinations: other places (a network folder, S3-compatible storage, SFTP, WebDAV) that get a
-- copy of each backup besides the local folder. Only non-secret settings are stored here (as
-- JSON); access keys and passwords live in the OS keyring under `destination:<name>`.
CREATE TABLE destinations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind           TEXT NOT NULL CHECK (kind IN ('folder', 's3', 'sftp', 'webdav')),
    settings       TEXT NOT NULL,
    retention_days INTEGER CHECK (retention_days IS NULL OR retention_days BETWEEN 1 AND 3650),
    max_backups    INTEGER CHECK (max_backups IS NULL OR max_backups BETWEEN 1 AND 10000),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- Which destinations a schedule copies to, as a JSON list of names.
ALTER TABLE schedules ADD COLUMN copy_to TEXT NOT NULL DEFAULT '[]';

-- One row per copy of a run's backup on a destination: what was sent where, whether it arrived
-- whole (size and SHA-256 read back), and when retention deleted it. Like `runs`, it outlives
-- the destination it names (destination_name keeps what it was called).
CREATE TABLE copies (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           INTEGER NOT NULL,
    schedule_id      INTEGER,
    destination_id   INTEGER NOT NULL,
    destination_name TEXT NOT NULL,
    object_path      TEXT NOT NULL,
    partial_path     TEXT,
    status           TEXT NOT NULL
                     CHECK (status IN ('uploading', 'uploaded', 'failed', 'interrupted', 'cancelled')),
    size             INTEGER,
    duration_seconds REAL,
    error_code       TEXT,
    error_message    TEXT,
    error_hint       TEXT,
    lock_path        TEXT,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    deleted_at       TEXT,
    deletion_reason  TEXT
);
CREATE INDEX copies_by_run ON copies (run_id);
CREATE INDEX copies_by_destination ON copies (destination_id, status);
