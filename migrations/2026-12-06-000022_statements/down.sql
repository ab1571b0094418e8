DROP TABLE statements;
DELETE FROM users WHERE role = 'reviewer';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('applicant', 'case_officer', 'register_owner', 'admin'));
