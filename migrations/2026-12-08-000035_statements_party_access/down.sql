ALTER TABLE statements DROP CONSTRAINT statements_reason_only_when_withheld,
    DROP COLUMN withheld_reason, DROP COLUMN withheld;
