-- Up Migration

-- An operator may stop a dunning without its final action; the case keeps why.
ALTER TABLE dunning_cases DROP CONSTRAINT dunning_cases_status_check;
ALTER TABLE dunning_cases ADD CONSTRAINT dunning_cases_status_check
  CHECK (status IN ('open', 'recovered', 'voided', 'uncollectible', 'exhausted', 'stopped'));
ALTER TABLE dunning_cases ADD COLUMN ended_reason text;

-- Down Migration

ALTER TABLE dunning_cases DROP COLUMN ended_reason;
ALTER TABLE dunning_cases DROP CONSTRAINT dunning_cases_status_check;
ALTER TABLE dunning_cases ADD CONSTRAINT dunning_cases_status_check
  CHECK (status IN ('open', 'recovered', 'voided', 'uncollectible', 'exhausted'));
