-- Up Migration

-- Each dispute as its latest event left it, so that what still waits for an answer (and by
-- when) can be listed: the daily digest reminds finance of it until it is answered or closed.
CREATE TABLE disputes (
  id               text PRIMARY KEY,
  charge_id        text,
  amount           bigint,
  currency         text,
  status           text,
  reason           text,
  due_by           timestamptz,
  account          text,
  source_created   timestamptz NOT NULL,
  source_event_id  text NOT NULL
);
CREATE INDEX disputes_waiting_idx ON disputes (due_by) WHERE status IN ('needs_response', 'warning_needs_response');

-- Disputes opened before this table: each as the newest of its events whose payload is still
-- kept left it (by `created`, then event id, as later events are compared), so those still
-- waiting for an answer are reminded of from the first digest on. Fields without Stripe's shape
-- are left blank.
INSERT INTO disputes (id, charge_id, amount, currency, status, reason, due_by, account, source_created, source_event_id)
SELECT DISTINCT ON (d #>> '{id}')
       d #>> '{id}',
       coalesce(d #>> '{charge,id}', d #>> '{charge}'),
       CASE WHEN d #>> '{amount}' ~ '^-?[0-9]{1,15}$' THEN (d #>> '{amount}')::bigint END,
       d #>> '{currency}',
       d #>> '{status}',
       d #>> '{reason}',
       CASE WHEN d #>> '{evidence_details,due_by}' ~ '^[0-9]{1,12}$' THEN to_timestamp((d #>> '{evidence_details,due_by}')::bigint) END,
       e.account,
       e.created,
       e.id
  FROM stripe_events e CROSS JOIN LATERAL (SELECT e.payload #> '{data,object}' AS d) object
 WHERE e.type LIKE 'charge.dispute.%'
   AND d #>> '{object}' = 'dispute'
   AND d #>> '{id}' IS NOT NULL
 ORDER BY d #>> '{id}', e.created DESC, e.id DESC;

-- Down Migration

DROP TABLE disputes;
