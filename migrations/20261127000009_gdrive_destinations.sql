-- Google Drive joins the destination kinds. SQLite cannot change a CHECK constraint in place,
-- so the table is rebuilt with the same rows.
CREATE TABLE destinations_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind           TEXT NOT NULL CHECK (kind IN ('folder', 's3', 'sftp', 'webdav', 'gdrive')),
    settings       TEXT NOT NULL,
    retention_days INTEGER CHECK (retention_days IS NULL OR retention_days BETWEEN 1 AND 3650),
    max_backups    INTEGER CHECK (max_backups IS NULL OR max_backups BETWEEN 1 AND 10000),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
INSERT INTO destinations_new SELECT id, name, kind, settings, retention_days, max_backups, created_at, updated_at FROM destinations;
DROP TABLE destinations;
ALTER TABLE destinations_new RENAME TO destinations;
