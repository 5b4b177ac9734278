-- Restore verification of a run: 'verified' or 'verify_failed: …', and when.
ALTER TABLE runs ADD COLUMN verification TEXT;
ALTER TABLE runs ADD COLUMN verified_at TEXT;
