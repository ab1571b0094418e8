DROP INDEX applications_inbox_open;
