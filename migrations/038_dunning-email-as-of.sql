-- Up Migration

-- The moment a dunning case's address was taken (its invoice's finalization, where the invoice's
-- copy of the customer's email comes from), so that an email the customer gave in a later
-- customer event reaches them instead. Cases opened before keep `started_at` as that moment.
-- A nullable column without a default: no rewrite of the table.
ALTER TABLE dunning_cases ADD COLUMN email_as_of timestamptz;

-- Down Migration

ALTER TABLE dunning_cases DROP COLUMN email_as_of;
