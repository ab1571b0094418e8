DROP TABLE enquiry_messages;
DROP TABLE enquiry_sources;
DROP TABLE enquiries;
