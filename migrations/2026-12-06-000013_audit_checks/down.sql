DROP TABLE audit_checks;
