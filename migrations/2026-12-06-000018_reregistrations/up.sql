-- Registration answers the same whether or not the address has an account (no enumeration).
-- When it belongs to an account whose address was never confirmed, the new registration waits
-- here until the person opens the link mailed to the address: proving the mailbox, they take
-- the account over (the earlier password, sessions and tokens go).
CREATE TABLE reregistrations (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    expires_at    TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX reregistrations_user ON reregistrations (user_id);
