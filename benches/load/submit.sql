-- pgbench reference for a submit: the writes of POST /api/applications and of
-- POST /api/applications/{id}/submit (two transactions, as the service runs them) with the token
-- look-ups and the reads their validation needs (the form's one source and its variables); not
-- the reads that build the JSON answers. Variables from benches/load.rs: token_hash, applicant,
-- officer, npr, form. The form is of type "new", so no earlier case is looked up (since issue 25
-- only the one a form names is). In the submit's transaction the statements run in the service's
-- order since session 13: who is told (and which webhook endpoints) is read before the event
-- chain's lock, so the lock covers only the writes. Like the service, it writes a notice and a
-- mail for the applicant and for every case officer (seven; until session 13 it wrote two of
-- each, fewer than the service did).
SELECT t.*, u.* FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND t.expires_at > now() LIMIT 1;
SELECT * FROM data_sources WHERE id IN (:npr) ORDER BY code;
SELECT * FROM variables WHERE data_source_id IN (:npr) ORDER BY data_source_id, name;
BEGIN;
INSERT INTO applications (kind, application_type, title, form, applicant_id, created_at, updated_at) VALUES ('aggregated', 'new', 'Belastningsmåling', :form, :applicant, now(), now()) RETURNING id AS app \gset
DELETE FROM application_members WHERE application_id = :app;
DELETE FROM application_sources WHERE application_id = :app;
INSERT INTO application_sources (application_id, data_source_id) VALUES (:app, :npr) ON CONFLICT DO NOTHING;
SELECT pg_advisory_xact_lock(20341323194521172);
SELECT hash AS prev FROM events ORDER BY id DESC LIMIT 1 \gset
INSERT INTO events (at, actor_id, subject_type, subject_id, kind, payload, prev_hash, hash) VALUES (now(), :applicant, 'application', :app, 'application.created', '{}', :prev, md5(:prev::text || 'c' || :app::text) || md5(:app::text || 'c'));
COMMIT;
SELECT t.*, u.* FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND t.expires_at > now() LIMIT 1;
SELECT * FROM data_sources WHERE id IN (:npr) ORDER BY code;
SELECT * FROM variables WHERE data_source_id IN (:npr) ORDER BY data_source_id, name;
BEGIN;
SELECT * FROM applications WHERE id = :app FOR UPDATE;
INSERT INTO reference_counters (year, last) VALUES (2099, 1) ON CONFLICT (year) DO UPDATE SET last = reference_counters.last + 1 RETURNING last AS n \gset
UPDATE applications SET state = 'submitted', reference = 'HDS-2099-' || lpad(:n::text, 5, '0'), submitted_at = now(), first_submitted_at = now(), submit_count = 1, estimate_ore = 150000, estimate_accepted_at = now(), due_date = current_date + 60, version = version + 1, updated_at = now() WHERE id = :app RETURNING id;
SELECT id, email, name, role, language, mail_preference FROM users WHERE id = ANY(ARRAY[:applicant]::bigint[]) AND active;
SELECT id, email, name, role, language, mail_preference FROM users WHERE role = 'case_officer' AND active;
SELECT * FROM webhook_endpoints WHERE disabled_at IS NULL AND (organisation_id IN (SELECT d.owner_id FROM application_sources s JOIN data_sources d ON d.id = s.data_source_id WHERE s.application_id = :app) OR organisation_id IN (SELECT owner_organisation_id FROM releases WHERE application_id = :app)) ORDER BY id;
SELECT pg_advisory_xact_lock(20341323194521172);
SELECT hash AS prev FROM events ORDER BY id DESC LIMIT 1 \gset
INSERT INTO events (at, actor_id, subject_type, subject_id, kind, payload, prev_hash, hash) VALUES (now(), :applicant, 'application', :app, 'application.submitted', '{}', :prev, md5(:prev::text || 's' || :app::text) || md5(:app::text || 's')) RETURNING id AS event \gset
INSERT INTO notifications (user_id, event_id, application_id, kind, params, urgent, created_at, mail) SELECT id, :event, :app, CASE WHEN id = :applicant THEN 'application.submitted_receipt' ELSE 'application.submitted' END, '{}', id = :applicant, now(), 'queued' FROM users WHERE (id = :applicant OR role = 'case_officer') AND active ON CONFLICT (user_id, event_id) DO NOTHING;
INSERT INTO outbox (user_id, recipient, language, template, context, next_attempt_at, created_at) SELECT id, email, language, 'application_submitted', '{}', now() + interval '1 day', now() FROM users WHERE (id = :applicant OR role = 'case_officer') AND active;
COMMIT;
