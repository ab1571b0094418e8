-- A revised estimate that waits for the applicant lapses when the case ends (withdrawn or
-- closed): no work goes on that it could hold, and the applicant is no longer asked to accept
-- it. Before this, such estimates stayed "waiting" for ever and could still be accepted.
ALTER TABLE estimates ADD COLUMN lapsed_at TIMESTAMPTZ;

-- The estimates already left waiting on ended cases lapse at the moment their case ended (the
-- case's own withdrawn or closed event). The service records an `estimate.lapsed` event for
-- each lapse from now on; these earlier ones have none, as the code that ended their cases
-- recorded none.
UPDATE estimates e
   SET lapsed_at = COALESCE(
         (SELECT max(ev.at) FROM events ev
           WHERE ev.subject_type = 'application' AND ev.subject_id = e.application_id
             AND ev.kind IN ('application.withdrawn', 'application.closed')),
         a.updated_at)
  FROM applications a
 WHERE a.id = e.application_id
   AND a.state IN ('withdrawn', 'closed')
   AND e.accepted_at IS NULL AND e.superseded_at IS NULL;

DROP INDEX estimates_one_pending;
CREATE UNIQUE INDEX estimates_one_pending ON estimates (application_id, organisation_id)
    WHERE accepted_at IS NULL AND superseded_at IS NULL AND lapsed_at IS NULL;
