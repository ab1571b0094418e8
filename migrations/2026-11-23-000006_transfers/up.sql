-- Secure file transfers (sikker filoverføring): a transfer belongs to one release and is created
-- by its register owner; for linkage it is addressed to another data-holding organisation.
-- Files are stored encrypted (see src/storage); a file row is reserved (complete = false) before
-- its bytes stream in and only marked complete once they are stored, so an interrupted upload
-- never counts. Receipts record every completed download; nothing here is deleted on expiry.

CREATE TABLE transfers (
    id                        BIGSERIAL PRIMARY KEY,
    release_id                BIGINT NOT NULL REFERENCES releases (id),
    application_id            BIGINT NOT NULL REFERENCES applications (id),
    recipient_organisation_id BIGINT REFERENCES organisations (id),
    created_by                BIGINT NOT NULL REFERENCES users (id),
    state                     TEXT NOT NULL DEFAULT 'open'
                              CHECK (state IN ('open', 'available', 'downloaded', 'expired', 'revoked')),
    expires_at                TIMESTAMPTZ NOT NULL,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL,
    published_at              TIMESTAMPTZ,
    downloaded_at             TIMESTAMPTZ,
    expired_at                TIMESTAMPTZ,
    revoked_at                TIMESTAMPTZ,
    revoked_by                BIGINT REFERENCES users (id),
    expiry_warned_at          TIMESTAMPTZ,
    version                   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX transfers_release ON transfers (release_id);
CREATE INDEX transfers_application ON transfers (application_id);
CREATE INDEX transfers_recipient ON transfers (recipient_organisation_id) WHERE recipient_organisation_id IS NOT NULL;
CREATE INDEX transfers_expiry ON transfers (expires_at) WHERE state IN ('open', 'available', 'downloaded');

CREATE TABLE transfer_files (
    id            BIGSERIAL PRIMARY KEY,
    transfer_id   BIGINT NOT NULL REFERENCES transfers (id),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    size          BIGINT NOT NULL DEFAULT 0 CHECK (size >= 0),
    sha256        TEXT NOT NULL DEFAULT '',
    storage_key   TEXT NOT NULL UNIQUE,
    complete      BOOLEAN NOT NULL DEFAULT false,
    uploaded_by   BIGINT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    completed_at  TIMESTAMPTZ,
    bytes_deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX transfer_files_name ON transfer_files (transfer_id, name) WHERE complete;
CREATE INDEX transfer_files_incomplete ON transfer_files (created_at) WHERE NOT complete;

CREATE TABLE transfer_receipts (
    id               BIGSERIAL PRIMARY KEY,
    transfer_file_id BIGINT NOT NULL REFERENCES transfer_files (id),
    user_id          BIGINT NOT NULL REFERENCES users (id),
    at               TIMESTAMPTZ NOT NULL,
    bytes            BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    address          TEXT
);
CREATE INDEX transfer_receipts_file ON transfer_receipts (transfer_file_id);
