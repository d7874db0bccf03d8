-- Up Migration

-- One row per settled invoice payment. `invoice.paid` and `invoice.payment_succeeded` for the
-- same payment meet on the invoice id.
CREATE TABLE payments (
  id                 bigserial PRIMARY KEY,
  invoice_id         text NOT NULL UNIQUE,
  invoice_number     text,
  customer_id        text,
  customer_email     text,
  customer_name      text,
  subscription_id    text,
  charge_id          text,
  payment_intent_id  text,
  account            text,
  amount             bigint NOT NULL CHECK (amount >= 0),
  currency           text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  paid_at            timestamptz NOT NULL,
  invoice            jsonb NOT NULL,
  source_event_id    text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payments_customer_idx ON payments (customer_id);

-- Gap-free numbering: the counter row is updated in the transaction that stores the
-- document, so a rolled-back document gives its number back.
CREATE TABLE document_counters (
  kind         text NOT NULL,
  year         integer NOT NULL,
  last_number  integer NOT NULL,
  PRIMARY KEY (kind, year)
);

CREATE TABLE documents (
  number      text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('receipt', 'invoice')),
  year        integer NOT NULL,
  sequence    integer NOT NULL,
  payment_id  bigint NOT NULL REFERENCES payments (id),
  pdf         bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (payment_id, kind),
  UNIQUE (kind, year, sequence)
);

-- Every email, keyed by what it is about: a retried activity or a replayed event finds the
-- row already `sent` and sends nothing.
CREATE TABLE email_outbox (
  key         text PRIMARY KEY,
  recipient   text NOT NULL,
  subject     text NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
  message_id  text NOT NULL,
  event_id    text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);

-- Double-entry ledger. Each entry has a unique source key (what caused it), and its lines
-- must balance per currency: checked by the database at commit.
CREATE TABLE ledger_entries (
  id           bigserial PRIMARY KEY,
  source_key   text NOT NULL UNIQUE,
  kind         text NOT NULL,
  reference    text NOT NULL,
  description  text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  event_id     text,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ledger_entries_reference_idx ON ledger_entries (reference);

CREATE TABLE ledger_lines (
  id        bigserial PRIMARY KEY,
  entry_id  bigint NOT NULL REFERENCES ledger_entries (id),
  account   text NOT NULL CHECK (account IN ('accounts_receivable', 'revenue', 'tax_payable',
                                             'stripe_balance', 'refunds', 'dispute_losses', 'bad_debt')),
  currency  text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  debit     bigint NOT NULL DEFAULT 0 CHECK (debit >= 0),
  credit    bigint NOT NULL DEFAULT 0 CHECK (credit >= 0),
  CHECK ((debit = 0) <> (credit = 0))
);

CREATE INDEX ledger_lines_entry_idx ON ledger_lines (entry_id);

CREATE FUNCTION ledger_check_entry(checked bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ledger_lines WHERE entry_id = checked) THEN
    RAISE EXCEPTION 'ledger entry % has no lines', checked USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_lines WHERE entry_id = checked
              GROUP BY currency HAVING sum(debit) <> sum(credit)) THEN
    RAISE EXCEPTION 'ledger entry % does not balance', checked USING ERRCODE = 'check_violation';
  END IF;
END $$;

CREATE FUNCTION ledger_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_check_entry(NEW.id);
  RETURN NULL;
END $$;

CREATE FUNCTION ledger_line_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_check_entry(NEW.entry_id);
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
CREATE CONSTRAINT TRIGGER ledger_lines_balanced AFTER INSERT ON ledger_lines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_line_must_balance();

-- Posted entries are never changed; a correction is a new, reversing entry.
CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: post a reversing entry instead' USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
  FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();

-- Down Migration

DROP TABLE ledger_lines;
DROP TABLE ledger_entries;
DROP FUNCTION ledger_is_append_only();
DROP FUNCTION ledger_line_must_balance();
DROP FUNCTION ledger_entry_must_balance();
DROP FUNCTION ledger_check_entry(bigint);
DROP TABLE email_outbox;
DROP TABLE documents;
DROP TABLE document_counters;
DROP TABLE payments;
