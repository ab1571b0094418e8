ALTER TABLE invoices DROP COLUMN recipient_city, DROP COLUMN recipient_postal_code, DROP COLUMN recipient_address;
ALTER TABLE organisations DROP COLUMN bank_account, DROP COLUMN city, DROP COLUMN postal_code, DROP COLUMN postal_address;
