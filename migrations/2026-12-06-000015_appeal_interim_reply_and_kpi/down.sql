ALTER TABLE applications DROP COLUMN complete_submitted_at;
ALTER TABLE applications DROP COLUMN appeal_interim_reply_at;
ALTER TABLE applications DROP COLUMN appealed_at;
