-- Up Migration

-- The invoice payments Stripe announces (`invoice_payment.paid`): which payment intent or charge
-- paid (a part of) which invoice. Newer API versions name neither on the invoice's payload nor
-- the invoice on the charge; without a key this is how a charge, its refunds and its disputes
-- find their invoice.
CREATE TABLE invoice_payments (
  id                text PRIMARY KEY,
  invoice_id        text NOT NULL,
  payment_intent_id text,
  charge_id         text,
  object            jsonb NOT NULL
);
CREATE INDEX invoice_payments_invoice_id_idx ON invoice_payments (invoice_id);
CREATE INDEX invoice_payments_payment_intent_id_idx ON invoice_payments (payment_intent_id);
CREATE INDEX invoice_payments_charge_id_idx ON invoice_payments (charge_id);

-- Down Migration

DROP TABLE invoice_payments;
