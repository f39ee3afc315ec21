/**
 * PostgreSQL COPY text format for the cdrs table: one line per record, tab-separated columns in catalog order,
 * `\N` for null, and backslash escapes for the characters that would end a column or a line.
 */
import { CDR_COLUMN_NAMES, type CdrRecord } from '@cdr-reports/domain';

// A module-local copy: imported bindings are getters once compiled to CommonJS, too slow for once per column.
const COLUMNS: readonly string[] = [...CDR_COLUMN_NAMES];

/** The quoted column list of the cdrs table in catalog order, for COPY and INSERT ... SELECT. */
export const CDR_COPY_COLUMNS = COLUMNS.map((name) => `"${name}"`).join(', ');

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (c: string): string => ESCAPED[c]!;

/** A value as one COPY text column. */
export function encodeCopyValue(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPES, escapeChar) : value;
}

// Reused for every row: join() then builds one flat string instead of a chain of concatenations.
const cells: string[] = new Array<string>(COLUMNS.length);

/** A record as one COPY text line, line end included; absent columns are null. */
export function encodeCopyRow(record: CdrRecord): string {
  for (let i = 0; i < COLUMNS.length; i++) cells[i] = encodeCopyValue(record[COLUMNS[i]!]);
  return `${cells.join('\t')}\n`;
}
