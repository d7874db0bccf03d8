-- Up Migration

-- The connected account whose invoice a dunning case chases (Connect; null for the platform's
-- own): its payment retries, its last look at the invoice and its final action are Stripe calls
-- made as that account, where the invoice and the subscription live. Cases opened before this
-- have none and keep calling as the platform.
ALTER TABLE dunning_cases ADD COLUMN account text;

-- Down Migration

ALTER TABLE dunning_cases DROP COLUMN account;
