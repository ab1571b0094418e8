DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE time_records;
DROP TABLE estimates;
DROP TABLE price_items;
DROP TABLE price_lists;
DROP FUNCTION refuse_published_price_item_change();
DROP FUNCTION refuse_published_price_list_change();
