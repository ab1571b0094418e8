-- A self-registered address must be confirmed (a link mailed to it) before the account is
-- trusted with it: project membership is granted by e-mail address, so an unconfirmed address
-- would let anyone who registers a colleague's address read that colleague's applications.
-- Accounts made by an admin, and those that exist already, count as confirmed.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN verify_token_hash TEXT UNIQUE;
ALTER TABLE users ADD COLUMN verify_expires_at TIMESTAMPTZ;
UPDATE users SET email_verified_at = created_at;
