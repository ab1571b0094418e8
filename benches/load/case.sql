-- pgbench reference for the officer's case page (GET /applications/{id} as a case officer): each
-- distinct statement the route runs (from `--queries`), once. Variables: first, officer_session.
\set id :first + 100 * random(0, 999)
SELECT u.*, s.expires_at, (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) FROM sessions s JOIN users u ON s.user_id = u.id WHERE s.token_hash = :officer_session AND s.expires_at > now() AND u.active LIMIT 1;
SELECT * FROM applications WHERE id = :id LIMIT 1;
-- The assigned officer's name (the route reads it by the id it has just read; most cases here are assigned).
SELECT name FROM users WHERE id = (SELECT assignee_id FROM applications WHERE id = :id);
SELECT * FROM events WHERE subject_type = 'application' AND subject_id = :id ORDER BY id;
SELECT r.*, d.code, d.name_nb, d.name_en FROM releases r JOIN data_sources d ON d.id = r.data_source_id WHERE r.application_id = :id ORDER BY d.code;
SELECT * FROM transfers WHERE application_id = :id ORDER BY id;
SELECT m.id, m.author_id, u.name, u.role, m.internal, m.body, m.created_at FROM messages m JOIN users u ON m.author_id = u.id WHERE m.application_id = :id ORDER BY m.id;
SELECT * FROM attachments WHERE application_id = :id AND deleted_at IS NULL ORDER BY created_at;
SELECT * FROM organisations ORDER BY name;
SELECT * FROM estimates WHERE application_id = :id ORDER BY id;
SELECT * FROM price_lists WHERE state = 'published';
SELECT * FROM data_sources WHERE id = ANY(ARRAY(SELECT data_source_id FROM application_sources WHERE application_id = :id)) ORDER BY code;
SELECT * FROM price_items WHERE price_list_id IN (SELECT id FROM price_lists WHERE state = 'published') ORDER BY price_list_id, id;
SELECT t.*, u.name FROM time_records t JOIN users u ON t.user_id = u.id WHERE t.application_id = :id ORDER BY t.id;
SELECT * FROM invoices WHERE application_id = :id ORDER BY id;
SELECT * FROM decisions WHERE application_id = :id ORDER BY id DESC LIMIT 1;
SELECT * FROM helseklage_outcomes WHERE application_id = :id LIMIT 1;
SELECT s.*, r.name, r.email, q.name, a.reference, a.title FROM statements s JOIN users r ON r.id = s.reviewer_id JOIN users q ON q.id = s.requested_by JOIN applications a ON a.id = s.application_id WHERE s.application_id = :id ORDER BY s.id;
