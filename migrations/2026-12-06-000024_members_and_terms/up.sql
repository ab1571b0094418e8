-- Members who are invited and accept terms (issue 22 item 3). The members named on the form are
-- invited by mail when the application is submitted; accepting links (or makes) an account. Each
-- source has data-use terms (a confidentiality undertaking) kept with a version; before the
-- applicant or a member sees or downloads a source's released files, they accept its current
-- terms for the case.
CREATE TABLE member_invitations (
    application_id BIGINT NOT NULL REFERENCES applications (id),
    email          TEXT NOT NULL,
    token_hash     TEXT UNIQUE,
    expires_at     TIMESTAMPTZ,
    invited_at     TIMESTAMPTZ NOT NULL,
    accepted_at    TIMESTAMPTZ,
    user_id        BIGINT REFERENCES users (id),
    PRIMARY KEY (application_id, email),
    CONSTRAINT member_invitations_accepted_by CHECK ((accepted_at IS NULL) = (user_id IS NULL))
);

CREATE TABLE source_terms (
    id             BIGSERIAL PRIMARY KEY,
    data_source_id BIGINT NOT NULL REFERENCES data_sources (id),
    version        INT NOT NULL CHECK (version >= 1),
    text_nb        TEXT NOT NULL CHECK (length(text_nb) BETWEEN 1 AND 20000),
    text_en        TEXT NOT NULL CHECK (length(text_en) BETWEEN 1 AND 20000),
    published_at   TIMESTAMPTZ NOT NULL,
    published_by   BIGINT REFERENCES users (id),
    UNIQUE (data_source_id, version)
);

-- Every source starts with the standard confidentiality undertaking, version 1; a new source gets
-- it too (an admin or the source's owner publishes a new version later).
CREATE FUNCTION standard_terms(source BIGINT) RETURNS VOID LANGUAGE SQL AS $$
    INSERT INTO source_terms (data_source_id, version, text_nb, text_en, published_at)
    VALUES (source, 1,
        'Taushetserklæring: Jeg har taushetsplikt om opplysningene i dette datauttrekket etter helseregisterloven § 17 og forvaltningsloven § 13. Jeg skal bare bruke dataene til formålet i den godkjente søknaden, bare lagre og behandle dem på stedet søknaden oppgir, ikke forsøke å identifisere enkeltpersoner, ikke utlevere dataene til andre, og slette dem når prosjektet slutter. Brudd kan føre til at tilgangen trekkes tilbake og kan straffes.',
        'Confidentiality undertaking: I am bound by confidentiality about the information in this data extract under the Health Registries Act section 17 and the Public Administration Act section 13. I will use the data only for the purpose of the approved application, store and process them only where the application says, make no attempt to identify individuals, not disclose the data to others, and delete them when the project ends. A breach may lead to access being withdrawn and may be punished.',
        now());
$$;
SELECT standard_terms(id) FROM data_sources;
CREATE FUNCTION standard_terms_for_new_source() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM standard_terms(NEW.id);
    RETURN NEW;
END;
$$;
CREATE TRIGGER data_sources_standard_terms AFTER INSERT ON data_sources
    FOR EACH ROW EXECUTE FUNCTION standard_terms_for_new_source();

CREATE TABLE terms_acceptances (
    application_id BIGINT NOT NULL REFERENCES applications (id),
    user_id        BIGINT NOT NULL REFERENCES users (id),
    terms_id       BIGINT NOT NULL REFERENCES source_terms (id),
    accepted_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (application_id, user_id, terms_id)
);
