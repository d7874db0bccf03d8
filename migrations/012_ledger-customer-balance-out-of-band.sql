-- Invoices are not only paid through the Stripe balance: the customer's credit balance pays
-- (or takes) part of them, and some are paid outside Stripe. Each gets its own account, so the
-- receivable of a paid invoice closes and the Stripe balance holds only cash that passed through
-- Stripe. `customer_balance` nets to Stripe's customer balance (positive: the customer owes).
ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_account_check;
ALTER TABLE ledger_lines ADD CONSTRAINT ledger_lines_account_check CHECK (account IN (
  'accounts_receivable', 'revenue', 'tax_payable', 'stripe_balance', 'refunds', 'dispute_losses',
  'bad_debt', 'customer_balance', 'out_of_band_payments'));
