-- Up Migration

-- Connect: each connected account is a business of its own, with its own books and its own
-- gap-free document numbers. NULL (ledger) and '' (documents, part of a key) are the platform.
ALTER TABLE ledger_entries ADD COLUMN account text;
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account);

ALTER TABLE document_counters ADD COLUMN account text NOT NULL DEFAULT '';
ALTER TABLE document_counters DROP CONSTRAINT document_counters_pkey;
ALTER TABLE document_counters ADD PRIMARY KEY (account, kind, year);

ALTER TABLE documents ADD COLUMN account text NOT NULL DEFAULT '';
ALTER TABLE documents DROP CONSTRAINT documents_kind_year_sequence_key;
ALTER TABLE documents ADD CONSTRAINT documents_account_kind_year_sequence_key UNIQUE (account, kind, year, sequence);

-- Down Migration

ALTER TABLE documents DROP CONSTRAINT documents_account_kind_year_sequence_key;
ALTER TABLE documents ADD CONSTRAINT documents_kind_year_sequence_key UNIQUE (kind, year, sequence);
ALTER TABLE documents DROP COLUMN account;
ALTER TABLE document_counters DROP CONSTRAINT document_counters_pkey;
ALTER TABLE document_counters ADD PRIMARY KEY (kind, year);
ALTER TABLE document_counters DROP COLUMN account;
DROP INDEX ledger_entries_account_idx;
ALTER TABLE ledger_entries DROP COLUMN account;
