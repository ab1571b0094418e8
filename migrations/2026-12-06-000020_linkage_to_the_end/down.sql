DROP INDEX transfers_linked_from;
ALTER TABLE transfers DROP CONSTRAINT transfers_linked_data_to_the_researcher;
ALTER TABLE transfers DROP COLUMN linked_from, DROP COLUMN sender_organisation_id;
