-- Integrations (issue 11): federated login, webhooks through the outbox, full-text search.

-- Accounts linked to an OpenID Connect identity: one row per (issuer, subject).
CREATE TABLE identities (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX identities_user ON identities (user_id);

-- An organisation's receivers of event notifications (its own case systems).
CREATE TABLE webhook_endpoints (
    id              BIGSERIAL PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    url             TEXT NOT NULL,
    -- Event kinds delivered ('application.submitted', …); empty means every kind.
    event_kinds     TEXT[] NOT NULL DEFAULT '{}',
    -- The signing secret (HMAC-SHA256 key); shown once when the endpoint is registered.
    secret          TEXT NOT NULL,
    created_by      BIGINT REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL,
    disabled_at     TIMESTAMPTZ
);
CREATE INDEX webhook_endpoints_organisation ON webhook_endpoints (organisation_id) WHERE disabled_at IS NULL;

-- The outbox carries webhook deliveries beside mail: recipient is then the URL, template the
-- event kind, context the JSON body; the receiver's answer is kept for the admin page.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'mail' CHECK (channel IN ('mail', 'webhook'));
ALTER TABLE outbox ADD COLUMN endpoint_id BIGINT REFERENCES webhook_endpoints (id);
ALTER TABLE outbox ADD COLUMN response_status INT;
ALTER TABLE outbox ADD COLUMN response_excerpt TEXT;
CREATE INDEX outbox_endpoint ON outbox (endpoint_id, id DESC) WHERE endpoint_id IS NOT NULL;

-- Full-text search: bokmål and English configurations side by side ('simple' for codes).
ALTER TABLE applications ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', coalesce(reference, '')), 'A')
    || setweight(to_tsvector('norwegian', title), 'A')
    || setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('norwegian', coalesce(form ->> 'summary', '')), 'B')
    || setweight(to_tsvector('english', coalesce(form ->> 'summary', '')), 'B')
    || setweight(to_tsvector('simple',
           coalesce(form #>> '{project_leader,name}', '') || ' '
           || coalesce(form #>> '{project_leader,institution}', '') || ' '
           || coalesce(form #>> '{controller,name}', '')), 'C')
) STORED;
CREATE INDEX applications_search ON applications USING gin (search);

ALTER TABLE data_sources ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', code), 'A')
    || setweight(to_tsvector('norwegian', name_nb), 'A')
    || setweight(to_tsvector('english', name_en), 'A')
    || setweight(to_tsvector('norwegian', description_nb), 'B')
    || setweight(to_tsvector('english', description_en), 'B')
) STORED;
CREATE INDEX data_sources_search ON data_sources USING gin (search);

ALTER TABLE variables ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', name), 'A')
    || setweight(to_tsvector('norwegian', description_nb), 'B')
    || setweight(to_tsvector('english', description_en), 'B')
) STORED;
CREATE INDEX variables_search ON variables USING gin (search);
