-- Case handling: one release (utlevering) per requested source, routed at completion to its
-- decider by the source's decision authority at that moment; the decision (vedtak) with its
-- letter as sent; appeals.

CREATE TABLE releases (
    id                    BIGSERIAL PRIMARY KEY,
    application_id        BIGINT NOT NULL REFERENCES applications (id),
    data_source_id        BIGINT NOT NULL REFERENCES data_sources (id),
    decider               TEXT NOT NULL CHECK (decider IN ('owner', 'hds')),
    owner_organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    state                 TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected', 'delivered')),
    conditions            TEXT NOT NULL DEFAULT '' CHECK (length(conditions) <= 4000),
    reasons               TEXT NOT NULL DEFAULT '' CHECK (length(reasons) <= 4000),
    decided_by            BIGINT REFERENCES users (id),
    decided_at            TIMESTAMPTZ,
    delivered_by          BIGINT REFERENCES users (id),
    delivered_at          TIMESTAMPTZ,
    environment           TEXT,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    version               INTEGER NOT NULL DEFAULT 1,
    UNIQUE (application_id, data_source_id)
);
CREATE INDEX releases_owner ON releases (owner_organisation_id, state);
CREATE INDEX releases_pending_hds ON releases (decider, state);

CREATE TABLE decisions (
    id              BIGSERIAL PRIMARY KEY,
    application_id  BIGINT NOT NULL REFERENCES applications (id),
    outcome         TEXT NOT NULL CHECK (outcome IN ('approved', 'partially_approved', 'rejected')),
    reasons         TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL CHECK (language IN ('nb', 'en')),
    letter_html     TEXT NOT NULL,
    decided_by      BIGINT NOT NULL REFERENCES users (id),
    decided_at      TIMESTAMPTZ NOT NULL,
    appeal_deadline DATE NOT NULL
);
CREATE INDEX decisions_application ON decisions (application_id, id);

ALTER TABLE applications ADD COLUMN appeal_grounds TEXT;
ALTER TABLE applications ADD COLUMN sent_to_helseklage_at TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN interim_reply_at TIMESTAMPTZ;
CREATE INDEX applications_due ON applications (due_date) WHERE state IN ('submitted', 'returned', 'in_review', 'appealed');
