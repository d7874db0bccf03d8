-- Up Migration

-- The charges of a payment intent: a part of an invoice paid in parts is listed by its payment
-- intent alone, and the invoice's books and refunds' tax find its charge through it.
CREATE INDEX charges_payment_intent_id_idx ON charges (payment_intent_id);

-- Down Migration

DROP INDEX charges_payment_intent_id_idx;
