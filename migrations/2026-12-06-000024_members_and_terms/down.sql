DROP TABLE terms_acceptances;
DROP TRIGGER data_sources_standard_terms ON data_sources;
DROP FUNCTION standard_terms_for_new_source();
DROP FUNCTION standard_terms(BIGINT);
DROP TABLE source_terms;
DROP TABLE member_invitations;
