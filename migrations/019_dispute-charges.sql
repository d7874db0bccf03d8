-- Up Migration

-- A dispute's ledger entries are booked under the dispute's id; this names the charge each
-- dispute is about, so an invoice's books can show what disputes took from its payment.
CREATE TABLE dispute_charges (
  dispute_id text PRIMARY KEY,
  charge_id  text NOT NULL
);

CREATE INDEX dispute_charges_charge_idx ON dispute_charges (charge_id);

-- Disputes booked before this table: from the payloads of their events still kept.
INSERT INTO dispute_charges (dispute_id, charge_id)
SELECT DISTINCT ON (payload #>> '{data,object,id}') payload #>> '{data,object,id}',
       coalesce(payload #>> '{data,object,charge,id}', payload #>> '{data,object,charge}')
  FROM stripe_events
 WHERE type LIKE 'charge.dispute.%'
   AND payload #>> '{data,object,id}' IS NOT NULL
   AND coalesce(payload #>> '{data,object,charge,id}', payload #>> '{data,object,charge}') IS NOT NULL
ON CONFLICT DO NOTHING;

-- Down Migration

DROP TABLE dispute_charges;
