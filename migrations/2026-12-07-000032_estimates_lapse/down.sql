DROP INDEX estimates_one_pending;
ALTER TABLE estimates DROP COLUMN lapsed_at;
CREATE UNIQUE INDEX estimates_one_pending ON estimates (application_id, organisation_id)
    WHERE accepted_at IS NULL AND superseded_at IS NULL;
