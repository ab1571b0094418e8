DROP INDEX applications_permits_open;
ALTER TABLE applications DROP COLUMN permit_ends_on;
