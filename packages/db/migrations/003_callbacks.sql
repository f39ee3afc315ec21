-- Secret rotation: for 24 h after a rotation callbacks carry signatures with both secrets.
ALTER TABLE accounts
  ADD COLUMN previous_webhook_secret text,
  ADD COLUMN previous_secret_expires_at timestamptz;

-- The callback outbox: a report's terminal event is recorded in the same transaction as its terminal state,
-- so a crash can neither lose it nor make two. The notifier delivers it; its id is the webhook-id on every attempt.
CREATE TABLE callback_events (
  id            text PRIMARY KEY,
  report_id     uuid NOT NULL UNIQUE REFERENCES reports (id),
  account_id    text NOT NULL REFERENCES accounts (id),
  type          text NOT NULL CHECK (type IN ('report.completed', 'report.failed', 'report.aborted')),
  url           text NOT NULL,
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  -- The JSON body, fixed at the first attempt so that every retry sends the same bytes.
  payload       text,
  -- How many deliveries were started (1, then +1 per redeliver): names the delivery job.
  deliveries    integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  enqueued_at   timestamptz,
  delivered_at  timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- The relay: events recorded but not handed to the queue (the process died in between).
CREATE INDEX callback_events_unqueued_idx ON callback_events (created_at) WHERE enqueued_at IS NULL;

CREATE TABLE callback_attempts (
  event_id      text NOT NULL REFERENCES callback_events (id),
  attempt       integer NOT NULL,
  attempted_at  timestamptz NOT NULL DEFAULT now(),
  status_code   integer,
  duration_ms   integer NOT NULL,
  error         text,
  PRIMARY KEY (event_id, attempt)
);
