-- The applicant's side reads a case's statements (forvaltningsloven § 18) unless an officer
-- withholds one, with the reason the applicant is shown (§§ 18 a–19). Statements given before
-- the applicant could read them were given on other terms: they stay withheld, without a reason
-- (shown as not yet reviewed), until an officer shares them.
ALTER TABLE statements
    ADD COLUMN withheld BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN withheld_reason TEXT CHECK (withheld_reason IS NULL OR length(withheld_reason) BETWEEN 1 AND 2000),
    ADD CONSTRAINT statements_reason_only_when_withheld CHECK (withheld OR withheld_reason IS NULL);
UPDATE statements SET withheld = true;
