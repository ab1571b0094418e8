-- The public statistics (SPEC §11, issue 25) kept as the rows change instead of counted on each
-- view: triggers update a monthly rollup and a table of handling times in the same transaction
-- as the change they count, so the figures are never older than the last commit and a view reads
-- a few hundred rows whatever the number of applications.

-- The first day of the calendar month of `at` in Norwegian time.
CREATE FUNCTION statistics_month(at TIMESTAMPTZ) RETURNS DATE
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN date_trunc('month', at AT TIME ZONE 'Europe/Oslo')::date;

-- Counts per measure and month. `slot` spreads each count over sixteen rows (by the writing
-- connection) so that concurrent submissions do not queue behind one row lock; a reader sums
-- the slots.
CREATE TABLE statistics_months (
    measure TEXT NOT NULL CHECK (measure IN
        ('received', 'decided', 'delivered', 'transfers', 'assessed', 'complete_first_time')),
    month DATE NOT NULL,
    slot SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (measure, month, slot)
);

-- Handling time of every delivered case (data_source_id NULL) and of every delivered release
-- (per source): from the complete submission to delivery, in days.
CREATE TABLE statistics_handling (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    release_id BIGINT REFERENCES releases (id) ON DELETE CASCADE,
    data_source_id BIGINT REFERENCES data_sources (id) ON DELETE CASCADE,
    delivered_at TIMESTAMPTZ NOT NULL,
    days DOUBLE PRECISION NOT NULL
);
CREATE INDEX statistics_handling_window ON statistics_handling (delivered_at) INCLUDE (data_source_id, days);
CREATE INDEX statistics_handling_case ON statistics_handling (application_id);

-- Adds `n` to `measure` in the month of `at` (nothing when `at` is NULL).
CREATE FUNCTION statistics_count(p_measure TEXT, p_at TIMESTAMPTZ, p_n BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_at IS NULL OR p_n = 0 THEN
        RETURN;
    END IF;
    INSERT INTO statistics_months AS s (measure, month, slot, n)
    VALUES (p_measure, statistics_month(p_at), pg_backend_pid() % 16, p_n)
    ON CONFLICT (measure, month, slot) DO UPDATE SET n = s.n + EXCLUDED.n;
END $$;

-- What one application adds to the monthly counts (`sign` 1) or takes back (-1), given whether
-- it was ever returned to the applicant: received and delivered in their months; and in the
-- month of its first submission, whether it was assessed (completed or returned) and whether it
-- was complete at the first submission (completed, never returned).
CREATE FUNCTION statistics_application(a applications, returned BOOLEAN, sign BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM statistics_count('received', a.first_submitted_at, sign);
    PERFORM statistics_count('delivered', a.delivered_at, sign);
    IF a.completed_at IS NOT NULL OR returned THEN
        PERFORM statistics_count('assessed', a.first_submitted_at, sign);
    END IF;
    IF a.completed_at IS NOT NULL AND NOT returned THEN
        PERFORM statistics_count('complete_first_time', a.first_submitted_at, sign);
    END IF;
END $$;

CREATE FUNCTION statistics_returned(application BIGINT) RETURNS BOOLEAN
    LANGUAGE sql STABLE
    RETURN EXISTS (SELECT 1 FROM events e WHERE e.subject_id = application
                   AND e.kind = 'application.returned' AND e.subject_type = 'application');

-- Rewrites the handling times of one application from its row and its releases.
CREATE FUNCTION statistics_handling_of(application BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM statistics_handling WHERE application_id = application;
    INSERT INTO statistics_handling (application_id, release_id, data_source_id, delivered_at, days)
    SELECT a.id, NULL, NULL, a.delivered_at,
           (extract(epoch FROM a.delivered_at - a.complete_submitted_at) / 86400.0)::double precision
    FROM applications a
    WHERE a.id = application AND a.delivered_at IS NOT NULL AND a.complete_submitted_at IS NOT NULL
    UNION ALL
    SELECT a.id, r.id, r.data_source_id, r.delivered_at,
           (extract(epoch FROM r.delivered_at - a.complete_submitted_at) / 86400.0)::double precision
    FROM applications a JOIN releases r ON r.application_id = a.id
    WHERE a.id = application AND r.delivered_at IS NOT NULL AND a.complete_submitted_at IS NOT NULL;
END $$;

CREATE FUNCTION statistics_applications_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    returned BOOLEAN;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.first_submitted_at IS NOT DISTINCT FROM NEW.first_submitted_at
           AND OLD.completed_at IS NOT DISTINCT FROM NEW.completed_at
           AND OLD.delivered_at IS NOT DISTINCT FROM NEW.delivered_at
           AND OLD.complete_submitted_at IS NOT DISTINCT FROM NEW.complete_submitted_at THEN
            RETURN NULL;
        END IF;
        returned := statistics_returned(NEW.id);
        PERFORM statistics_application(OLD, returned, -1);
        PERFORM statistics_application(NEW, returned, 1);
        IF OLD.delivered_at IS DISTINCT FROM NEW.delivered_at
           OR OLD.complete_submitted_at IS DISTINCT FROM NEW.complete_submitted_at THEN
            PERFORM statistics_handling_of(NEW.id);
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM statistics_application(NEW, statistics_returned(NEW.id), 1);
        IF NEW.delivered_at IS NOT NULL THEN
            PERFORM statistics_handling_of(NEW.id);
        END IF;
    ELSE
        PERFORM statistics_application(OLD, statistics_returned(OLD.id), -1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_statistics AFTER INSERT OR UPDATE OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION statistics_applications_changed();

-- The first return of an application moves it between "complete at first submission" and not.
CREATE FUNCTION statistics_application_returned() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    a applications;
BEGIN
    IF EXISTS (SELECT 1 FROM events e WHERE e.subject_id = NEW.subject_id AND e.id <> NEW.id
               AND e.kind = 'application.returned' AND e.subject_type = 'application') THEN
        RETURN NULL;
    END IF;
    SELECT * INTO a FROM applications WHERE id = NEW.subject_id;
    IF FOUND THEN
        PERFORM statistics_application(a, false, -1);
        PERFORM statistics_application(a, true, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER events_statistics AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.kind = 'application.returned' AND NEW.subject_type = 'application')
    EXECUTE FUNCTION statistics_application_returned();

-- An application counts as decided in the month of its first decision. Decisions are only ever
-- added (never changed or removed), so an insert is all there is to follow.
CREATE FUNCTION statistics_decision_added() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    earlier TIMESTAMPTZ;
BEGIN
    SELECT min(decided_at) INTO earlier FROM decisions
    WHERE application_id = NEW.application_id AND id <> NEW.id;
    IF earlier IS NULL THEN
        PERFORM statistics_count('decided', NEW.decided_at, 1);
    ELSIF NEW.decided_at < earlier THEN
        PERFORM statistics_count('decided', earlier, -1);
        PERFORM statistics_count('decided', NEW.decided_at, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER decisions_statistics AFTER INSERT ON decisions
    FOR EACH ROW EXECUTE FUNCTION statistics_decision_added();
CREATE FUNCTION statistics_decisions_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.decided_at IS DISTINCT FROM NEW.decided_at
       OR OLD.application_id <> NEW.application_id THEN
        RAISE EXCEPTION 'a decision''s time and case are kept as they were made';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER decisions_kept BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION statistics_decisions_are_kept();

CREATE FUNCTION statistics_transfers_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM statistics_count('transfers', OLD.published_at, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM statistics_count('transfers', NEW.published_at, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER transfers_statistics_changed AFTER UPDATE OF published_at ON transfers
    FOR EACH ROW WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION statistics_transfers_changed();
CREATE TRIGGER transfers_statistics AFTER INSERT OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION statistics_transfers_changed();

CREATE FUNCTION statistics_releases_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM statistics_handling_of(coalesce(NEW.application_id, OLD.application_id));
    RETURN NULL;
END $$;
CREATE TRIGGER releases_statistics_changed AFTER UPDATE OF delivered_at ON releases
    FOR EACH ROW WHEN (OLD.delivered_at IS DISTINCT FROM NEW.delivered_at)
    EXECUTE FUNCTION statistics_releases_changed();
CREATE TRIGGER releases_statistics AFTER INSERT ON releases
    FOR EACH ROW WHEN (NEW.delivered_at IS NOT NULL)
    EXECUTE FUNCTION statistics_releases_changed();

-- What is there already.
INSERT INTO statistics_months (measure, month, slot, n)
SELECT measure, month, 0, count(*) FROM (
    SELECT 'received' AS measure, statistics_month(first_submitted_at) AS month
    FROM applications WHERE first_submitted_at IS NOT NULL
    UNION ALL
    SELECT 'delivered', statistics_month(delivered_at) FROM applications WHERE delivered_at IS NOT NULL
    UNION ALL
    SELECT 'decided', statistics_month(min(decided_at)) FROM decisions GROUP BY application_id
    UNION ALL
    SELECT 'transfers', statistics_month(published_at) FROM transfers WHERE published_at IS NOT NULL
    UNION ALL
    SELECT 'assessed', statistics_month(first_submitted_at) FROM applications a
    WHERE first_submitted_at IS NOT NULL AND (completed_at IS NOT NULL OR statistics_returned(a.id))
    UNION ALL
    SELECT 'complete_first_time', statistics_month(first_submitted_at) FROM applications a
    WHERE first_submitted_at IS NOT NULL AND completed_at IS NOT NULL AND NOT statistics_returned(a.id)
) counted GROUP BY measure, month;
SELECT statistics_handling_of(id) FROM applications WHERE delivered_at IS NOT NULL;
