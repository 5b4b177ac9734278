-- age public keys (age1…) a schedule's backups are encrypted to; NULL: not encrypted.
ALTER TABLE schedules ADD COLUMN encrypt_to TEXT;
