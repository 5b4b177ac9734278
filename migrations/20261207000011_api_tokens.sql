-- Bearer tokens of the HTTP API. Only the SHA-256 of a token is kept: the token itself is
-- shown once, when it is created. A revoked token keeps its row (name, role, when) with
-- `revoked_at` set, so `token list` shows what was revoked and when.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'monitor')),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
-- One live token per name.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name COLLATE NOCASE) WHERE revoked_at IS NULL;
