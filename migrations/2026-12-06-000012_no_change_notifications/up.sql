-- The page cache is gone (issue 19): drop the change notifications that ended cached pages.
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT event_object_table FROM information_schema.triggers
             WHERE action_statement = 'EXECUTE FUNCTION hds_notify_change()' GROUP BY 1 LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_notify_row', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_notify_truncate', t);
    END LOOP;
END;
$$;
DROP FUNCTION hds_notify_change();
