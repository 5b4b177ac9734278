-- The app's own state. Timestamps are UTC, RFC 3339 with second precision ("2026-02-03T02:00:00Z"),
-- so they sort as text. No secret is ever stored here: passwords live in the OS keyring.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Connection profiles: where to dump from. Non-secret fields only.
CREATE TABLE connections (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    host              TEXT NOT NULL,
    port              INTEGER NOT NULL DEFAULT 3306 CHECK (port BETWEEN 1 AND 65535),
    username          TEXT NOT NULL,
    database_name     TEXT NOT NULL,
    tls_mode          TEXT NOT NULL DEFAULT 'preferred'
                      CHECK (tls_mode IN ('disabled', 'preferred', 'required', 'verify-ca')),
    tls_ca_file       TEXT,
    tenant_column     TEXT NOT NULL DEFAULT 'tenant_id',
    tenant_root_table TEXT NOT NULL DEFAULT 'tenants',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE schedules (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description        TEXT NOT NULL DEFAULT '',
    cron_expression    TEXT NOT NULL,
    timezone           TEXT NOT NULL,
    backup_type        TEXT NOT NULL CHECK (backup_type IN ('full', 'tenant')),
    tenant_id          INTEGER CHECK (tenant_id IS NULL OR tenant_id > 0),
    connection         TEXT,
    destination        TEXT,
    compression        TEXT NOT NULL DEFAULT 'zstd' CHECK (compression IN ('zstd', 'gzip', 'none')),
    retention_days     INTEGER CHECK (retention_days IS NULL OR retention_days BETWEEN 1 AND 3650),
    max_backups        INTEGER CHECK (max_backups IS NULL OR max_backups BETWEEN 1 AND 10000),
    notify_on_success  INTEGER NOT NULL DEFAULT 0,
    notify_on_failure  INTEGER NOT NULL DEFAULT 0,
    notification_email TEXT,
    catch_up           INTEGER NOT NULL DEFAULT 1,
    is_active          INTEGER NOT NULL DEFAULT 1,
    last_run_at        TEXT,
    next_run_at        TEXT,
    success_count      INTEGER NOT NULL DEFAULT 0,
    failed_count       INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CHECK ((backup_type = 'tenant') = (tenant_id IS NOT NULL))
);

-- The history. schedule_id is deliberately not a foreign key: deleting a schedule keeps its
-- history (and the files it made) visible; schedule_name keeps what it was called.
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id      INTEGER,
    schedule_name    TEXT NOT NULL DEFAULT '',
    backup_type      TEXT NOT NULL CHECK (backup_type IN ('full', 'tenant')),
    tenant_id        INTEGER,
    trigger          TEXT NOT NULL DEFAULT 'manual',
    status           TEXT NOT NULL
                     CHECK (status IN ('running', 'success', 'failed', 'interrupted', 'cancelled', 'skipped')),
    filename         TEXT,
    file_path        TEXT,
    file_size        INTEGER,
    checksum_sha256  TEXT,
    duration_seconds REAL,
    error_code       TEXT,
    error_message    TEXT,
    error_hint       TEXT,
    warnings         TEXT NOT NULL DEFAULT '[]',
    details          TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    deleted_at       TEXT,
    deletion_reason  TEXT
);

CREATE INDEX runs_by_schedule ON runs (schedule_id, created_at);
CREATE INDEX runs_by_status ON runs (status);
