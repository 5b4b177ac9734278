-- TLS modes like the stock clients' plus `pinned`, and the pinned certificate of a connection
-- (SHA-256, `AA:BB:…`), recorded on first use. Profiles saved as `preferred` (any certificate,
-- or plain text) become `pinned` with no pin yet: their next successful connection pins the
-- server's certificate (or switches to verify-identity when the system's roots accept it).
-- SQLite cannot change a CHECK constraint, so the table is rebuilt (nothing refers to its ids).
CREATE TABLE connections_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    host              TEXT NOT NULL,
    port              INTEGER NOT NULL DEFAULT 3306 CHECK (port BETWEEN 1 AND 65535),
    username          TEXT NOT NULL,
    database_name     TEXT NOT NULL,
    tls_mode          TEXT NOT NULL DEFAULT 'pinned'
                      CHECK (tls_mode IN ('disabled', 'required', 'verify-ca', 'verify-identity', 'pinned')),
    tls_ca_file       TEXT,
    tls_pin           TEXT,
    tenant_column     TEXT NOT NULL DEFAULT 'tenant_id',
    tenant_root_table TEXT NOT NULL DEFAULT 'tenants',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    password_source   TEXT NOT NULL DEFAULT 'keyring'
);
INSERT INTO connections_new (id, name, host, port, username, database_name, tls_mode, tls_ca_file,
    tls_pin, tenant_column, tenant_root_table, created_at, updated_at, password_source)
SELECT id, name, host, port, username, database_name,
    CASE tls_mode WHEN 'preferred' THEN 'pinned' ELSE tls_mode END, tls_ca_file,
    NULL, tenant_column, tenant_root_table, created_at, updated_at, password_source
FROM connections;
DROP TABLE connections;
ALTER TABLE connections_new RENAME TO connections;
