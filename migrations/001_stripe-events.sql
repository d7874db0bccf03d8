-- Up Migration

-- One row per Stripe event id, ever: the primary key is the lasting deduplication,
-- still in force after Temporal has forgotten a closed workflow run.
CREATE TABLE stripe_events (
  id              text PRIMARY KEY CHECK (id LIKE 'evt\_%'),
  type            text NOT NULL,
  api_version     text,
  livemode        boolean NOT NULL,
  account         text,
  created         timestamptz NOT NULL,
  customer_id     text,
  invoice_id      text,
  subscription_id text,
  -- NULL once `cleanup` dropped it; everything derived from it stays.
  payload         jsonb,
  status          text NOT NULL DEFAULT 'received'
                  CHECK (status IN ('received', 'processing', 'processed', 'failed', 'ignored')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  workflow_id     text,
  run_id          text,
  received_at     timestamptz NOT NULL DEFAULT now(),
  -- Set once the workflow is known to exist; NULL means Stripe has not been answered 2xx yet.
  accepted_at     timestamptz,
  processed_at    timestamptz
);

CREATE INDEX stripe_events_status_idx ON stripe_events (status, received_at);
CREATE INDEX stripe_events_type_idx ON stripe_events (type, received_at);
CREATE INDEX stripe_events_customer_idx ON stripe_events (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX stripe_events_invoice_idx ON stripe_events (invoice_id) WHERE invoice_id IS NOT NULL;

-- Every request that carried a Stripe-Signature header, accepted or not. Never the body.
CREATE TABLE webhook_deliveries (
  id           bigserial PRIMARY KEY,
  received_at  timestamptz NOT NULL DEFAULT now(),
  remote_addr  text,
  http_status  integer NOT NULL,
  outcome      text NOT NULL,
  event_id     text
);

CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at);

-- Down Migration

DROP TABLE webhook_deliveries;
DROP TABLE stripe_events;
