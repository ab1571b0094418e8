-- pgbench reference for the status page: each distinct statement the route runs (from
-- `--queries`), once. Variables from benches/load.rs: first, applicant_session.
\set id :first + 10 * random(0, 999)
SELECT u.*, (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) FROM sessions s JOIN users u ON s.user_id = u.id WHERE s.token_hash = :applicant_session AND s.expires_at > now() AND u.active LIMIT 1;
SELECT * FROM applications WHERE id = :id LIMIT 1;
SELECT * FROM events WHERE subject_type = 'application' AND subject_id = :id ORDER BY id;
SELECT m.id, m.author_id, u.name, u.role, m.internal, m.body, m.created_at FROM messages m JOIN users u ON m.author_id = u.id WHERE m.application_id = :id AND m.internal = false ORDER BY m.id;
SELECT * FROM attachments WHERE application_id = :id AND deleted_at IS NULL ORDER BY created_at;
SELECT * FROM price_lists WHERE state = 'published';
SELECT * FROM price_items WHERE price_list_id IN (SELECT id FROM price_lists WHERE state = 'published') ORDER BY price_list_id, id;
SELECT * FROM organisations ORDER BY name;
SELECT d.*, o.* FROM data_sources d JOIN organisations o ON o.id = d.owner_id ORDER BY d.code;
SELECT * FROM estimates WHERE application_id = :id ORDER BY id;
SELECT * FROM invoices WHERE application_id = :id ORDER BY id;
SELECT r.*, d.code, d.name_nb, d.name_en FROM releases r JOIN data_sources d ON d.id = r.data_source_id WHERE r.application_id = :id ORDER BY d.code;
SELECT * FROM decisions WHERE application_id = :id ORDER BY id DESC LIMIT 1;
SELECT * FROM transfers WHERE application_id = :id ORDER BY id;
