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

  /** Creates an account with its first API key and its webhook secret. */
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

  /** The account itself and every descendant, at any depth (empty when the account does not exist). */
  async selfAndDescendants(id: string): Promise<Account[]> {
    const result = await this.pool.query<AccountRow>(
      `WITH RECURSIVE tree AS (
         SELECT id, name, parent_id, created_at FROM accounts WHERE id = $1
         UNION
         SELECT a.id, a.name, a.parent_id, a.created_at FROM accounts a JOIN tree t ON a.parent_id = t.id
       )
       SELECT id, name, parent_id, created_at FROM tree ORDER BY created_at, id`,
      [id],
    );
    return result.rows.map(toAccount);
  }

  /** True when `accountId` is `ancestorId` or lies below it. */
  async isSelfOrDescendant(ancestorId: string, accountId: string): Promise<boolean> {
    // An account asking about itself (most requests) needs no query: it exists, or it could not have a key.
    if (ancestorId === accountId) return true;
    const result = await this.pool.query(
      `WITH RECURSIVE up AS (
         SELECT id, parent_id FROM accounts WHERE id = $2
         UNION
         SELECT a.id, a.parent_id FROM accounts a JOIN up ON a.id = up.parent_id
       )
       SELECT 1 FROM up WHERE id = $1`,
      [ancestorId, accountId],
    );
    return (result.rowCount ?? 0) > 0;
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
