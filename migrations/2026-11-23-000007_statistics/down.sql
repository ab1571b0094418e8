DROP INDEX transfers_published;
DROP INDEX releases_delivered;
DROP INDEX events_returned;
DROP INDEX decisions_decided;
DROP INDEX applications_delivered;
DROP INDEX applications_first_submitted;
