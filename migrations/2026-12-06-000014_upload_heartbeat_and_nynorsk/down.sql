ALTER TABLE decisions DROP CONSTRAINT decisions_language_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_language_check CHECK (language IN ('nb', 'en'));
ALTER TABLE users DROP CONSTRAINT users_language_check;
ALTER TABLE users ADD CONSTRAINT users_language_check CHECK (language IN ('nb', 'en'));
ALTER TABLE transfer_files DROP COLUMN heartbeat_at;
