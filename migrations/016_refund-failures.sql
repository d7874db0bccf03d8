-- Up Migration

-- Refunds Stripe reported failed or canceled, whenever the report arrives: a refund event of an
-- earlier moment, delivered after the failure, must not book that refund again.
CREATE TABLE refund_failures (
  refund_id  text PRIMARY KEY,
  charge_id  text NOT NULL,
  amount     bigint NOT NULL CHECK (amount >= 0),
  failed_at  timestamptz NOT NULL
);

CREATE INDEX refund_failures_charge_idx ON refund_failures (charge_id);

-- Down Migration

DROP TABLE refund_failures;
