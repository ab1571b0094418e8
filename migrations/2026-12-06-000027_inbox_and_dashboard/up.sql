-- The inbox and the dashboard at national scale (issue 25; 100 000 applications).

-- The dashboard's open cases per officer (with those past their due date) and by age are read
-- from this index alone (index-only scans over the open cases) instead of the whole table, whose
-- rows carry each application's form.
CREATE INDEX applications_open ON applications (assignee_id, due_date) INCLUDE (first_submitted_at)
    WHERE state IN ('submitted', 'returned', 'in_review', 'appealed');

-- The inbox's count of submitted cases per state (and so its total when no other filter is
-- set), kept by the same trigger as the statistics, spread over sixteen slots like them.
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

CREATE OR REPLACE FUNCTION statistics_applications_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    returned BOOLEAN;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.state IS DISTINCT FROM NEW.state
           OR OLD.first_submitted_at IS DISTINCT FROM NEW.first_submitted_at THEN
            PERFORM case_count(OLD, -1);
            PERFORM case_count(NEW, 1);
        END IF;
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
        PERFORM case_count(NEW, 1);
        PERFORM statistics_application(NEW, statistics_returned(NEW.id), 1);
        IF NEW.delivered_at IS NOT NULL THEN
            PERFORM statistics_handling_of(NEW.id);
        END IF;
    ELSE
        PERFORM case_count(OLD, -1);
        PERFORM statistics_application(OLD, statistics_returned(OLD.id), -1);
    END IF;
    RETURN NULL;
END $$;

INSERT INTO case_counts (state, slot, n)
SELECT state, 0, count(*) FROM applications WHERE first_submitted_at IS NOT NULL GROUP BY state;
