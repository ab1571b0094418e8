DROP INDEX releases_waiting;
ALTER TABLE applications DROP COLUMN deletion_confirmed_at;
ALTER TABLE applications DROP COLUMN deletion_reminded_at;
ALTER TABLE releases DROP COLUMN reminded_at;
DROP TABLE outbox;
DROP TABLE notifications;
ALTER TABLE users DROP COLUMN last_digest_at;
ALTER TABLE users DROP COLUMN mail_preference;
