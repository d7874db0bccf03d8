-- Up Migration

-- An email being sent is claimed for a while instead of locked by an open transaction: no
-- transaction (and no pooled connection) is held across the SMTP conversation. A claim that
-- outlives its attempt (a crashed or timed-out worker) expires, and the retry claims it again.
ALTER TABLE email_outbox ADD COLUMN claimed_until timestamptz;

-- Down Migration

ALTER TABLE email_outbox DROP COLUMN claimed_until;
