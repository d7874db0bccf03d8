-- Up Migration

-- A credit note's own document (`CN-2026-000001`), numbered gap-free in a series of its own, as
-- receipts and invoices are. A document is a payment's or a credit note's, never both. The
-- checks are added unvalidated and validated after, so that writes to `documents` go on while
-- existing rows are checked.
ALTER TABLE documents ALTER COLUMN payment_id DROP NOT NULL;
ALTER TABLE documents ADD COLUMN credit_note_id text;
ALTER TABLE documents ADD COLUMN source_event_id text;
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check CHECK (kind IN ('receipt', 'invoice', 'credit_note')) NOT VALID;
ALTER TABLE documents ADD CONSTRAINT documents_of_payment_or_credit_note CHECK ((payment_id IS NULL) <> (credit_note_id IS NULL)) NOT VALID;
ALTER TABLE documents VALIDATE CONSTRAINT documents_kind_check;
ALTER TABLE documents VALIDATE CONSTRAINT documents_of_payment_or_credit_note;
-- Partial, as the others: a payment's documents (nearly all rows) add nothing to these indexes.
CREATE UNIQUE INDEX documents_credit_note_id_key ON documents (credit_note_id) WHERE credit_note_id IS NOT NULL;
-- The day's credit notes, for the finance digest.
CREATE INDEX documents_credit_notes_created_at_idx ON documents (created_at) WHERE kind = 'credit_note';
-- An event's own documents, for its effects (the admin API).
CREATE INDEX documents_source_event_id_idx ON documents (source_event_id) WHERE source_event_id IS NOT NULL;

-- Down Migration

DELETE FROM documents WHERE credit_note_id IS NOT NULL;
DELETE FROM document_counters WHERE kind = 'credit_note';
DROP INDEX documents_source_event_id_idx;
DROP INDEX documents_credit_notes_created_at_idx;
DROP INDEX documents_credit_note_id_key;
ALTER TABLE documents DROP CONSTRAINT documents_of_payment_or_credit_note;
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check CHECK (kind IN ('receipt', 'invoice'));
ALTER TABLE documents DROP COLUMN source_event_id;
ALTER TABLE documents DROP COLUMN credit_note_id;
ALTER TABLE documents ALTER COLUMN payment_id SET NOT NULL;
