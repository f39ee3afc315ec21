import { splitSecrets, type DestinationInput, type DestinationSettings } from '@cdr-reports/domain';
import type { Pool } from './pool';

/** Seals and opens destination secrets (AES-256-GCM with a key ring: @cdr-reports/destinations' SecretBox). */
export interface SecretSealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

/** A destination as stored: its settings without secrets, which `settings` gives back whole. */
export interface DestinationRecord {
  id: string;
  accountId: string;
  name: string;
  keyTemplate: string;
  /** Settings without the secret fields: safe to show. */
  publicSettings: DestinationSettings;
  /** Which secret fields are set (never their values). */
  secretFields: string[];
  createdAt: Date;
  updatedAt: Date;
}

interface DestinationRow {
  id: string;
  account_id: string;
  name: string;
  type: string;
  settings: DestinationSettings;
  secrets: string;
  secret_fields: string[];
  key_template: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, account_id, name, type, settings, secrets, secret_fields, key_template, created_at, updated_at';

/**
 * Destinations of accounts. Secrets are sealed on the way in and opened only by `connection` (the delivery and
 * the test endpoint); everything else sees the public settings. Deleted destinations are kept (reports name them).
 */
export class DestinationsRepository {
  constructor(
    private readonly pool: Pool,
    private readonly sealer: SecretSealer,
  ) {}

  async create(id: string, accountId: string, input: DestinationInput): Promise<DestinationRecord> {
    const { public: settings, secrets } = splitSecrets(input);
    const result = await this.pool.query<DestinationRow>(
      `INSERT INTO destinations (id, account_id, name, type, settings, secrets, secret_fields, key_template)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [id, accountId, input.name, input.type, settings, this.sealer.seal(JSON.stringify(secrets)), Object.keys(secrets), input.key_template],
    );
    return this.toRecord(result.rows[0]!);
  }

  async find(id: string): Promise<DestinationRecord | undefined> {
    const row = await this.row(id);
    return row ? this.toRecord(row) : undefined;
  }

  /** The destination's full settings, secrets opened: for connecting only, never for an answer or a log. */
  async connection(id: string): Promise<(DestinationInput & { id: string; accountId: string }) | undefined> {
    const row = await this.row(id);
    if (!row) return undefined;
    const secrets = JSON.parse(this.sealer.open(row.secrets)) as Record<string, string>;
    const settings = row.settings.type === 's3' ? { type: 's3', s3: { ...row.settings.s3, ...secrets } } : { type: 'sftp', sftp: { ...row.settings.sftp, ...secrets } };
    return { ...(settings as DestinationSettings), id: row.id, accountId: row.account_id, name: row.name, key_template: row.key_template };
  }

  /** A page of these accounts' destinations, oldest first, after the cursor (a destination id). */
  async list(accountIds: readonly string[], limit: number, afterId?: string): Promise<DestinationRecord[]> {
    const result = await this.pool.query<DestinationRow>(
      `SELECT ${COLUMNS} FROM destinations
       WHERE account_id = ANY($1::text[]) AND deleted_at IS NULL
         AND ($3::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM destinations WHERE id = $3::uuid))
       ORDER BY created_at, id LIMIT $2`,
      [accountIds, limit, afterId ?? null],
    );
    return result.rows.map((row) => this.toRecord(row));
  }

  async update(id: string, input: DestinationInput): Promise<DestinationRecord | undefined> {
    const { public: settings, secrets } = splitSecrets(input);
    const result = await this.pool.query<DestinationRow>(
      `UPDATE destinations SET name = $2, settings = $3, secrets = $4, secret_fields = $5, key_template = $6, updated_at = now()
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id, input.name, settings, this.sealer.seal(JSON.stringify(secrets)), Object.keys(secrets), input.key_template],
    );
    return result.rows[0] ? this.toRecord(result.rows[0]) : undefined;
  }

  /** The live schedules whose reports are delivered into this destination (a destination in use is not deleted). */
  async schedulesUsing(id: string): Promise<string[]> {
    const result = await this.pool.query<{ id: string }>(
      `SELECT id FROM schedules WHERE deleted_at IS NULL AND report->>'destination_id' = $1 ORDER BY created_at LIMIT 20`,
      [id],
    );
    return result.rows.map((row) => row.id);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.pool.query('UPDATE destinations SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL', [id]);
    return result.rowCount === 1;
  }

  private async row(id: string): Promise<DestinationRow | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const result = await this.pool.query<DestinationRow>(`SELECT ${COLUMNS} FROM destinations WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return result.rows[0];
  }

  private toRecord(row: DestinationRow): DestinationRecord {
    return {
      id: row.id,
      accountId: row.account_id,
      name: row.name,
      keyTemplate: row.key_template,
      publicSettings: row.settings,
      secretFields: row.secret_fields,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}
