-- Up Migration

-- The parts an invoice was paid in (its `payments` list, newer API versions), kept beside the
-- invoice as a value of their own. Looking a charge up in the invoice itself made PostgreSQL
-- unpack every payment's whole invoice: it judged reading the table cheaper than the index up to
-- some thousands of payments (12 ms per lookup at 1,650, 29 ms at 3,900), and every charge,
-- refund and dispute event looks one up, the API too before it answers. The parts are a few
-- hundred bytes, kept in the row itself. Adding a stored column writes every payment again
-- under the table's lock: on a large table, deploy this in a quiet moment.
ALTER TABLE payments ADD COLUMN invoice_parts jsonb GENERATED ALWAYS AS (invoice -> 'payments' -> 'data') STORED;
CREATE INDEX payments_invoice_parts_column_idx ON payments USING gin (invoice_parts jsonb_path_ops);
DROP INDEX payments_invoice_parts_idx;

-- Down Migration

CREATE INDEX payments_invoice_parts_idx ON payments USING gin ((invoice -> 'payments' -> 'data') jsonb_path_ops);
DROP INDEX payments_invoice_parts_column_idx;
ALTER TABLE payments DROP COLUMN invoice_parts;
