-- pgbench reference for the officers' inbox (unfiltered): each statement the route runs, once.
-- Variables from benches/load.rs: officer_session.
SELECT u.* FROM sessions s JOIN users u ON s.user_id = u.id WHERE s.token_hash = :officer_session AND s.expires_at > now() AND u.active LIMIT 1;
SELECT count(*) FROM notifications WHERE user_id = (SELECT id FROM users WHERE email = 'saksbehandler@demo.helsedata.no') AND read_at IS NULL;
SELECT DISTINCT application_id FROM estimates WHERE accepted_at IS NULL AND superseded_at IS NULL;
SELECT id, reference, title, state, assignee_id, due_date, submitted_at FROM applications WHERE first_submitted_at IS NOT NULL ORDER BY due_date ASC NULLS LAST, id LIMIT 500;
SELECT state, count(*) FROM applications WHERE first_submitted_at IS NOT NULL GROUP BY state;
SELECT d.*, o.* FROM data_sources d JOIN organisations o ON o.id = d.owner_id ORDER BY d.code;
