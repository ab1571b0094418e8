-- Permits that end: a granted application's permit runs to the project's end date (set at the
-- decision, moved by an approved extension). Officers list permits that have ended without a
-- confirmed deletion of the data.
ALTER TABLE applications ADD COLUMN permit_ends_on DATE;
UPDATE applications a SET permit_ends_on = (a.form->>'end_date')::date
 WHERE a.form->>'end_date' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
   AND a.state IN ('approved', 'partially_approved', 'delivered', 'closed')
   AND EXISTS (SELECT 1 FROM decisions d WHERE d.application_id = a.id AND d.outcome IN ('approved', 'partially_approved'));
CREATE INDEX applications_permits_open ON applications (permit_ends_on)
    WHERE permit_ends_on IS NOT NULL AND deletion_confirmed_at IS NULL;
