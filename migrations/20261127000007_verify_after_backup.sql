-- Test-restore each backup right after it is made.
ALTER TABLE schedules ADD COLUMN verify_after_backup INTEGER NOT NULL DEFAULT 0;
