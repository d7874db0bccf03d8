-- Up Migration

-- The connected account a platform's invoice is presented as (`on_behalf_of`, or `issuer` of
-- type account): the dunning emails about it are signed with that account's name, as Stripe's
-- own emails about it are. Its Stripe calls stay the platform's, where the invoice lives.
ALTER TABLE dunning_cases ADD COLUMN presented_as text;

-- Down Migration

ALTER TABLE dunning_cases DROP COLUMN presented_as;
