DROP INDEX decisions_published;
