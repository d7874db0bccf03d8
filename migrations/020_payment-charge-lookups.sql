-- Up Migration

-- Every charge, refund and dispute event looks up the invoice payment its charge made, by the
-- charge or its payment intent; without these indexes each lookup read the whole table.
CREATE INDEX payments_charge_idx ON payments (charge_id);
CREATE INDEX payments_payment_intent_idx ON payments (payment_intent_id);
-- An invoice paid in parts lists each part's charge and payment intent in its `payments`
-- (newer API versions); a part other than the one in `charge_id` is found through this.
CREATE INDEX payments_invoice_parts_idx ON payments USING gin ((invoice -> 'payments' -> 'data') jsonb_path_ops);

-- Down Migration

DROP INDEX payments_invoice_parts_idx;
DROP INDEX payments_payment_intent_idx;
DROP INDEX payments_charge_idx;
