-- A note on a run ("catch-up of the 02:00 slot", why a slot was skipped) and what happened to
-- its notification ("sent", "failed: ...").
ALTER TABLE runs ADD COLUMN note TEXT;
ALTER TABLE runs ADD COLUMN notification TEXT;
