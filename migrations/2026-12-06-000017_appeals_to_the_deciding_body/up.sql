-- An appeal goes to the body that decided: each release refused in the appealed decision is
-- reconsidered by its own decider (reversed or upheld); an upheld refusal goes to Helseklage,
-- whose outcome is recorded on the application. Dispensation from the duty of confidentiality,
-- where a decider grants it with a release, is a decision of its own in the letter.
ALTER TABLE releases ADD COLUMN reconsideration TEXT CHECK (reconsideration IN ('pending', 'reversed', 'upheld'));
ALTER TABLE releases ADD COLUMN reconsidered_by BIGINT REFERENCES users (id);
ALTER TABLE releases ADD COLUMN reconsidered_at TIMESTAMPTZ;
ALTER TABLE releases ADD COLUMN dispensation BOOLEAN NOT NULL DEFAULT false;
CREATE TABLE helseklage_outcomes (
    application_id BIGINT PRIMARY KEY REFERENCES applications (id),
    outcome        TEXT NOT NULL CHECK (outcome IN ('upheld', 'reversed', 'partly_reversed')),
    decided_on     DATE NOT NULL,
    reference      TEXT NOT NULL,
    recorded_by    BIGINT NOT NULL REFERENCES users (id),
    recorded_at    TIMESTAMPTZ NOT NULL
);
-- Cases under appeal now: their refused releases wait for reconsideration.
UPDATE releases r SET reconsideration = 'pending'
FROM applications a WHERE a.id = r.application_id AND a.state = 'appealed' AND r.state = 'rejected';
