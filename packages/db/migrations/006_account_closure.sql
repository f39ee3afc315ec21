-- The account tree as a closure table: one row per (ancestor, descendant) pair, the account itself included at
-- depth 0. "Every account under X" is one range scan of the primary key, in id order (reports, paging
-- GET /v1/accounts); "may X read Y" is one probe of it, whatever the depth.
-- Not ltree nor a stored path: account ids may hold '.' and '-' (not allowed in PostgreSQL 15 ltree labels), and
-- a path of 50 ids of 64 characters (3.2 kB) is over a btree entry's limit (about 2.7 kB).
CREATE TABLE account_closure (
  ancestor_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  descendant_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  depth          integer NOT NULL CHECK (depth >= 0),
  PRIMARY KEY (ancestor_id, descendant_id)
);
-- A new account's ancestors are its parent's: looked up by descendant when the closure is extended.
CREATE INDEX account_closure_descendant_idx ON account_closure (descendant_id, depth);

-- One level of the tree in id order (GET /v1/accounts?parent_id=...) is a range scan of this index.
CREATE INDEX accounts_parent_id_idx ON accounts (parent_id, id);
DROP INDEX accounts_parent_idx;

-- The closure is kept by a trigger rather than by AccountsRepository.create: it then holds for every way accounts
-- are inserted (create, the CLI's bulk import, benchmarks and fixtures that insert rows themselves) without each
-- having to remember it. It is a statement trigger over the inserted rows, so one INSERT may hold parents and
-- children in any order (a parent listed after its child): the chain of each new account is walked up through the
-- new rows to the first account that existed before, whose own ancestors the closure already holds.
CREATE FUNCTION account_closure_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  looped boolean;
BEGIN
  WITH RECURSIVE chain (descendant_id, ancestor_id, depth) AS (
    SELECT id, id, 0 FROM new_accounts
    UNION ALL
    SELECT c.descendant_id, n.parent_id, c.depth + 1
    FROM chain c JOIN new_accounts n ON n.id = c.ancestor_id
    WHERE n.parent_id IS NOT NULL
  ) CYCLE ancestor_id SET is_cycle USING path,
  added AS (
    INSERT INTO account_closure (ancestor_id, descendant_id, depth)
    SELECT ancestor_id, descendant_id, depth FROM chain WHERE NOT is_cycle
    UNION ALL
    -- Only accounts that existed before this statement have closure rows (the insert above is not visible here).
    SELECT above.ancestor_id, c.descendant_id, c.depth + above.depth
    FROM chain c JOIN account_closure above ON above.descendant_id = c.ancestor_id AND above.depth > 0
    WHERE NOT c.is_cycle
    RETURNING 1
  )
  SELECT coalesce(bool_or(is_cycle), false) INTO looped FROM chain;
  IF looped THEN
    RAISE EXCEPTION 'accounts may not form a cycle of parents' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER accounts_closure_insert AFTER INSERT ON accounts
  REFERENCING NEW TABLE AS new_accounts FOR EACH STATEMENT EXECUTE FUNCTION account_closure_insert();

-- Accounts never move in the tree (nothing in the service changes parent_id or id): refusing it keeps the closure
-- right without the cost of re-parenting whole subtrees.
CREATE FUNCTION accounts_refuse_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.id <> OLD.id THEN
    RAISE EXCEPTION 'account % cannot change its id or its parent', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER accounts_refuse_move BEFORE UPDATE OF id, parent_id ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_refuse_move();

-- Backfill from parent_id: every account with each of its ancestors (a cycle, which parent_id alone allowed,
-- is cut where it closes).
INSERT INTO account_closure (ancestor_id, descendant_id, depth)
WITH RECURSIVE up (descendant_id, ancestor_id, parent_id, depth) AS (
  SELECT id, id, parent_id, 0 FROM accounts
  UNION ALL
  SELECT up.descendant_id, a.id, a.parent_id, up.depth + 1 FROM up JOIN accounts a ON a.id = up.parent_id
) CYCLE ancestor_id SET is_cycle USING path
SELECT ancestor_id, descendant_id, depth FROM up WHERE NOT is_cycle;
