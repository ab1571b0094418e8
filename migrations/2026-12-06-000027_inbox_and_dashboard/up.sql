-- The inbox and the dashboard at national scale (issue 25; 100 000 applications).

-- The dashboard's open cases per officer (with those past their due date) and by age are read
-- from this index alone (index-only scans over the open cases) instead of the whole table, whose
-- rows carry each application's form.
CREATE INDEX applications_open ON applications (assignee_id, due_date) INCLUDE (first_submitted_at)
    WHERE state IN ('submitted', 'returned', 'in_review', 'appealed');

-- The inbox's count of submitted cases per state (and so its total when no other filter is
-- set), kept in the same transaction as each change, spread over sixteen slots like the
-- statistics (migration `statistics_rollup`).
CREATE TABLE case_counts (
    state TEXT NOT NULL,
    slot SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, slot)
);

-- What one application adds to the inbox's counts (`sign` 1) or takes back (-1).
CREATE FUNCTION case_count(a applications, sign BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF a.first_submitted_at IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO case_counts AS c (state, slot, n) VALUES (a.state, pg_backend_pid() % 16, sign)
    ON CONFLICT (state, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
END $$;

CREATE FUNCTION case_counts_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM case_count(OLD, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM case_count(NEW, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_case_counts_changed AFTER UPDATE OF state, first_submitted_at ON applications
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
                       OR OLD.first_submitted_at IS DISTINCT FROM NEW.first_submitted_at)
    EXECUTE FUNCTION case_counts_changed();
CREATE TRIGGER applications_case_counts AFTER INSERT OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION case_counts_changed();

INSERT INTO case_counts (state, slot, n)
SELECT state, 0, count(*) FROM applications WHERE first_submitted_at IS NOT NULL GROUP BY state;
