-- An appeal waiting longer than a month gets an interim reply of its own (forvaltningsloven
-- § 11 a): when the appeal was lodged, and when its interim reply went out.
ALTER TABLE applications ADD COLUMN appealed_at timestamptz;
ALTER TABLE applications ADD COLUMN appeal_interim_reply_at timestamptz;
UPDATE applications a SET appealed_at = (
    SELECT max(e.at) FROM events e
    WHERE e.subject_type = 'application' AND e.subject_id = a.id AND e.kind = 'application.appealed'
) WHERE a.state = 'appealed';

-- The state's KPI counts case-handling time from the submission that was complete (the last
-- submission before the case was found complete), kept when the case is found complete.
ALTER TABLE applications ADD COLUMN complete_submitted_at timestamptz;
UPDATE applications SET complete_submitted_at = submitted_at WHERE completed_at IS NOT NULL;
