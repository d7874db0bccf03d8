-- Up Migration

-- Each application fee a connected account paid on one of its charges: which account, which
-- charge, and the greatest amount refunded that its events reported (it only grows). A refund can
-- reach us before that account's charge is booked; booking the charge's fee then gives back what
-- was refunded.
CREATE TABLE application_fees (
  id               text PRIMARY KEY,
  payer_account    text,
  charge_id        text,
  currency         text,
  amount_refunded  bigint NOT NULL CHECK (amount_refunded >= 0),
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL
);
CREATE INDEX application_fees_charge_idx ON application_fees (charge_id);

-- Fees refunded before this table, from the events whose payload is kept (the greatest amount).
INSERT INTO application_fees (id, payer_account, charge_id, currency, amount_refunded, source_created, source_event_id)
SELECT DISTINCT ON (f #>> '{id}')
       f #>> '{id}',
       coalesce(f #>> '{account,id}', f #>> '{account}'),
       coalesce(f #>> '{charge,id}', f #>> '{charge}'),
       f #>> '{currency}',
       refunded,
       e.created,
       e.id
  FROM stripe_events e
       CROSS JOIN LATERAL (SELECT e.payload #> '{data,object}' AS f) object
       CROSS JOIN LATERAL (SELECT CASE WHEN f #>> '{amount_refunded}' ~ '^[0-9]{1,15}$' THEN (f #>> '{amount_refunded}')::bigint ELSE 0 END AS refunded) amounts
 WHERE e.type LIKE 'application_fee.%'
   AND f #>> '{object}' = 'application_fee'
   AND f #>> '{id}' IS NOT NULL
 ORDER BY f #>> '{id}', refunded DESC, e.created DESC, e.id DESC;

-- Down Migration

DROP TABLE application_fees;
