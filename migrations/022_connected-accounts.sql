-- Up Migration

-- The public face of each connected account, from its `account.updated` events (Connect): the
-- seller its own invoices' receipts and invoice PDFs name, rather than the platform.
CREATE TABLE connected_accounts (
  id               text PRIMARY KEY,
  business_name    text,
  display_name     text,
  support_email    text,
  support_address  jsonb,
  country          text,
  account          text,
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL
);

-- Down Migration

DROP TABLE connected_accounts;
