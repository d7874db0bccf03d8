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

-- Down Migration

DROP TABLE disputes;
