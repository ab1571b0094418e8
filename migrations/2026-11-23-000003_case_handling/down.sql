ALTER TABLE applications DROP COLUMN interim_reply_at;
ALTER TABLE applications DROP COLUMN sent_to_helseklage_at;
ALTER TABLE applications DROP COLUMN appeal_grounds;
DROP TABLE decisions;
DROP TABLE releases;
