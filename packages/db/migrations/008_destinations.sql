-- Destinations: the customer's own storage (an S3-compatible bucket or an SFTP server) reports are delivered
-- into. Settings are kept as given but for the secrets (secret_access_key, password, private_key), which are
-- sealed with AES-256-GCM under a key from the configuration (DESTINATION_SECRET_KEYS) and never returned.
-- A deleted destination is kept (deleted_at) so that the reports delivered into it still name it.
CREATE TABLE destinations (
  id            uuid PRIMARY KEY,
  account_id    text NOT NULL REFERENCES accounts (id),
  name          text NOT NULL,
  type          text NOT NULL CHECK (type IN ('s3', 'sftp')),
  -- {"type": ..., "s3"|"sftp": {...}} without the secret fields.
  settings      jsonb NOT NULL,
  -- The sealed JSON object of the secret fields, and their names (not secret: shown as secrets_set without
  -- opening the seal, so a destination sealed under a retired key still lists).
  secrets       text NOT NULL,
  secret_fields text[] NOT NULL,
  key_template  text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz
);
-- Listing an account's destinations, oldest first, with keyset pagination.
CREATE INDEX destinations_account_idx ON destinations (account_id, created_at, id) WHERE deleted_at IS NULL;

-- Every file of a report (split files, sha256) and its manifest, written after them.
ALTER TABLE reports
  ADD COLUMN files json,
  ADD COLUMN manifest_key text,
  ADD COLUMN manifest json,
  -- Delivery into a destination: PENDING until the files and then the manifest are copied; the run counts
  -- deliveries (1, +1 per redeliver) and names the delivery job and its callback event.
  ADD COLUMN delivery_destination_id uuid REFERENCES destinations (id),
  ADD COLUMN delivery_state text CHECK (delivery_state IN ('PENDING', 'DELIVERED', 'FAILED')),
  ADD COLUMN delivery_run integer NOT NULL DEFAULT 0,
  ADD COLUMN delivered_at timestamptz,
  ADD COLUMN delivery_error_step text,
  ADD COLUMN delivery_error text,
  ADD COLUMN delivery_manifest_key text,
  -- Where each file went in the destination (the delivered manifest's keys), in order.
  ADD COLUMN delivery_file_keys json,
  ADD COLUMN delivery_updated_at timestamptz;
-- The sweeper: deliveries that may have lost their job.
CREATE INDEX reports_delivery_pending_idx ON reports (delivery_updated_at) WHERE delivery_state = 'PENDING';

-- A report with a destination sends report.completed when its delivery ends DELIVERED, or
-- report.delivery_failed; a redelivery is a new delivery and may end in a new event. So a report may have
-- several events, one per (type, delivery run); terminal events of the report itself keep run 0.
ALTER TABLE callback_events DROP CONSTRAINT callback_events_report_id_key;
ALTER TABLE callback_events ADD COLUMN delivery_run integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX callback_events_report_type_run_idx ON callback_events (report_id, type, delivery_run);
ALTER TABLE callback_events DROP CONSTRAINT callback_events_type_check;
ALTER TABLE callback_events ADD CONSTRAINT callback_events_type_check
  CHECK (type IN ('report.completed', 'report.failed', 'report.aborted', 'report.delivery_failed'));
