DROP TABLE transfer_receipts;
DROP TABLE transfer_files;
DROP TABLE transfers;
