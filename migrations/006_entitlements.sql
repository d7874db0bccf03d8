-- Up Migration

ALTER TABLE subscriptions
  ADD COLUMN price_id text,
  ADD COLUMN tier text,
  ADD COLUMN cancel_at_period_end boolean NOT NULL DEFAULT false,
  ADD COLUMN trial_end timestamptz,
  -- Set when dunning ran out without payment; access stays off until the invoice is paid.
  ADD COLUMN access_revoked_at timestamptz;

-- What each customer may use now. A row per (subscription, entitlement); `active` is derived
-- from the subscription's status, tier and dunning state every time one of them changes.
CREATE TABLE entitlements (
  subscription_id  text NOT NULL,
  customer_id      text NOT NULL,
  entitlement      text NOT NULL,
  active           boolean NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription_id, entitlement)
);

CREATE INDEX entitlements_customer_idx ON entitlements (customer_id);

-- Plan changes (upgrade, downgrade: tiers) and status changes, newest last.
CREATE TABLE subscription_audit (
  id               bigserial PRIMARY KEY,
  subscription_id  text NOT NULL,
  event_id         text NOT NULL,
  change           text NOT NULL,
  from_value       text,
  to_value         text,
  at               timestamptz NOT NULL,
  UNIQUE (event_id, change)
);

-- Down Migration

DROP TABLE subscription_audit;
DROP TABLE entitlements;
ALTER TABLE subscriptions DROP COLUMN access_revoked_at, DROP COLUMN trial_end, DROP COLUMN cancel_at_period_end,
  DROP COLUMN tier, DROP COLUMN price_id;
