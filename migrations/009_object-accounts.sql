-- Up Migration

-- Connect: the connected account of the event that last changed each object.
ALTER TABLE payment_methods ADD COLUMN account text;
ALTER TABLE setup_intents ADD COLUMN account text;
ALTER TABLE payment_intents ADD COLUMN account text;
ALTER TABLE charges ADD COLUMN account text;
ALTER TABLE invoices ADD COLUMN account text;

-- Down Migration

ALTER TABLE invoices DROP COLUMN account;
ALTER TABLE charges DROP COLUMN account;
ALTER TABLE payment_intents DROP COLUMN account;
ALTER TABLE setup_intents DROP COLUMN account;
ALTER TABLE payment_methods DROP COLUMN account;
