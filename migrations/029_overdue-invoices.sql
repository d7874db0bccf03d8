-- Up Migration

-- What put an invoice in dunning: a failed payment (`invoice.payment_failed`), or an invoice the
-- customer pays by themselves (`collection_method: send_invoice`) that went past its due date
-- (`invoice.overdue`). The second is chased with overdue notices and never charged by a retry.
ALTER TABLE dunning_cases ADD COLUMN opened_by text NOT NULL DEFAULT 'payment_failed'
  CHECK (opened_by IN ('payment_failed', 'overdue'));

-- Down Migration

ALTER TABLE dunning_cases DROP COLUMN opened_by;
