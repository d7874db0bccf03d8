-- Up Migration

-- Stripe's side of the money: the fee Stripe kept, the conversion of a charge presented in one
-- currency and settled in another, and payouts from the Stripe balance to the bank.
-- `fx_conversion` is a currency trading account: a conversion balances in each currency through
-- it, so what it holds per currency is what was converted.
ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments', 'stripe_fees', 'fx_conversion',
  'payouts_in_transit', 'bank'));

-- The balance transactions booked, as Stripe reported them: the close report compares them with
-- Stripe's own list for the month.
CREATE TABLE balance_transactions (
  id             text PRIMARY KEY,
  source_id      text NOT NULL,
  type           text NOT NULL,
  account        text,
  currency       text NOT NULL,
  amount         bigint NOT NULL,
  fee            bigint NOT NULL,
  net            bigint NOT NULL,
  exchange_rate  numeric,
  created        timestamptz NOT NULL,
  booked_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX balance_transactions_created_idx ON balance_transactions (created);

-- Money whose balance transaction is not booked yet: without STRIPE_SECRET_KEY an event names it
-- only by id, and its fee is booked when a payload carrying it arrives.
CREATE TABLE balance_transaction_waits (
  source_id               text PRIMARY KEY,
  balance_transaction_id  text NOT NULL,
  account                 text,
  currency                text NOT NULL,
  amount                  bigint NOT NULL,
  since                   timestamptz NOT NULL
);

-- The furthest status each payout reached, whichever event reported it: a payout that failed
-- before anything was booked for it must not be booked as paid by a late `payout.paid`.
CREATE TABLE payout_stages (
  payout_id  text PRIMARY KEY,
  status     text NOT NULL,
  rank       int NOT NULL
);

-- Down Migration

DROP TABLE payout_stages;
DROP TABLE balance_transaction_waits;
DROP TABLE balance_transactions;
ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments'));
