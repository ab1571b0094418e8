-- Statements (uttalelser, issue 22 item 1): before deciding, a case officer asks a register
-- owner or an outside expert for a statement on a case, with a question and a due date. The
-- reviewer is an existing account (linked by its e-mail address) or one made for the address
-- (role `reviewer`: it sees only the cases it was asked about). The answer is given once.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('applicant', 'case_officer', 'register_owner', 'admin', 'reviewer'));

CREATE TABLE statements (
    id                BIGSERIAL PRIMARY KEY,
    application_id    BIGINT NOT NULL REFERENCES applications (id),
    requested_by      BIGINT NOT NULL REFERENCES users (id),
    reviewer_id       BIGINT NOT NULL REFERENCES users (id),
    question          TEXT NOT NULL CHECK (length(question) BETWEEN 1 AND 4000),
    due_on            DATE NOT NULL,
    answer            TEXT CHECK (answer IS NULL OR length(answer) BETWEEN 1 AND 20000),
    answered_at       TIMESTAMPTZ,
    reminded_at       TIMESTAMPTZ,
    -- The invitation link of an address whose account is not confirmed yet (its hash).
    invite_token_hash TEXT UNIQUE,
    invite_expires_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT statements_answered_together CHECK ((answer IS NULL) = (answered_at IS NULL))
);
CREATE INDEX statements_of_application ON statements (application_id);
CREATE INDEX statements_of_reviewer ON statements (reviewer_id);
CREATE INDEX statements_outstanding ON statements (due_on) WHERE answered_at IS NULL;
