-- Up Migration

-- What was put on (or taken off) a customer's credit balance by hand, in the Dashboard or by the
-- API (customer balance transactions of type adjustment, initial or migration): a credit granted
-- is a concession (a debit here), a debt added is income. Without it `customer_balance` could
-- not net to Stripe's `customer.balance` once such a credit was spent on an invoice.
ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments', 'stripe_fees', 'fx_conversion',
  'payouts_in_transit', 'bank', 'application_fees', 'connected_account_transfers', 'platform_fees',
  'customer_balance_adjustments'));

-- Down Migration

ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments', 'stripe_fees', 'fx_conversion',
  'payouts_in_transit', 'bank', 'application_fees', 'connected_account_transfers', 'platform_fees'));
