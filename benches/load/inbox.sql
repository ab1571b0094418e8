-- pgbench reference for the officers' inbox, first page (50 rows, unfiltered, by due date): each
-- statement the route runs, once. Variables from benches/load.rs: officer_session.
SELECT u.*, s.expires_at, (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) FROM sessions s JOIN users u ON s.user_id = u.id WHERE s.token_hash = :officer_session AND s.expires_at > now() AND u.active LIMIT 1;
SELECT DISTINCT application_id FROM estimates WHERE accepted_at IS NULL AND superseded_at IS NULL;
SELECT id, reference, title, state, assignee_id, due_date, submitted_at FROM applications WHERE first_submitted_at IS NOT NULL ORDER BY due_date ASC NULLS LAST, id LIMIT 50 OFFSET 0;
SELECT state, sum(n)::bigint AS n FROM case_counts GROUP BY state HAVING sum(n) <> 0 ORDER BY state;
SELECT d.*, o.* FROM data_sources d JOIN organisations o ON o.id = d.owner_id ORDER BY d.code;
