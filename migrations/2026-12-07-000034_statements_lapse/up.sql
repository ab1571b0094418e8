-- A statement not answered when its case ends (withdrawn or closed) lapses: no decision waits
-- for it. Before, it stayed outstanding for ever: on the officers' list as overdue, reminded,
-- answerable, and an outside reviewer's invitation link still made an account for the case.
ALTER TABLE statements ADD COLUMN lapsed_at TIMESTAMPTZ;

-- Those already left open on ended cases lapse at the moment their case ended, and their
-- invitation links stop working. The service records a `statement.lapsed` event for each lapse
-- from now on; these earlier ones have none.
UPDATE statements s
   SET lapsed_at = COALESCE(
         (SELECT max(ev.at) FROM events ev
           WHERE ev.subject_type = 'application' AND ev.subject_id = s.application_id
             AND ev.kind IN ('application.withdrawn', 'application.closed')),
         a.updated_at),
       invite_token_hash = NULL, invite_expires_at = NULL
  FROM applications a
 WHERE a.id = s.application_id
   AND a.state IN ('withdrawn', 'closed')
   AND s.answered_at IS NULL;
