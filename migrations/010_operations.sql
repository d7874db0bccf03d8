-- Up Migration

-- Arrival order: a stable cursor for the admin event list.
ALTER TABLE stripe_events ADD COLUMN seq bigserial;
CREATE UNIQUE INDEX stripe_events_seq_idx ON stripe_events (seq);
CREATE INDEX stripe_events_processed_idx ON stripe_events (processed_at) WHERE processed_at IS NOT NULL;

-- How far reconcile has read Stripe's events API (Unix seconds of the newest event seen).
CREATE TABLE reconcile_checkpoints (
  name           text PRIMARY KEY,
  created_up_to  bigint NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE reconcile_checkpoints;
DROP INDEX stripe_events_processed_idx;
DROP INDEX stripe_events_seq_idx;
ALTER TABLE stripe_events DROP COLUMN seq;
