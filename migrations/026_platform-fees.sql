-- Up Migration

-- Connect: the application fee a connected account pays its platform on a charge is part of the
-- charge's balance transaction fee (`fee_details` of type `application_fee`); in the account's
-- books it is its own expense, apart from what Stripe kept.
ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments', 'stripe_fees', 'fx_conversion',
  'payouts_in_transit', 'bank', 'application_fees', 'connected_account_transfers', 'platform_fees'));

-- Down Migration

ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments', 'stripe_fees', 'fx_conversion',
  'payouts_in_transit', 'bank', 'application_fees', 'connected_account_transfers'));
