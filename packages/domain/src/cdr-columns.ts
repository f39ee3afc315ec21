/** The canonical CDR record: one shape for voice calls and messages, also the import format. */

export const PRODUCTS = ['VOICE-CALL', 'SMS', 'MESSAGES'] as const;
export type Product = (typeof PRODUCTS)[number];

export const DIRECTIONS = ['inbound', 'outbound'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const VOICE_STATUSES = ['answered', 'failed', 'busy', 'no_answer'] as const;
export const MESSAGE_STATUSES = ['submitted', 'delivered', 'read', 'failed', 'rejected', 'expired', 'undeliverable'] as const;

/** The statuses a record of `product` may have. */
export function statusesFor(product: Product): readonly string[] {
  return product === 'VOICE-CALL' ? VOICE_STATUSES : MESSAGE_STATUSES;
}

/**
 * How a column is typed, validated and written:
 * - `structured` values (ids, enums, numbers, timestamps, decimals, codes) are written verbatim;
 * - `free-text` values are escaped against spreadsheet formula injection when written to a report;
 * - `address` (from/to) is written verbatim when it is a plain number like +4420..., escaped otherwise.
 */
export type ColumnKind = 'structured' | 'free-text' | 'address';

export interface CdrColumn {
  name: string;
  /** PostgreSQL type in the cdrs table. */
  sqlType: string;
  nullable: boolean;
  kind: ColumnKind;
  /** True for timestamps, which reports render in the requested time zone. */
  timestamp?: boolean;
}

export const CDR_COLUMNS: readonly CdrColumn[] = [
  { name: 'id', sqlType: 'uuid', nullable: false, kind: 'structured' },
  { name: 'account_id', sqlType: 'text', nullable: false, kind: 'structured' },
  { name: 'product', sqlType: 'text', nullable: false, kind: 'structured' },
  { name: 'direction', sqlType: 'text', nullable: false, kind: 'structured' },
  { name: 'from', sqlType: 'text', nullable: false, kind: 'address' },
  { name: 'to', sqlType: 'text', nullable: false, kind: 'address' },
  { name: 'start_time', sqlType: 'timestamptz', nullable: false, kind: 'structured', timestamp: true },
  { name: 'answer_time', sqlType: 'timestamptz', nullable: true, kind: 'structured', timestamp: true },
  { name: 'end_time', sqlType: 'timestamptz', nullable: true, kind: 'structured', timestamp: true },
  { name: 'duration', sqlType: 'integer', nullable: false, kind: 'structured' },
  { name: 'billsec', sqlType: 'integer', nullable: false, kind: 'structured' },
  { name: 'status', sqlType: 'text', nullable: false, kind: 'structured' },
  { name: 'hangup_cause', sqlType: 'text', nullable: true, kind: 'structured' },
  { name: 'country', sqlType: 'text', nullable: true, kind: 'structured' },
  { name: 'network', sqlType: 'text', nullable: true, kind: 'structured' },
  { name: 'currency', sqlType: 'text', nullable: false, kind: 'structured' },
  { name: 'price', sqlType: 'numeric', nullable: false, kind: 'structured' },
  { name: 'total_price', sqlType: 'numeric', nullable: false, kind: 'structured' },
  { name: 'parts', sqlType: 'integer', nullable: true, kind: 'structured' },
  { name: 'client_ref', sqlType: 'text', nullable: true, kind: 'free-text' },
  { name: 'message_body', sqlType: 'text', nullable: true, kind: 'free-text' },
];

export const CDR_COLUMN_NAMES: readonly string[] = CDR_COLUMNS.map((c) => c.name);

const COLUMN_BY_NAME = new Map(CDR_COLUMNS.map((column) => [column.name, column]));

/** The column named `name`; an unknown name is a programming error (requests are validated before). */
export function cdrColumn(name: string): CdrColumn {
  const column = COLUMN_BY_NAME.get(name);
  if (!column) throw new Error(`unknown column ${name}`);
  return column;
}

export type CdrColumnName = (typeof CDR_COLUMNS)[number]['name'];

/** An account id, as the accounts table allows it: 1-64 letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A CDR as text, keyed by canonical column name; null for an empty nullable value. */
export type CdrRecord = Record<string, string | null>;
