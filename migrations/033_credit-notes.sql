-- Up Migration

-- The credit notes of invoices, as much of them as the tax share of a refund needs: a note's
-- refund part takes the note's own tax (an invoice's lines can have different tax rates), and
-- a refund outside the notes takes the tax of what the notes left of the invoice. A note's
-- amounts never change once issued; voiding only ends it.
CREATE TABLE credit_notes (
  id text PRIMARY KEY,
  invoice_id text NOT NULL,
  currency text NOT NULL,
  amount bigint NOT NULL CHECK (amount >= 0),
  tax bigint NOT NULL CHECK (tax >= 0),
  refunded bigint NOT NULL CHECK (refunded >= 0),
  voided boolean NOT NULL DEFAULT false
);
CREATE INDEX credit_notes_invoice_id ON credit_notes (invoice_id);

-- Down Migration

DROP TABLE credit_notes;
