-- Applications (søknader) on the common form, their project members, requested sources,
-- attachments and messages; gapless case references per year.

CREATE TABLE applications (
    id                 BIGSERIAL PRIMARY KEY,
    applicant_id       BIGINT NOT NULL REFERENCES users (id),
    reference          TEXT UNIQUE CHECK (reference IS NULL OR reference ~ '^HDS-[0-9]{4}-[0-9]{5}$'),
    state              TEXT NOT NULL DEFAULT 'draft' CHECK (state IN (
                           'draft', 'submitted', 'returned', 'in_review', 'approved', 'partially_approved',
                           'rejected', 'appealed', 'delivered', 'closed', 'withdrawn')),
    kind               TEXT NOT NULL DEFAULT 'identifiable' CHECK (kind IN ('aggregated', 'identifiable')),
    application_type   TEXT NOT NULL DEFAULT 'new' CHECK (application_type IN ('new', 'amendment', 'extension', 'data_update')),
    title              TEXT NOT NULL DEFAULT '',
    form               JSONB NOT NULL DEFAULT '{}'::jsonb,
    version            INTEGER NOT NULL DEFAULT 1,
    assignee_id        BIGINT REFERENCES users (id),
    copied_from_id     BIGINT REFERENCES applications (id),
    submit_count       INTEGER NOT NULL DEFAULT 0,
    estimate_ore       BIGINT,
    estimate_accepted_at TIMESTAMPTZ,
    due_date           DATE,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    first_submitted_at TIMESTAMPTZ,
    submitted_at       TIMESTAMPTZ,
    completed_at       TIMESTAMPTZ,
    decided_at         TIMESTAMPTZ,
    delivered_at       TIMESTAMPTZ,
    closed_at          TIMESTAMPTZ
);
CREATE INDEX applications_applicant ON applications (applicant_id, id DESC);
CREATE INDEX applications_state ON applications (state, submitted_at);
CREATE INDEX applications_assignee ON applications (assignee_id) WHERE assignee_id IS NOT NULL;

-- Members named on the form; they read the application once an account with that e-mail exists.
CREATE TABLE application_members (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    email          TEXT NOT NULL CHECK (email = lower(email)),
    PRIMARY KEY (application_id, email)
);
CREATE INDEX application_members_email ON application_members (email);

-- The sources requested, kept beside the form for routing and filtering.
CREATE TABLE application_sources (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    data_source_id BIGINT NOT NULL REFERENCES data_sources (id),
    PRIMARY KEY (application_id, data_source_id)
);
CREATE INDEX application_sources_source ON application_sources (data_source_id);

-- One row per year; the submit transaction increments it under a row lock, so references have
-- no gaps and no duplicates.
CREATE TABLE reference_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Typed attachments, stored encrypted through the storage module.
CREATE TABLE attachments (
    id             UUID PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    kind           TEXT NOT NULL CHECK (kind IN ('protocol', 'rek_application', 'rek_approval', 'rek_dispensation',
                       'dpo_assessment', 'dpia', 'consent_template', 'concession', 'variable_list', 'other')),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL CHECK (size >= 0),
    sha256         TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key    TEXT NOT NULL,
    uploaded_by    BIGINT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at     TIMESTAMPTZ
);
CREATE INDEX attachments_application ON attachments (application_id) WHERE deleted_at IS NULL;

-- Messages between applicant and case officers; internal notes the applicant never sees.
CREATE TABLE messages (
    id             BIGSERIAL PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    author_id      BIGINT NOT NULL REFERENCES users (id),
    internal       BOOLEAN NOT NULL DEFAULT false,
    body           TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX messages_application ON messages (application_id, id);
