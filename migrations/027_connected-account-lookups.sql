-- Up Migration

-- With a Stripe key, an account no `account.updated` event has described (one connected before
-- this service listened) is looked up once from Stripe's API: its row has no event behind it.
ALTER TABLE connected_accounts ALTER COLUMN source_event_id DROP NOT NULL;

-- Down Migration

DELETE FROM connected_accounts WHERE source_event_id IS NULL;
ALTER TABLE connected_accounts ALTER COLUMN source_event_id SET NOT NULL;
