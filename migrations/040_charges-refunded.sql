-- Up Migration

-- Stripe's own word that a charge is refunded in full. `amount_refunded >= amount` misses a charge
-- captured in part and then refunded in full (what was refunded is what was captured), which an
-- early fraud warning delivered late must still see as no longer actionable. Nullable: adding it
-- rewrites nothing; rows stored before keep answering by their amounts.
ALTER TABLE charges ADD COLUMN refunded boolean;

-- Down Migration

ALTER TABLE charges DROP COLUMN refunded;
