-- When the applicant's side could last begin to read a statement's answer (answered while
-- shared, or shared after its answer): their time to comment runs from it
-- (`domain::statement::comment_by`). Statements shared before this column get their answer's
-- time.
ALTER TABLE statements ADD COLUMN shared_at TIMESTAMPTZ;
UPDATE statements SET shared_at = answered_at WHERE answered_at IS NOT NULL AND NOT withheld;
