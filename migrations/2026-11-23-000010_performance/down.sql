DROP INDEX estimates_application;
DROP INDEX applications_inbox_assignee;
DROP INDEX applications_inbox_state;
DROP INDEX applications_inbox;
