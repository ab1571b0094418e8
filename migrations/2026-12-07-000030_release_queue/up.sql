-- A register owner's release queue in pages (issue 25): the releases of an organisation, of one
-- state or all, in the queue's order (state, then oldest first). The index reads a page in order
-- at any depth; it replaces releases_owner (owner_organisation_id, state), its prefix.
CREATE INDEX releases_queue ON releases (owner_organisation_id, state, created_at, id);
DROP INDEX releases_owner;
