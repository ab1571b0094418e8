-- pgbench reference for the public catalogue: the two statements the route runs.
SELECT d.*, o.* FROM data_sources d JOIN organisations o ON o.id = d.owner_id ORDER BY d.code;
SELECT * FROM variables WHERE data_source_id IN (SELECT id FROM data_sources) ORDER BY data_source_id, name;
