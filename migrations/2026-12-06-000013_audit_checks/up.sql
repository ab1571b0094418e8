-- The results of verifying the event chain (issue 19): the scheduler verifies it every round and
-- an admin may verify it at once; pages show the last result instead of re-hashing on every view.
CREATE TABLE audit_checks (
    id              BIGSERIAL PRIMARY KEY,
    checked_at      TIMESTAMPTZ NOT NULL,
    events_checked  BIGINT NOT NULL CHECK (events_checked >= 0),
    first_broken    BIGINT,
    -- The admin who asked for it; NULL for the scheduler.
    requested_by    BIGINT REFERENCES users (id)
);
CREATE INDEX audit_checks_latest ON audit_checks (checked_at DESC);
