-- Up Migration

-- Top-ups move money from the bank into the Stripe balance. As for payouts, the furthest status
-- each top-up reached, whichever event reported it: a top-up that failed before anything was
-- booked for it must not be booked as arrived by a late `topup.succeeded`.
CREATE TABLE topup_stages (
  topup_id  text PRIMARY KEY,
  status    text NOT NULL,
  rank      int NOT NULL
);

-- Down Migration

DROP TABLE topup_stages;
