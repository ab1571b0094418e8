ALTER TABLE users DROP COLUMN verify_expires_at;
ALTER TABLE users DROP COLUMN verify_token_hash;
ALTER TABLE users DROP COLUMN email_verified_at;
