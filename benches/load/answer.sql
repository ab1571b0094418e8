-- The reads that build an application's JSON answer as GET /api/applications/{id} shows it (SPEC
-- §12: create answers with the draft, a command with the application after it). benches/load.rs
-- runs them after each COMMIT of submit.sql for the second submit reference ("against writes and
-- answers' reads"), so that reference is the whole work of the two requests.
SELECT * FROM attachments WHERE application_id = :app AND deleted_at IS NULL ORDER BY created_at;
SELECT * FROM events WHERE subject_type = 'application' AND subject_id = :app ORDER BY id;
SELECT m.id, m.author_id, u.name, u.role, m.internal, m.body, m.created_at FROM messages m JOIN users u ON m.author_id = u.id WHERE m.application_id = :app AND m.internal = false ORDER BY m.id;
SELECT r.*, d.code, d.name_nb, d.name_en FROM releases r JOIN data_sources d ON d.id = r.data_source_id WHERE r.application_id = :app ORDER BY d.code;
SELECT * FROM decisions WHERE application_id = :app ORDER BY id DESC LIMIT 1;
SELECT * FROM organisations ORDER BY name;
SELECT * FROM estimates WHERE application_id = :app ORDER BY id;
SELECT * FROM price_lists WHERE state = 'published';
SELECT * FROM price_items WHERE price_list_id IN (SELECT id FROM price_lists WHERE state = 'published') ORDER BY price_list_id, id;
SELECT d.*, o.* FROM data_sources d JOIN organisations o ON o.id = d.owner_id ORDER BY d.code;
SELECT * FROM invoices WHERE application_id = :app ORDER BY id;
SELECT * FROM transfers WHERE application_id = :app ORDER BY id;
