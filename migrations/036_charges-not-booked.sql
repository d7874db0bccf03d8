-- Up Migration

-- Captured charges the books could not place: a payload of a newer API version does not say
-- whether the charge pays an invoice (then the invoice's payment books it) or is a sale of its
-- own, and without a key Stripe cannot be asked. Listed for finance until something decides it:
-- an `invoice_payment.paid` naming it (it pays an invoice), or a later event of it with a key.
CREATE TABLE charges_not_booked (
  charge_id         text PRIMARY KEY,
  payment_intent_id text,
  account           text,
  currency          text NOT NULL,
  amount            bigint NOT NULL,
  since             timestamptz NOT NULL,
  source_event_id   text NOT NULL
);
CREATE INDEX charges_not_booked_payment_intent_id_idx ON charges_not_booked (payment_intent_id);

-- Down Migration

DROP TABLE charges_not_booked;
