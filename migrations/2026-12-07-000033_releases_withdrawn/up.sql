-- A release still open when its application is withdrawn (waiting for its decider, or approved
-- by its owner before the case's decision) is withdrawn with it: before, it stayed "pending" for
-- ever, in the owner's queue and dashboard, and the scheduler reminded its decider every
-- fortnight of a decision nobody could make any more.
ALTER TABLE releases DROP CONSTRAINT releases_state_check;
ALTER TABLE releases ADD CONSTRAINT releases_state_check
    CHECK (state IN ('pending', 'approved', 'rejected', 'delivered', 'withdrawn'));

-- The ones already left open on withdrawn cases (the dashboard's trigger takes them out of the
-- pending counts). The service records them in the case's `application.withdrawn` event from
-- now on; these have the case's event without the list.
UPDATE releases r SET state = 'withdrawn', version = r.version + 1
  FROM applications a
 WHERE a.id = r.application_id AND a.state = 'withdrawn' AND r.state IN ('pending', 'approved');
