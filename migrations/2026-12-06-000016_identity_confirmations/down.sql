DROP TABLE identity_confirmations;
