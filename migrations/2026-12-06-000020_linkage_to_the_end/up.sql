-- Linkage to the end. A linkage extract (recipient_organisation_id set) goes from the release's
-- owner to another data holder; once that holder has downloaded it, it links the data and sends
-- the linked data to the researcher with a transfer of its own, which names the extract
-- (linked_from). Every transfer now records the organisation that sends it: the release's
-- owner, or the receiving holder for linked data.
ALTER TABLE transfers ADD COLUMN sender_organisation_id BIGINT REFERENCES organisations (id);
UPDATE transfers t SET sender_organisation_id = r.owner_organisation_id FROM releases r WHERE r.id = t.release_id;
ALTER TABLE transfers ALTER COLUMN sender_organisation_id SET NOT NULL;
ALTER TABLE transfers ADD COLUMN linked_from BIGINT REFERENCES transfers (id);
-- Linked data go to the researcher, never on to a third holder.
ALTER TABLE transfers ADD CONSTRAINT transfers_linked_data_to_the_researcher
    CHECK (linked_from IS NULL OR recipient_organisation_id IS NULL);
CREATE INDEX transfers_linked_from ON transfers (linked_from) WHERE linked_from IS NOT NULL;
