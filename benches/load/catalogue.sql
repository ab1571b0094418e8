-- pgbench reference for the public catalogue: the statement the route runs (the list shows no
-- variables; each source's own page does).
SELECT d.*, o.* FROM data_sources d JOIN organisations o ON o.id = d.owner_id ORDER BY d.code;
