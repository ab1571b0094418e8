DROP TRIGGER applications_case_counts ON applications;
DROP TRIGGER applications_case_counts_changed ON applications;
DROP FUNCTION case_counts_changed();
DROP FUNCTION case_count(applications, BIGINT);
DROP TABLE case_counts;
DROP INDEX applications_open;
