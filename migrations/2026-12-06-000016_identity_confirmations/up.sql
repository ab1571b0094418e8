-- A first federated login waiting for the person to prove an e-mail address with a mailed code
-- (the browser holds `token` in a private cookie; only its hash is kept). The national identity
-- number ID-porten sends (`pid`) is not kept: no rule needs it.
CREATE TABLE identity_confirmations (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    provider    TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    name        TEXT,
    email       TEXT,
    code_hash   TEXT,
    codes_sent  INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next        TEXT NOT NULL DEFAULT '/',
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX identity_confirmations_expiry ON identity_confirmations (expires_at);
