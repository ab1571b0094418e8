-- Foundation: organisations, accounts, sessions, API tokens, login throttling,
-- the catalogue of data sources and their variables, and the append-only event log.

CREATE TABLE organisations (
    id                  BIGSERIAL PRIMARY KEY,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
    name_en             TEXT CHECK (name_en IS NULL OR length(name_en) BETWEEN 2 AND 200),
    organisation_number TEXT NOT NULL UNIQUE CHECK (organisation_number ~ '^[0-9]{9}$'),
    -- Helsedataservice itself (holds decision authority for `hds` sources); at most one.
    is_hds              BOOLEAN NOT NULL DEFAULT false,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    version             INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX organisations_one_hds ON organisations (is_hds) WHERE is_hds;

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    -- Stored normalised (trimmed, lower case) so uniqueness is case-insensitive.
    email           TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash   TEXT,
    role            TEXT NOT NULL CHECK (role IN ('applicant', 'case_officer', 'register_owner', 'admin')),
    organisation_id BIGINT REFERENCES organisations (id),
    language        TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en')),
    active          BOOLEAN NOT NULL DEFAULT true,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    version         INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT register_owner_has_organisation CHECK (role <> 'register_owner' OR organisation_id IS NOT NULL)
);
CREATE INDEX users_organisation ON users (organisation_id);

-- Browser sessions: the private cookie carries a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    address     TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Bearer tokens for the JSON API: stored only as SHA-256, with expiry and revocation.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT 'api',
    scope        TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Every login attempt, so throttling works across restarts and instances.
CREATE TABLE login_attempts (
    id         BIGSERIAL PRIMARY KEY,
    email      TEXT NOT NULL,
    address    TEXT NOT NULL,
    succeeded  BOOLEAN NOT NULL,
    at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_address ON login_attempts (address, at);

-- The catalogue (datakilder) and the variable explorer (variabelutforsker).
CREATE TABLE data_sources (
    id                 BIGSERIAL PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9]{2,12}$'),
    name_nb            TEXT NOT NULL CHECK (length(name_nb) BETWEEN 2 AND 200),
    name_en            TEXT NOT NULL CHECK (length(name_en) BETWEEN 2 AND 200),
    kind               TEXT NOT NULL CHECK (kind IN ('central_health_register', 'quality_register', 'health_survey')),
    owner_id           BIGINT NOT NULL REFERENCES organisations (id),
    decision_authority TEXT NOT NULL CHECK (decision_authority IN ('owner', 'hds')),
    on_common_form     BOOLEAN NOT NULL DEFAULT true,
    description_nb     TEXT NOT NULL DEFAULT '' CHECK (length(description_nb) <= 4000),
    description_en     TEXT NOT NULL DEFAULT '' CHECK (length(description_en) <= 4000),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    version            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX data_sources_owner ON data_sources (owner_id);

CREATE TABLE variables (
    id             BIGSERIAL PRIMARY KEY,
    data_source_id BIGINT NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    description_nb TEXT NOT NULL DEFAULT '' CHECK (length(description_nb) <= 1000),
    description_en TEXT NOT NULL DEFAULT '' CHECK (length(description_en) <= 1000),
    identifying    TEXT NOT NULL CHECK (identifying IN ('direct', 'indirect', 'none')),
    UNIQUE (data_source_id, name)
);

-- The append-only event log (SPEC §7): every state change, chained by SHA-256 so that
-- tampering is detectable. Rows are only ever inserted.
CREATE TABLE events (
    id             BIGSERIAL PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_id       BIGINT REFERENCES users (id),
    address        TEXT,
    subject_type   TEXT NOT NULL,
    subject_id     BIGINT,
    kind           TEXT NOT NULL,
    payload        JSONB NOT NULL DEFAULT '{}'::jsonb,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL UNIQUE
);
CREATE INDEX events_subject ON events (subject_type, subject_id, id);
CREATE INDEX events_actor ON events (actor_id);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
