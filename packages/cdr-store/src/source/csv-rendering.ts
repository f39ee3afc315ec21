/**
 * The last step of a CSV report's rendering, done on the COPY's bytes as they stream: PostgreSQL writes each
 * timestamp in its own ISO form and each text as stored (cheap for it), and this rewrites, row by row:
 * - timestamps into RFC 3339 in the same zone: `2026-03-01 12:00:00.12+01` becomes `2026-03-01T12:00:00.120+01:00`,
 *   with as many fraction digits as the instant needs: none, 3 or 6 (PostgreSQL drops trailing zeros);
 * - text a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) prefixed with
 *   `'`; an address that is a plain number (`+4420...`, `4477...`) is data and stays as it is.
 * Rendering RFC 3339 with to_char in SQL cost PostgreSQL about twice what this costs the worker (README,
 * "Benchmarks"). The session must use DateStyle ISO (the report's read sets it).
 */
import { cdrColumn, ExportIntegrityError } from '@cdr-reports/domain';

/** What a column's field needs: nothing, the timestamp form, or the formula test (as free text, or as an address). */
export type FieldRendering = 'plain' | 'timestamp' | 'free-text' | 'address';

/** What each requested field needs once PostgreSQL has written it: the rest is final as written. */
export function csvFieldRenderings(fields: readonly string[]): FieldRendering[] {
  return fields.map((name) => {
    const column = cdrColumn(name);
    if (column.timestamp) return 'timestamp';
    return column.kind === 'free-text' || column.kind === 'address' ? column.kind : 'plain';
  });
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const PLUS = 0x2b;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const DOT = 0x2e;
const T = 0x54;
const MINUS = 0x2d;

/** First bytes that make a spreadsheet read a cell as a formula. */
function startsFormula(byte: number): boolean {
  return byte === 0x3d || byte === PLUS || byte === MINUS || byte === 0x40 || byte === 0x09 || byte === 0x0d;
}

const isDigit = (byte: number) => byte >= ZERO && byte <= NINE;

/** Spans up to this long are copied byte by byte, longer ones by Buffer.copy. */
const SHORT_COPY = 96;

/** Most bytes a rendered timestamp takes: `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM`. */
const TIMESTAMP_BYTES = 32;

/**
 * Renders the CSV of one COPY, chunk by chunk (a row may span chunks: its start is kept until its end arrives).
 * One pass over the bytes in JavaScript, with no call into Buffer's native methods per row (each costs more than
 * scanning a row): fields are only delimited, and the bytes between two changes are copied as one run.
 */
export class CsvRenderer {
  private readonly lastSpecial: number;
  /** The start of a row whose end has not arrived yet. */
  private rest: Buffer | undefined;
  /** The first row is the header, passed on as it is. */
  private inHeader: boolean;
  private out: Buffer = Buffer.alloc(0);
  private outLength = 0;

  constructor(
    private readonly fields: readonly FieldRendering[],
    header: boolean,
  ) {
    this.inHeader = header;
    this.lastSpecial = fields.reduce((last, field, index) => (field === 'plain' ? last : index), -1);
  }

  /** Renders the whole rows `chunk` completes. */
  push(chunk: Buffer): Buffer {
    const data = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let at = 0;
    if (this.inHeader) {
      const end = data.indexOf(NEWLINE);
      if (end === -1) {
        this.rest = data;
        return Buffer.alloc(0);
      }
      this.inHeader = false;
      at = end + 1;
    }
    // Nothing to change: pass the bytes on (the header included).
    if (this.lastSpecial === -1) return data;

    const { fields, lastSpecial } = this;
    const lastField = fields.length - 1;
    const length = data.length;
    this.out = Buffer.allocUnsafe(length + (length >> 3) + 64);
    this.outLength = 0;
    // data[copyFrom, ...) is not in `out` yet: it goes there as it is, up to the next change.
    let copyFrom = 0;
    let rowStart = at;
    // Where the row under way starts in `out` (once the bytes before it are flushed).
    let rowStartOut = at;
    let field = 0;
    while (at < length) {
      const fieldStart = at;
      // Find the field's end: the delimiter after it (a quoted field may hold commas, newlines and "").
      if (data[at] === QUOTE) {
        at++;
        for (;;) {
          if (at + 1 >= length) return this.partial(data, copyFrom, rowStart, rowStartOut);
          if (data[at] === QUOTE) {
            if (data[at + 1] !== QUOTE) break;
            at++;
          }
          at++;
        }
        at++;
      } else {
        let byte = data[at];
        while (byte !== COMMA && byte !== NEWLINE) {
          if (++at >= length) return this.partial(data, copyFrom, rowStart, rowStartOut);
          byte = data[at];
        }
      }
      const kind = fields[field];
      if (kind !== 'plain' && at > fieldStart) {
        if (kind === 'timestamp') {
          this.flush(data, copyFrom, fieldStart, TIMESTAMP_BYTES);
          this.writeTimestamp(data, fieldStart, at);
          copyFrom = at;
        } else {
          const quoted = data[fieldStart] === QUOTE;
          const first = quoted ? fieldStart + 1 : fieldStart;
          if (first < at && startsFormula(data[first]!) && !(kind === 'address' && isPlainNumber(data, first, quoted ? at - 1 : at))) {
            this.flush(data, copyFrom, first, 1);
            this.out[this.outLength++] = APOSTROPHE;
            copyFrom = first;
          }
        }
      }
      if (data[at++] === NEWLINE) {
        if (field !== lastField) throw new ExportIntegrityError(`a CSV row has ${field + 1} columns, not ${fields.length}`);
        field = 0;
        rowStart = at;
        rowStartOut = this.outLength + (at - copyFrom);
        continue;
      }
      if (++field > lastSpecial) {
        // No field after this one changes: on to the row's end (a newline outside quotes).
        let quoted = false;
        for (;;) {
          if (at >= length) return this.partial(data, copyFrom, rowStart, rowStartOut);
          const byte = data[at++];
          if (byte === QUOTE) quoted = !quoted;
          else if (byte === NEWLINE && !quoted) break;
        }
        field = 0;
        rowStart = at;
        rowStartOut = this.outLength + (at - copyFrom);
      }
    }
    // The chunk ended between two fields of a row.
    if (rowStart < length) return this.partial(data, copyFrom, rowStart, rowStartOut);
    this.flush(data, copyFrom, length, 0);
    return this.out.subarray(0, this.outLength);
  }

  /** The COPY has ended: it must have ended on a row's end. */
  end(): void {
    if (this.rest && this.rest.length > 0) throw new ExportIntegrityError(`the CSV ends inside a row (${this.rest.length} bytes after the last row)`);
  }

  /**
   * `data` ends inside the row starting at `rowStart` (at `rowStartOut` in `out`): what `out` holds of that row
   * is dropped (the row is rendered again, whole, with the next chunk), and the rows before it are returned.
   */
  private partial(data: Buffer, copyFrom: number, rowStart: number, rowStartOut: number): Buffer {
    this.rest = data.subarray(rowStart);
    if (copyFrom < rowStart) this.flush(data, copyFrom, rowStart, 0);
    this.outLength = rowStartOut;
    return this.out.subarray(0, this.outLength);
  }

  /**
   * Copies data[from, to) to `out`, with room for `extra` bytes more after it: byte by byte when short (a call
   * into Buffer.copy costs more than a few dozen bytes).
   */
  private flush(data: Buffer, from: number, to: number, extra: number): void {
    const needed = this.outLength + (to - from) + extra;
    if (needed > this.out.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.out.length * 2, needed));
      this.out.copy(larger, 0, 0, this.outLength);
      this.out = larger;
    }
    if (to - from > SHORT_COPY) {
      this.outLength += data.copy(this.out, this.outLength, from, to);
      return;
    }
    const out = this.out;
    let o = this.outLength;
    for (let at = from; at < to; at++) out[o++] = data[at]!;
    this.outLength = o;
  }

  /**
   * data[from, to) is `YYYY-MM-DD HH:MM:SS[.f{1,6}]±HH[:MM[:SS]]` (PostgreSQL's ISO output of timestamptz); writes
   * `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]±HH:MM` (an offset's seconds, which only local mean times before 1900 have,
   * are dropped, as to_char's TZH:TZM does). `out` has room for it (TIMESTAMP_BYTES).
   */
  private writeTimestamp(data: Buffer, from: number, to: number): void {
    const out = this.out;
    if (to - from < 22 || data[from + 10] !== 0x20 || data[from + 4] !== MINUS) throw unexpectedTimestamp(data, from, to);
    let o = this.outLength;
    for (let at = from; at < from + 10; at++) out[o++] = data[at]!;
    out[o++] = T;
    for (let at = from + 11; at < from + 19; at++) out[o++] = data[at]!;
    let at = from + 19;
    if (data[at] === DOT) {
      const digitsFrom = at + 1;
      at = digitsFrom;
      while (at < to && isDigit(data[at]!)) at++;
      const digits = at - digitsFrom;
      if (digits === 0 || digits > 6) throw unexpectedTimestamp(data, from, to);
      out[o++] = DOT;
      for (let digit = digitsFrom; digit < at; digit++) out[o++] = data[digit]!;
      for (let pad = (digits <= 3 ? 3 : 6) - digits; pad > 0; pad--) out[o++] = ZERO;
    }
    // The offset: a sign and two digits, then maybe :MM and :SS.
    const sign = data[at];
    if ((sign !== PLUS && sign !== MINUS) || at + 3 > to) throw unexpectedTimestamp(data, from, to);
    out[o++] = sign;
    out[o++] = data[at + 1]!;
    out[o++] = data[at + 2]!;
    if (at + 3 === to) {
      out[o++] = COLON;
      out[o++] = ZERO;
      out[o++] = ZERO;
    } else if (data[at + 3] === COLON && at + 6 <= to) {
      out[o++] = COLON;
      out[o++] = data[at + 4]!;
      out[o++] = data[at + 5]!;
    } else {
      throw unexpectedTimestamp(data, from, to);
    }
    this.outLength = o;
  }
}

/** data[from, to) matches ^\+?[0-9]+$. */
function isPlainNumber(data: Buffer, from: number, to: number): boolean {
  let at = data[from] === PLUS ? from + 1 : from;
  if (at >= to) return false;
  for (; at < to; at++) if (!isDigit(data[at]!)) return false;
  return true;
}

function unexpectedTimestamp(data: Buffer, from: number, to: number): ExportIntegrityError {
  return new ExportIntegrityError(`PostgreSQL wrote a timestamp in a form the report cannot render: ${JSON.stringify(data.toString('utf8', from, Math.min(to, from + 40)))}`);
}
