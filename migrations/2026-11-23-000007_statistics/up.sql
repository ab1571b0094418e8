-- Indexes for the statistics (SPEC §11): month buckets over these timestamps, and the check
-- whether an application was ever returned (complete at first submission).
CREATE INDEX applications_first_submitted ON applications (first_submitted_at) WHERE first_submitted_at IS NOT NULL;
CREATE INDEX applications_delivered ON applications (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX decisions_decided ON decisions (application_id, decided_at);
CREATE INDEX events_returned ON events (subject_id) WHERE kind = 'application.returned';
CREATE INDEX releases_delivered ON releases (owner_organisation_id, delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX transfers_published ON transfers (published_at) WHERE published_at IS NOT NULL;
