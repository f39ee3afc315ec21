/**
 * From the two import formats to canonical CDR records: CSV fields through the file's header, NDJSON objects
 * key by key. Both give null for an empty value, so "no value" means the same whichever format carried it.
 */
import { CDR_COLUMN_NAMES, isNullableCdrColumn, validateCdrHeader, type CdrRecord } from '@cdr-reports/domain';

// Module-local copy: imported bindings are getters once compiled to CommonJS, too slow for once per column.
const NAMES: readonly string[] = [...CDR_COLUMN_NAMES];

/** A record, or the reason the input could not even be read as one. */
export type MappedRecord = CdrRecord | string;

/** Maps the fields of a CSV record to a canonical record through the file's header. */
export class CsvRecordMapper {
  private readonly indexes: number[];

  private constructor(private readonly width: number, indexes: number[]) {
    this.indexes = indexes;
  }

  /** A mapper for this header, or the reason the header is wrong (missing, unknown or repeated columns). */
  static forHeader(header: readonly string[]): CsvRecordMapper | string {
    const problem = validateCdrHeader(header);
    if (problem !== undefined) return problem;
    return new CsvRecordMapper(header.length, NAMES.map((name) => header.indexOf(name)));
  }

  map(fields: readonly string[]): MappedRecord {
    if (fields.length !== this.width) return `expected ${this.width} fields as in the header, found ${fields.length}`;
    const x = this.indexes;
    // An object literal in catalog order: every record gets the same shape, built without keyed stores.
    return {
      id: cell(fields, x[0]!),
      account_id: cell(fields, x[1]!),
      product: cell(fields, x[2]!),
      direction: cell(fields, x[3]!),
      from: cell(fields, x[4]!),
      to: cell(fields, x[5]!),
      start_time: cell(fields, x[6]!),
      answer_time: cell(fields, x[7]!),
      end_time: cell(fields, x[8]!),
      duration: cell(fields, x[9]!),
      billsec: cell(fields, x[10]!),
      status: cell(fields, x[11]!),
      hangup_cause: cell(fields, x[12]!),
      country: cell(fields, x[13]!),
      network: cell(fields, x[14]!),
      currency: cell(fields, x[15]!),
      price: cell(fields, x[16]!),
      total_price: cell(fields, x[17]!),
      parts: cell(fields, x[18]!),
      client_ref: cell(fields, x[19]!),
      message_body: cell(fields, x[20]!),
    };
  }
}

// map() spells the columns out for speed: fail when this module loads, not silently, if the catalog changes.
const spelled = (CsvRecordMapper.forHeader(NAMES) as CsvRecordMapper).map(NAMES);
if (typeof spelled === 'string' || Object.keys(spelled).join() !== NAMES.join() || Object.values(spelled).join() !== NAMES.join()) {
  throw new Error('CsvRecordMapper.map does not list the columns of the CDR catalog in order');
}

function cell(fields: readonly string[], index: number): string | null {
  const value = fields[index]!;
  return value === '' ? null : value;
}

const COLUMNS: ReadonlySet<string> = new Set(NAMES);
const INTEGER_COLUMNS: ReadonlySet<string> = new Set(['duration', 'billsec', 'parts']);
const DECIMAL_COLUMNS: ReadonlySet<string> = new Set(['price', 'total_price']);

/**
 * Parses one NDJSON line into a canonical record. Values are strings or null; the integer columns may also be
 * JSON numbers. Prices must be strings: JSON.parse turns a number into a binary float, which cannot hold most
 * decimals exactly. A missing nullable key is null; a missing required key is left for validation to report.
 */
export function parseNdjsonRecord(text: string): MappedRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not valid JSON: ${(error as Error).message}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'a line must hold one JSON object';
  const source = parsed as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!COLUMNS.has(key)) return `unknown key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key)}`;
  }
  const record: CdrRecord = {};
  for (const name of NAMES) {
    const value = source[name];
    if (value === undefined || value === null || value === '') {
      record[name] = null;
    } else if (typeof value === 'string') {
      record[name] = value;
    } else if (typeof value === 'number' && INTEGER_COLUMNS.has(name) && Number.isSafeInteger(value)) {
      record[name] = String(value);
    } else if (typeof value === 'number' && DECIMAL_COLUMNS.has(name)) {
      return `${name}: must be a JSON string like "0.0125": a JSON number is read as a binary float and loses exactness`;
    } else {
      return `${name}: must be a string${isNullableCdrColumn(name) ? ' or null' : ''}${INTEGER_COLUMNS.has(name) ? ' or a whole number' : ''}`;
    }
  }
  return record;
}
