-- Resumable uploads of transfer files (tus 1.0, issue 25). The file is reserved as usual
-- (an incomplete transfer_files row); its session records how many plaintext bytes are stored
-- (in whole chunks), the SHA-256 state to continue from, the checksum the client announced, and
-- a short lease while one request writes, so two requests never write the same part at once.
CREATE TABLE upload_sessions (
    file_id BIGINT PRIMARY KEY REFERENCES transfer_files (id) ON DELETE CASCADE,
    length BIGINT NOT NULL CHECK (length >= 0),
    received BIGINT NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= length),
    hash_state BYTEA NOT NULL CHECK (octet_length(hash_state) = 32),
    expected_sha256 TEXT CHECK (expected_sha256 ~ '^[0-9a-f]{64}$'),
    touched_at TIMESTAMPTZ NOT NULL,
    writing_until TIMESTAMPTZ
);
CREATE INDEX upload_sessions_touched ON upload_sessions (touched_at);
