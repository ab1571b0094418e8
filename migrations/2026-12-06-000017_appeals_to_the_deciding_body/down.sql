DROP TABLE helseklage_outcomes;
ALTER TABLE releases DROP COLUMN dispensation;
ALTER TABLE releases DROP COLUMN reconsidered_at;
ALTER TABLE releases DROP COLUMN reconsidered_by;
ALTER TABLE releases DROP COLUMN reconsideration;
