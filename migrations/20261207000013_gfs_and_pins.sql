-- Grandfather-father-son retention per schedule (each: keep the newest backup of the last N
-- days, weeks, months, years; NULL: off), and backups kept for ever (retention skips them).
ALTER TABLE schedules ADD COLUMN keep_daily INTEGER;
ALTER TABLE schedules ADD COLUMN keep_weekly INTEGER;
ALTER TABLE schedules ADD COLUMN keep_monthly INTEGER;
ALTER TABLE schedules ADD COLUMN keep_yearly INTEGER;
ALTER TABLE runs ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
