-- Accounts form a tree: a parent account sees its own records and every descendant's.
CREATE TABLE accounts (
  id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  name            text NOT NULL,
  parent_id       text REFERENCES accounts (id),
  -- Standard Webhooks secret (whsec_...): kept in clear because callbacks are signed with it.
  webhook_secret  text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_parent_idx ON accounts (parent_id);

-- API keys are shown once; only their SHA-256 is stored (they carry 256 random bits, so a slow hash adds nothing).
CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  account_id    text NOT NULL REFERENCES accounts (id),
  key_hash      bytea NOT NULL UNIQUE,
  name          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id);

-- The CDR store, range-partitioned by month on start_time; partitions are created on demand
-- (cdr-store's ensurePartitions) and retention drops whole partitions.
CREATE TABLE cdrs (
  id            uuid NOT NULL,
  account_id    text NOT NULL,
  product       text NOT NULL,
  direction     text NOT NULL,
  "from"        text NOT NULL,
  "to"          text NOT NULL,
  start_time    timestamptz NOT NULL,
  answer_time   timestamptz,
  end_time      timestamptz,
  duration      integer NOT NULL CHECK (duration >= 0),
  billsec       integer NOT NULL CHECK (billsec >= 0 AND billsec <= duration),
  status        text NOT NULL,
  hangup_cause  text,
  country       text,
  network       text,
  currency      text NOT NULL,
  -- numeric without a typmod keeps the digits as imported (0.0125 stays 0.0125, not 0.01250000), so reports
  -- write decimals exactly as received; the checks hold them to what the import format allows.
  price         numeric NOT NULL CHECK (scale(price) <= 8 AND abs(price) < 1e12),
  total_price   numeric NOT NULL CHECK (scale(total_price) <= 8 AND abs(total_price) < 1e12),
  parts         integer,
  client_ref    text,
  message_body  text,
  -- PostgreSQL requires the partition key in every unique constraint; a CDR's start_time never changes,
  -- so (id, start_time) identifies a record and makes re-imports idempotent.
  PRIMARY KEY (id, start_time)
) PARTITION BY RANGE (start_time);

-- One account (or each account of a hierarchy), one product, one time range, in (start_time, id) order:
-- an index scan per partition, and partitions are appended in time order.
CREATE INDEX cdrs_account_product_time_idx ON cdrs (account_id, product, start_time, id);
