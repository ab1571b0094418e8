-- Pre-application enquiries (forhåndsveiledning, issue 22 item 2): a researcher asks about
-- sources before applying; officers and the register owners of the sources named answer in a
-- thread; the enquiry can become a draft application with its sources filled in (once).
CREATE TABLE enquiries (
    id             BIGSERIAL PRIMARY KEY,
    asker_id       BIGINT NOT NULL REFERENCES users (id),
    subject        TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    state          TEXT NOT NULL CHECK (state IN ('open', 'answered', 'closed')),
    application_id BIGINT UNIQUE REFERENCES applications (id),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX enquiries_of_asker ON enquiries (asker_id);
CREATE INDEX enquiries_latest ON enquiries (updated_at DESC, id DESC);

CREATE TABLE enquiry_sources (
    enquiry_id     BIGINT NOT NULL REFERENCES enquiries (id),
    data_source_id BIGINT NOT NULL REFERENCES data_sources (id),
    position       INT NOT NULL,
    PRIMARY KEY (enquiry_id, data_source_id)
);
CREATE INDEX enquiry_sources_by_source ON enquiry_sources (data_source_id);

CREATE TABLE enquiry_messages (
    id         BIGSERIAL PRIMARY KEY,
    enquiry_id BIGINT NOT NULL REFERENCES enquiries (id),
    author_id  BIGINT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX enquiry_messages_of ON enquiry_messages (enquiry_id, id);
