-- Up Migration

-- An early fraud warning delivered late asks whether its charge was disputed since. Disputes are
-- few next to charges, so building the index holds writes to the table only briefly.
CREATE INDEX disputes_charge_id_idx ON disputes (charge_id);

-- Down Migration

DROP INDEX disputes_charge_id_idx;
