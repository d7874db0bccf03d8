-- Up Migration

-- A Connect platform's own money from its connected accounts' sales: the application fees they
-- pay it (income) and what it passes on to them by transfer (destination charges, separate
-- transfers), each less what went back (fee refunds, transfer reversals).
ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments', 'stripe_fees', 'fx_conversion',
  'payouts_in_transit', 'bank', 'application_fees', 'connected_account_transfers'));

-- Down Migration

ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments', 'stripe_fees', 'fx_conversion',
  'payouts_in_transit', 'bank'));
