-- Up Migration

-- Single-use, expiring links to set a password, sent in the welcome email. Only a SHA-256
-- of the token is stored; the token itself exists only in the email.
CREATE TABLE password_tokens (
  token_hash   text PRIMARY KEY,
  customer_id  text NOT NULL,
  email        text NOT NULL,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX password_tokens_customer_idx ON password_tokens (customer_id);

-- Down Migration

DROP TABLE password_tokens;
