-- Up Migration

-- Subscriptions as far as billing events have told us. `paid_through` only moves forward:
-- it is the end of the latest period a paid invoice covered.
CREATE TABLE subscriptions (
  id                    text PRIMARY KEY,
  customer_id           text,
  account               text,
  status                text,
  current_period_start  timestamptz,
  current_period_end    timestamptz,
  paid_through          timestamptz,
  source_created        timestamptz,
  source_event_id       text,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id);

-- Down Migration

DROP TABLE subscriptions;
