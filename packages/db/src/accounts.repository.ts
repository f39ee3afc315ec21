import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ACCOUNT_ID_PATTERN, ConflictError, NotFoundError, ValidationError } from '@cdr-reports/domain';
import { Batcher } from '@cdr-reports/batching';
import type { Pool } from './pool';

export interface Account {
  id: string;
  name: string;
  parentId: string | null;
  createdAt: Date;
}

export interface ApiKey {
  id: string;
  accountId: string;
  name: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/** What creating an account or a key returns: the only time the key (and the secret) are shown. */
export interface NewAccount {
  account: Account;
  apiKey: string;
  apiKeyId: string;
  webhookSecret: string;
}

/** The account an API key acts for, resolved on every request. */
interface KeyLookupRow {
  id: string;
  account_id: string;
  key_hash: Buffer;
}

export interface Principal {
  accountId: string;
  keyId: string;
}

const KEY_PREFIX = 'cdrk_';

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function newKey(): { id: string; key: string } {
  return { id: `key_${randomBytes(8).toString('hex')}`, key: `${KEY_PREFIX}${randomBytes(32).toString('base64url')}` };
}

interface AccountRow {
  id: string;
  name: string;
  parent_id: string | null;
  created_at: Date;
}

const toAccount = (row: AccountRow): Account => ({ id: row.id, name: row.name, parentId: row.parent_id, createdAt: row.created_at });

export class AccountsRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Creates an account with its first API key and its webhook secret. Its place in the tree (account_closure)
   * is filed by the accounts table's insert trigger, in the same transaction (see migration 006).
   */
  async create(input: { name: string; id?: string; parentId?: string }): Promise<NewAccount> {
    const id = input.id ?? `acc_${randomBytes(6).toString('hex')}`;
    const problems = [];
    if (!input.name.trim()) problems.push({ name: 'name', reason: 'must not be empty' });
    if (!ACCOUNT_ID_PATTERN.test(id)) {
      problems.push({ name: 'id', reason: 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit' });
    }
    if (problems.length > 0) throw new ValidationError(problems);
    if (input.parentId !== undefined && !(await this.find(input.parentId))) {
      throw new NotFoundError(`parent account ${input.parentId} does not exist`);
    }
    const webhookSecret = newWebhookSecret();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query<AccountRow>(
        `INSERT INTO accounts (id, name, parent_id, webhook_secret) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO NOTHING RETURNING id, name, parent_id, created_at`,
        [id, input.name.trim(), input.parentId ?? null, webhookSecret],
      );
      const row = inserted.rows[0];
      if (!row) throw new ConflictError(`account ${id} already exists`);
      const key = newKey();
      await client.query('INSERT INTO api_keys (id, account_id, key_hash, name) VALUES ($1, $2, $3, $4)', [
        key.id,
        id,
        hashKey(key.key),
        'default',
      ]);
      await client.query('COMMIT');
      return { account: toAccount(row), apiKey: key.key, apiKeyId: key.id, webhookSecret };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async find(id: string): Promise<Account | undefined> {
    const result = await this.pool.query<AccountRow>('SELECT id, name, parent_id, created_at FROM accounts WHERE id = $1', [id]);
    return result.rows[0] ? toAccount(result.rows[0]) : undefined;
  }

  async list(): Promise<Account[]> {
    const result = await this.pool.query<AccountRow>('SELECT id, name, parent_id, created_at FROM accounts ORDER BY created_at, id');
    return result.rows.map(toAccount);
  }

  /**
   * The account itself and every descendant, at any depth, in id order (empty when the account does not exist):
   * one range scan of the closure's primary key.
   */
  async selfAndDescendants(id: string): Promise<Account[]> {
    const result = await this.pool.query<AccountRow>(
      `SELECT a.id, a.name, a.parent_id, a.created_at
       FROM account_closure c JOIN accounts a ON a.id = c.descendant_id
       WHERE c.ancestor_id = $1 ORDER BY c.descendant_id`,
      [id],
    );
    return result.rows.map(toAccount);
  }

  /** How many accounts the tree of `id` holds (itself included): one count over the closure's index. */
  async treeSize(id: string): Promise<number> {
    const result = await this.pool.query<{ size: number }>({
      name: 'accounts-tree-size',
      text: 'SELECT count(*)::int AS size FROM account_closure WHERE ancestor_id = $1',
      values: [id],
    });
    return result.rows[0]?.size ?? 0;
  }

  /**
   * The ids of the account itself and of every descendant, in id order (empty when the account does not exist).
   * What a report over a tree needs, once per report: ids only, read from the closure's index alone.
   */
  async descendantIds(id: string): Promise<string[]> {
    // One row holding one array: 20,000 ids arrive as one value, not 20,000 rows to decode one by one.
    const result = await this.pool.query<{ ids: string[] | null }>({
      name: 'accounts-descendant-ids',
      text: 'SELECT array_agg(descendant_id ORDER BY descendant_id) AS ids FROM account_closure WHERE ancestor_id = $1',
      values: [id],
    });
    return result.rows[0]?.ids ?? [];
  }

  /**
   * One page of accounts in id order, after `after` (exclusive): every account of `under`'s tree (itself
   * included), or with `parentId` only that account's direct children. Both are range scans of an index
   * (the closure's primary key, accounts (parent_id, id)), so a page costs the same at any position.
   */
  async page(options: { under: string; parentId?: string; after?: string; limit: number }): Promise<Account[]> {
    const after = options.after !== undefined;
    // Two texts rather than "$2 IS NULL OR ...": the planner then knows where the range starts. The bound is
    // given on both sides of the join so that both index scans start at the cursor, not at the first account.
    const text =
      options.parentId === undefined
        ? `SELECT a.id, a.name, a.parent_id, a.created_at
           FROM account_closure c JOIN accounts a ON a.id = c.descendant_id
           WHERE c.ancestor_id = $1 ${after ? 'AND c.descendant_id > $3 AND a.id > $3' : ''}
           ORDER BY c.descendant_id LIMIT $2`
        : `SELECT id, name, parent_id, created_at FROM accounts
           WHERE parent_id = $1 ${after ? 'AND id > $3' : ''}
           ORDER BY id LIMIT $2`;
    const values = [options.parentId ?? options.under, options.limit, ...(after ? [options.after] : [])];
    const result = await this.pool.query<AccountRow>(text, values);
    return result.rows.map(toAccount);
  }

  /** True when `accountId` is `ancestorId` or lies below it: one probe of the closure's primary key. */
  async isSelfOrDescendant(ancestorId: string, accountId: string): Promise<boolean> {
    // An account asking about itself (most requests) needs no query: it exists, or it could not have a key.
    if (ancestorId === accountId) return true;
    const result = await this.pool.query({
      name: 'accounts-is-self-or-descendant',
      text: 'SELECT 1 FROM account_closure WHERE ancestor_id = $1 AND descendant_id = $2',
      values: [ancestorId, accountId],
    });
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Those of `ids` that are neither `ancestorId` nor below it (unknown ids included), in the order given,
   * each once: one query, a probe of the closure's primary key per id.
   */
  async unreadable(ancestorId: string, ids: readonly string[]): Promise<string[]> {
    const others = [...new Set(ids)].filter((id) => id !== ancestorId);
    if (others.length === 0) return [];
    const result = await this.pool.query<[string]>({
      text: `SELECT given.id FROM unnest($2::text[]) WITH ORDINALITY AS given (id, n)
             WHERE NOT EXISTS (SELECT 1 FROM account_closure c WHERE c.ancestor_id = $1 AND c.descendant_id = given.id)
             ORDER BY given.n`,
      values: [ancestorId, others],
      rowMode: 'array',
    });
    return result.rows.map((row) => row[0]);
  }

  /** Replaces the account's webhook secret; the old one keeps signing alongside for `overlapHours`. */
  async rotateWebhookSecret(accountId: string, overlapHours = 24): Promise<{ webhookSecret: string; previousSecretExpiresAt: Date }> {
    const webhookSecret = newWebhookSecret();
    const result = await this.pool.query<{ previous_secret_expires_at: Date }>(
      `UPDATE accounts SET previous_webhook_secret = webhook_secret, webhook_secret = $2,
         previous_secret_expires_at = now() + make_interval(hours => $3)
       WHERE id = $1 RETURNING previous_secret_expires_at`,
      [accountId, webhookSecret, overlapHours],
    );
    if (!result.rows[0]) throw new NotFoundError(`account ${accountId} does not exist`);
    return { webhookSecret, previousSecretExpiresAt: result.rows[0].previous_secret_expires_at };
  }
}

interface KeyRow {
  id: string;
  account_id: string;
  name: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const toKey = (row: KeyRow): ApiKey => ({
  id: row.id,
  accountId: row.account_id,
  name: row.name,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export class ApiKeysRepository {
  constructor(private readonly pool: Pool) {}

  async create(accountId: string, name?: string): Promise<{ key: ApiKey; apiKey: string }> {
    const key = newKey();
    const result = await this.pool
      .query<KeyRow>(
        `INSERT INTO api_keys (id, account_id, key_hash, name) VALUES ($1, $2, $3, $4)
         RETURNING id, account_id, name, created_at, revoked_at`,
        [key.id, accountId, hashKey(key.key), name ?? null],
      )
      .catch((error: { code?: string }) => {
        if (error.code === '23503') throw new NotFoundError(`account ${accountId} does not exist`);
        throw error;
      });
    return { key: toKey(result.rows[0]!), apiKey: key.key };
  }

  async list(accountId?: string): Promise<ApiKey[]> {
    const result = await this.pool.query<KeyRow>(
      `SELECT id, account_id, name, created_at, revoked_at FROM api_keys
       WHERE $1::text IS NULL OR account_id = $1 ORDER BY created_at, id`,
      [accountId ?? null],
    );
    return result.rows.map(toKey);
  }

  /** Revokes a key at once; revoking an already revoked key keeps its first revocation time. */
  async revoke(keyId: string): Promise<ApiKey> {
    const result = await this.pool.query<KeyRow>(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1
       RETURNING id, account_id, name, created_at, revoked_at`,
      [keyId],
    );
    if (!result.rows[0]) throw new NotFoundError(`API key ${keyId} does not exist`);
    return toKey(result.rows[0]);
  }

  /**
   * The principal a presented key acts for, or undefined for an unknown or revoked key.
   * The lookup is by hash, and the stored hash is compared again in constant time.
   */
  async authenticate(presented: string): Promise<Principal | undefined> {
    if (!presented.startsWith(KEY_PREFIX) || presented.length > 200) return undefined;
    const hash = hashKey(presented);
    const row = await this.lookups.call(hash);
    if (!row || !timingSafeEqual(row.key_hash, hash)) return undefined;
    return { accountId: row.account_id, keyId: row.id };
  }

  /** Every request looks its key up: concurrent lookups share one query (see Batcher). */
  private readonly lookups = new Batcher<Buffer, KeyLookupRow | undefined>(async (hashes) => {
    const result = await this.pool.query<KeyLookupRow>({
      // Prepared once per connection.
      name: 'api-keys-authenticate',
      text: 'SELECT id, account_id, key_hash FROM api_keys WHERE key_hash = ANY($1::bytea[]) AND revoked_at IS NULL',
      values: [hashes],
    });
    const byHash = new Map(result.rows.map((row) => [row.key_hash.toString('hex'), row]));
    return hashes.map((hash) => byHash.get(hash.toString('hex')));
  });
}
