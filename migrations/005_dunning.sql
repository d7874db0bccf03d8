-- Up Migration

-- Every failed payment attempt Stripe reported, once per event.
CREATE TABLE payment_failures (
  event_id              text PRIMARY KEY,
  invoice_id            text NOT NULL,
  attempt_count         integer,
  reason                text,
  next_payment_attempt  timestamptz,
  failed_at             timestamptz NOT NULL
);

CREATE INDEX payment_failures_invoice_idx ON payment_failures (invoice_id);

-- One dunning case per unpaid invoice, mirrored from its `dunning-<invoice id>` workflow.
CREATE TABLE dunning_cases (
  invoice_id          text PRIMARY KEY,
  customer_id         text,
  customer_email      text,
  subscription_id     text,
  amount              bigint NOT NULL,
  currency            text NOT NULL,
  hosted_invoice_url  text,
  status              text NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'recovered', 'voided', 'uncollectible', 'exhausted')),
  stage               text,
  next_step_at        timestamptz,
  started_at          timestamptz NOT NULL DEFAULT now(),
  ended_at            timestamptz
);

CREATE INDEX dunning_cases_customer_idx ON dunning_cases (customer_id);

-- Down Migration

DROP TABLE dunning_cases;
DROP TABLE payment_failures;
