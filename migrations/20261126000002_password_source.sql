-- Where a connection's password comes from: 'keyring' (the OS keyring, the default),
-- 'env:VAR' or 'file:/path' (headless servers). Never the password itself.
ALTER TABLE connections ADD COLUMN password_source TEXT NOT NULL DEFAULT 'keyring';
