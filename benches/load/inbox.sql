-- pgbench reference for the officers' inbox, first page (50 rows, the cases awaiting a decision: the default, by due date): each
-- statement the route runs, once. Variables from benches/load.rs: officer_session.
SELECT u.*, s.expires_at, (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) FROM sessions s JOIN users u ON s.user_id = u.id WHERE s.token_hash = :officer_session AND s.expires_at > now() AND u.active LIMIT 1;
SELECT a.id, a.reference, a.title, a.state, a.assignee_id, a.due_date, a.submitted_at, EXISTS (SELECT e.id FROM estimates e WHERE e.accepted_at IS NULL AND e.superseded_at IS NULL AND e.lapsed_at IS NULL AND e.application_id = a.id) FROM applications a WHERE a.first_submitted_at IS NOT NULL AND a.state IN ('submitted', 'returned', 'in_review', 'appealed') ORDER BY a.due_date ASC NULLS LAST, a.id LIMIT 50 OFFSET 0;
SELECT state, sum(n)::bigint AS n FROM case_counts GROUP BY state HAVING sum(n) <> 0 ORDER BY state;
SELECT d.*, o.* FROM data_sources d JOIN organisations o ON o.id = d.owner_id ORDER BY d.code;
