-- Rows in (start_time, id) order whatever their account: a read over many accounts (a parent with thousands of
-- subaccounts, a long account_ids list) scans this index and keeps the rows of its accounts (a hash of their
-- ids), streaming in report order with nothing sorted. Reads over a few accounts keep using
-- cdrs_account_product_time_idx, one scan per account. CDRs arrive in about time order, so the index grows at
-- its right edge and costs an import little.
-- On a large existing table this builds the index on every partition while holding writes (imports) off: run the
-- migration at a quiet time.
CREATE INDEX IF NOT EXISTS cdrs_time_idx ON cdrs (start_time, id);
