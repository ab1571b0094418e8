CREATE INDEX releases_owner ON releases (owner_organisation_id, state);
DROP INDEX releases_queue;
