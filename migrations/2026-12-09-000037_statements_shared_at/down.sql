ALTER TABLE statements DROP COLUMN shared_at;
