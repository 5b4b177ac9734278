-- The lock file a live run holds from start to end: start-up recovery treats a `running` run
-- whose lock nobody holds as interrupted (its process died), and leaves a live one alone.
ALTER TABLE runs ADD COLUMN lock_path TEXT;
