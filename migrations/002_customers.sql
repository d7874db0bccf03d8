-- Up Migration

-- Customers as Stripe last described them. `source_created` and `source_event_id` are the
-- `created` time and id of the event that last changed the row: an older event never
-- overwrites newer state (Stripe does not deliver in order).
CREATE TABLE customers (
  id               text PRIMARY KEY CHECK (id LIKE 'cus\_%'),
  account          text,
  email            text,
  name             text,
  phone            text,
  address          jsonb,
  deleted          boolean NOT NULL DEFAULT false,
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE customers;
