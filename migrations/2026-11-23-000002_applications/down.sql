DROP TABLE messages;
DROP TABLE attachments;
DROP TABLE reference_counters;
DROP TABLE application_sources;
DROP TABLE application_members;
DROP TABLE applications;
