-- An upload in progress proves it is alive by touching its row (no lock or connection is held
-- while its body streams in); the clean-up removes reservations whose heartbeat has stopped.
ALTER TABLE transfer_files ADD COLUMN heartbeat_at timestamptz;
UPDATE transfer_files SET heartbeat_at = created_at WHERE NOT complete;

-- Nynorsk (språklova): a person's language and a decision letter's may be `nn`.
ALTER TABLE users DROP CONSTRAINT users_language_check;
ALTER TABLE users ADD CONSTRAINT users_language_check CHECK (language IN ('nb', 'nn', 'en'));
ALTER TABLE decisions DROP CONSTRAINT decisions_language_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_language_check CHECK (language IN ('nb', 'nn', 'en'));
