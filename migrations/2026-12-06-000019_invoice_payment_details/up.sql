-- What an invoice needs to be paid and to pass PEPPOL BIS Billing 3.0: each organisation's postal
-- address and bank account (the seller's), and the invoice recipient's postal address (the
-- buyer's, from the form).
ALTER TABLE organisations
    ADD COLUMN postal_address TEXT NOT NULL DEFAULT '' CHECK (length(postal_address) <= 200),
    ADD COLUMN postal_code    TEXT NOT NULL DEFAULT '' CHECK (postal_code = '' OR postal_code ~ '^[0-9]{4}$'),
    ADD COLUMN city           TEXT NOT NULL DEFAULT '' CHECK (length(city) <= 100),
    ADD COLUMN bank_account   TEXT CHECK (bank_account ~ '^[0-9]{11}$');

ALTER TABLE invoices
    ADD COLUMN recipient_address     TEXT NOT NULL DEFAULT '',
    ADD COLUMN recipient_postal_code TEXT NOT NULL DEFAULT '',
    ADD COLUMN recipient_city        TEXT NOT NULL DEFAULT '';
