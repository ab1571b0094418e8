-- pgbench reference for "my applications" (GET /applications) of a researcher with about 200
-- applications (the first page: 50 of them, and one more to tell whether a next page follows): each
-- statement the route runs, once. Variables: busy_session, busy.
SELECT u.*, s.expires_at, (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) FROM sessions s JOIN users u ON s.user_id = u.id WHERE s.token_hash = :busy_session AND s.expires_at > now() AND u.active LIMIT 1;
SELECT application_id FROM application_members WHERE email = 'bench1@example.no';
SELECT id, reference, state, kind, application_type, title, version, due_date, submitted_at, updated_at FROM applications WHERE applicant_id = :busy OR id = ANY('{}'::bigint[]) ORDER BY id DESC LIMIT 51 OFFSET 0;
