CREATE OR REPLACE FUNCTION statistics_applications_changed() RETURNS trigger
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
DROP FUNCTION case_count(applications, BIGINT);
DROP TABLE case_counts;
DROP INDEX applications_open;
