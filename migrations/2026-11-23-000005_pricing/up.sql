-- User payment (brukerbetaling, SPEC §8): versioned price lists per organisation, revised
-- estimates the applicant accepts, time records, and invoices (one part per organisation of
-- the combined bill). Every amount is an integer number of øre.

CREATE TABLE price_lists (
    id              BIGSERIAL PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    valid_from      DATE NOT NULL,
    state           TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published')),
    note_nb         TEXT NOT NULL DEFAULT '' CHECK (length(note_nb) <= 2000),
    note_en         TEXT NOT NULL DEFAULT '' CHECK (length(note_en) <= 2000),
    created_by      BIGINT REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_by    BIGINT REFERENCES users (id),
    published_at    TIMESTAMPTZ,
    version         INTEGER NOT NULL DEFAULT 1,
    CHECK ((state = 'published') = (published_at IS NOT NULL))
);
CREATE INDEX price_lists_in_force ON price_lists (organisation_id, valid_from) WHERE state = 'published';

CREATE TABLE price_items (
    id                     BIGSERIAL PRIMARY KEY,
    price_list_id          BIGINT NOT NULL REFERENCES price_lists (id) ON DELETE CASCADE,
    code                   TEXT NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    description_nb         TEXT NOT NULL CHECK (length(description_nb) BETWEEN 1 AND 300),
    description_en         TEXT NOT NULL CHECK (length(description_en) BETWEEN 1 AND 300),
    unit                   TEXT NOT NULL CHECK (unit IN ('per_application_one_source', 'per_application_several_sources', 'per_started_hour', 'per_delivery')),
    amount_ore             BIGINT NOT NULL CHECK (amount_ore >= 0),
    minimum_quantity       INTEGER NOT NULL DEFAULT 0 CHECK (minimum_quantity >= 0),
    exempt_kinds           TEXT[] NOT NULL DEFAULT '{}',
    data_source_code       TEXT,
    requires_hds_authority BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (price_list_id, code)
);

-- A published version is never changed (a new version replaces it): enforced here as well as
-- in the services, so no code path can slip past it.
CREATE FUNCTION refuse_published_price_list_change() RETURNS trigger AS $$
BEGIN
    IF OLD.state = 'published' THEN
        RAISE EXCEPTION 'price list version % is published and cannot be changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER price_lists_frozen BEFORE UPDATE OR DELETE ON price_lists
    FOR EACH ROW EXECUTE FUNCTION refuse_published_price_list_change();

CREATE FUNCTION refuse_published_price_item_change() RETURNS trigger AS $$
DECLARE
    frozen BOOLEAN;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT state = 'published' INTO frozen FROM price_lists WHERE id = OLD.price_list_id;
        IF frozen THEN
            RAISE EXCEPTION 'items of a published price list version cannot be changed'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT state = 'published' INTO frozen FROM price_lists WHERE id = NEW.price_list_id;
        IF frozen THEN
            RAISE EXCEPTION 'items of a published price list version cannot be changed'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER price_items_frozen BEFORE INSERT OR UPDATE OR DELETE ON price_items
    FOR EACH ROW EXECUTE FUNCTION refuse_published_price_item_change();

-- A revised estimate from one organisation; while one is pending (neither accepted nor
-- superseded) the case waits for the applicant.
CREATE TABLE estimates (
    id              BIGSERIAL PRIMARY KEY,
    application_id  BIGINT NOT NULL REFERENCES applications (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    minutes         INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0),
    lines           JSONB NOT NULL,
    total_ore       BIGINT NOT NULL CHECK (total_ore >= 0),
    message         TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 4000),
    created_by      BIGINT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL,
    accepted_by     BIGINT REFERENCES users (id),
    accepted_at     TIMESTAMPTZ,
    superseded_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX estimates_one_pending ON estimates (application_id, organisation_id)
    WHERE accepted_at IS NULL AND superseded_at IS NULL;

CREATE TABLE time_records (
    id              BIGSERIAL PRIMARY KEY,
    application_id  BIGINT NOT NULL REFERENCES applications (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    user_id         BIGINT NOT NULL REFERENCES users (id),
    minutes         INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    note            TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    exempt          TEXT,
    recorded_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX time_records_application ON time_records (application_id, organisation_id);

-- One part of the combined bill per organisation and application, invoiceable on its own.
CREATE TABLE invoices (
    id                            BIGSERIAL PRIMARY KEY,
    application_id                BIGINT NOT NULL REFERENCES applications (id),
    organisation_id               BIGINT NOT NULL REFERENCES organisations (id),
    number                        TEXT NOT NULL UNIQUE,
    status                        TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued', 'paid', 'waived')),
    recipient_name                TEXT NOT NULL,
    recipient_organisation_number TEXT NOT NULL,
    recipient_reference           TEXT NOT NULL,
    net_ore                       BIGINT NOT NULL CHECK (net_ore >= 0),
    vat_rate_bp                   INTEGER NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
    vat_ore                       BIGINT NOT NULL CHECK (vat_ore >= 0),
    total_ore                     BIGINT NOT NULL,
    waived_reason                 TEXT,
    created_at                    TIMESTAMPTZ NOT NULL,
    issued_at                     TIMESTAMPTZ,
    paid_at                       TIMESTAMPTZ,
    waived_at                     TIMESTAMPTZ,
    version                       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (application_id, organisation_id),
    CHECK (total_ore = net_ore + vat_ore),
    CHECK ((status = 'waived') = (waived_reason IS NOT NULL))
);

CREATE TABLE invoice_lines (
    id             BIGSERIAL PRIMARY KEY,
    invoice_id     BIGINT NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    price_list_id  BIGINT REFERENCES price_lists (id),
    item_code      TEXT NOT NULL,
    description_nb TEXT NOT NULL,
    description_en TEXT NOT NULL,
    unit           TEXT NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity >= 0),
    unit_ore       BIGINT NOT NULL CHECK (unit_ore >= 0),
    amount_ore     BIGINT NOT NULL CHECK (amount_ore >= 0),
    exempt         TEXT,
    UNIQUE (invoice_id, position)
);
