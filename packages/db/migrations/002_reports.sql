-- Report requests and their lifecycle. The request is stored validated, with defaults filled in, and echoed
-- back as it is: what the caller reads is what the worker exported.
CREATE TABLE reports (
  id                uuid PRIMARY KEY,
  -- The account the report covers (and, with include_subaccounts, its descendants).
  account_id        text NOT NULL REFERENCES accounts (id),
  -- The key's account that asked for it; visibility is decided on account_id.
  requested_by      text NOT NULL REFERENCES accounts (id),
  product           text NOT NULL,
  -- json, not jsonb: the echo keeps the order the fields were validated in.
  request           json NOT NULL,
  status            text NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED', 'ABORTED', 'EXPIRED')),
  receive_time      timestamptz NOT NULL DEFAULT now(),
  start_time        timestamptz,
  end_time          timestamptz,
  items_count       bigint,
  progress_items    bigint,
  progress_percent  numeric(5, 2),
  summary           jsonb,
  file_key          text,
  file_name         text,
  file_size         bigint,
  content_type      text,
  expires_at        timestamptz,
  file_deleted_at   timestamptz,
  error_code        text,
  error_message     text,
  attempts          integer NOT NULL DEFAULT 0,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Listing a caller's reports, newest first, with keyset pagination.
CREATE INDEX reports_account_receive_idx ON reports (account_id, receive_time DESC, id DESC);
-- The sweeper: files past expires_at that are still there, and reports that may have lost their job.
CREATE INDEX reports_expiry_idx ON reports (expires_at) WHERE file_deleted_at IS NULL AND file_key IS NOT NULL;
CREATE INDEX reports_open_idx ON reports (status, updated_at) WHERE status IN ('PENDING', 'PROCESSING');

-- Idempotency-Key: the same key and body within 24 h return the same report.
CREATE TABLE report_idempotency_keys (
  account_id     text NOT NULL REFERENCES accounts (id),
  key            text NOT NULL,
  request_hash   text NOT NULL,
  report_id      uuid NOT NULL REFERENCES reports (id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, key)
);
