-- Several databases per schedule (issue 23): a schedule lists the databases it backs up
-- (JSON list; empty: its connection's database; ["*"]: every non-system database, found at
-- run time). A run of several databases is one history entry (`is_group`) with one part per
-- database (`part_of` = the entry), each a run of its own with its file, copies and
-- verification. `database` is the database a run's file holds (also for one-database runs,
-- so retention can count each database's backups on their own).
ALTER TABLE schedules ADD COLUMN databases TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN part_of INTEGER REFERENCES runs (id);
ALTER TABLE runs ADD COLUMN is_group BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN database TEXT;
UPDATE runs SET database = json_extract(details, '$.database')
 WHERE json_valid(details) AND json_extract(details, '$.database') IS NOT NULL;
CREATE INDEX runs_by_part ON runs (part_of) WHERE part_of IS NOT NULL;
