-- Scheduled exports: each run creates an ordinary report for the previous calendar period in the schedule's
-- time zone. A deleted schedule is kept (deleted_at) so that the reports it made still name it.
CREATE TABLE schedules (
  id            uuid PRIMARY KEY,
  -- The account whose key created it: it owns the schedule and is the requester of every report it makes.
  account_id    text NOT NULL REFERENCES accounts (id),
  name          text NOT NULL,
  cron          text NOT NULL,
  timezone      text NOT NULL,
  period        text NOT NULL CHECK (period IN ('previous_month', 'previous_week', 'previous_day')),
  -- A validated report request without date_start/date_end; json keeps the echo's field order.
  report        json NOT NULL,
  callback_url  text,
  paused        boolean NOT NULL DEFAULT false,
  -- Runs are due from here on: set at creation, on resume and when the timing changes (no back-fill before it).
  active_since  timestamptz NOT NULL DEFAULT now(),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz
);
CREATE INDEX schedules_account_idx ON schedules (account_id, created_at DESC) WHERE deleted_at IS NULL;

-- A scheduled report names its schedule and period; one report per schedule and period, whatever happens.
ALTER TABLE reports ADD COLUMN schedule_id uuid REFERENCES schedules (id);
ALTER TABLE reports ADD COLUMN period_start date;
CREATE UNIQUE INDEX reports_schedule_period_idx ON reports (schedule_id, period_start) WHERE schedule_id IS NOT NULL;
