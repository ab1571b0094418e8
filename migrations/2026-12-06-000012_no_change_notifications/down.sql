-- Change notifications for the page cache (src/web/page_cache.rs): every change to a row that a
-- cached page may show sends `NOTIFY hds_changes, '<table>'`. Each instance of the service
-- LISTENs and empties its cache on any notification, so a page served from memory is never older
-- than the last change the instance has heard of. PostgreSQL delivers a notification when its
-- transaction commits and sends one per table per transaction however many rows changed.
--
-- Row triggers, not statement triggers: a statement that changes nothing (a scheduled clean-up
-- that finds no expired session) must not empty the caches. TRUNCATE has only statement triggers.
--
-- Every table has the trigger except:
--   outbox          the mail and webhook queue: the workers update it all the time and no cached
--                   page shows it;
--   login_attempts  the login throttle: written on every login, shown nowhere.
-- New sessions do not notify either (no cached page can belong to a session that did not exist);
-- a session that ends (log-out, expiry, password change) does.
-- The test `page_cache::every_table_notifies` fails when a table is added without the trigger.

CREATE FUNCTION hds_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hds_changes', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'organisations', 'users', 'api_tokens', 'data_sources', 'variables', 'events',
        'applications', 'releases', 'decisions', 'application_members', 'application_sources',
        'reference_counters', 'attachments', 'messages', 'price_lists', 'price_items', 'estimates',
        'time_records', 'invoices', 'invoice_lines', 'transfers', 'transfer_files',
        'transfer_receipts', 'notifications', 'identities', 'webhook_endpoints'
    ] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION hds_notify_change()', t || '_notify_row', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION hds_notify_change()', t || '_notify_truncate', t);
    END LOOP;
END;
$$;

CREATE TRIGGER sessions_notify_row AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION hds_notify_change();
CREATE TRIGGER sessions_notify_truncate AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION hds_notify_change();
