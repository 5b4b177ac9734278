-- The app as the console of other machines' daemons (issue 23): the address of each daemon's
-- HTTP API and the SHA-256 of its TLS certificate, pinned on first use (NULL over plain HTTP
-- on loopback). The admin token is in the keyring (`daemon:NAME`), never here.
CREATE TABLE daemons (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    url TEXT NOT NULL,
    cert_sha256 TEXT,
    added_at TEXT NOT NULL
);
