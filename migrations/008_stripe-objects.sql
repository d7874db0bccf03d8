-- Up Migration

-- Stripe objects as their latest event described them (see src/stripe-objects.ts): the
-- `source_*` columns hold the event that last changed a row, and an older one never wins.
CREATE TABLE payment_methods (
  id               text PRIMARY KEY,
  customer_id      text,
  type             text,
  brand            text,
  last4            text,
  exp_month        integer,
  exp_year         integer,
  detached         boolean NOT NULL DEFAULT false,
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL
);

CREATE TABLE setup_intents (
  id               text PRIMARY KEY,
  customer_id      text,
  payment_method   text,
  status           text,
  last_error       text,
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL
);

CREATE TABLE payment_intents (
  id               text PRIMARY KEY,
  customer_id      text,
  amount           bigint,
  currency         text,
  status           text,
  last_error       text,
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL
);

CREATE TABLE charges (
  id                 text PRIMARY KEY,
  customer_id        text,
  payment_intent_id  text,
  amount             bigint,
  amount_refunded    bigint,
  currency           text,
  status             text,
  failure_message    text,
  source_created     timestamptz NOT NULL,
  source_event_id    text NOT NULL
);

CREATE TABLE invoices (
  id               text PRIMARY KEY,
  customer_id      text,
  number           text,
  status           text,
  total            bigint,
  currency         text,
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL
);

ALTER TABLE customers ADD COLUMN default_payment_method text;

-- Down Migration

ALTER TABLE customers DROP COLUMN default_payment_method;
DROP TABLE invoices;
DROP TABLE charges;
DROP TABLE payment_intents;
DROP TABLE setup_intents;
DROP TABLE payment_methods;
