-- Notifications (SPEC §10): an in-app notice per person and event, and a transactional mail
-- outbox written in the same transaction as the event and drained by a background worker.

-- 'immediate': every notice is mailed at once; 'digest': non-urgent notices are collected into
-- one daily mail.
ALTER TABLE users ADD COLUMN mail_preference TEXT NOT NULL DEFAULT 'immediate'
    CHECK (mail_preference IN ('immediate', 'digest'));
ALTER TABLE users ADD COLUMN last_digest_at TIMESTAMPTZ;

CREATE TABLE notifications (
    id             BIGSERIAL PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    event_id       BIGINT REFERENCES events (id),
    application_id BIGINT REFERENCES applications (id),
    kind           TEXT NOT NULL,
    -- What the notice says besides its kind (reference, title, message …), rendered per language.
    params         JSONB NOT NULL DEFAULT '{}',
    urgent         BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    read_at        TIMESTAMPTZ,
    -- 'queued': in the outbox; 'digest': waits for the daily digest; 'digested': in a digest.
    mail           TEXT NOT NULL CHECK (mail IN ('queued', 'digest', 'digested')),
    UNIQUE (user_id, event_id)
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_digest ON notifications (user_id) WHERE mail = 'digest';

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT REFERENCES users (id),
    recipient       TEXT NOT NULL,
    language        TEXT NOT NULL,
    -- A notification kind, or 'digest'.
    template        TEXT NOT NULL,
    context         JSONB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    message_id      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id DESC);

-- Reminders: to deciders of releases waiting long, and to applicants before the project ends.
ALTER TABLE releases ADD COLUMN reminded_at TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN deletion_reminded_at TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN deletion_confirmed_at TIMESTAMPTZ;
CREATE INDEX releases_waiting ON releases (created_at) WHERE state = 'pending';
