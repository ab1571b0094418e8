DROP TABLE reregistrations;
