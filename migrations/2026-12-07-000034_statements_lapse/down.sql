ALTER TABLE statements DROP COLUMN lapsed_at;
