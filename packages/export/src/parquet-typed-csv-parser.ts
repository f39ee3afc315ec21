import { StringDecoder } from 'node:string_decoder';
import { ExportIntegrityError } from '@cdr-reports/domain';

/** A field of the typed CSV: its text, or null for SQL NULL. */
export type TypedField = string | null;

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Parses the typed CSV that PostgreSQL's COPY writes (RFC 4180: fields with commas, quotes, CR or LF are quoted,
 * quotes doubled) into records of exactly `columns` fields, telling NULL from the empty string the way PostgreSQL
 * writes them: NULL is an unquoted empty field, '' is `""`. Chunks may cut a record, a field or a UTF-8 character
 * anywhere. Calls `onRecord` synchronously once per record, in order; the array is the caller's to keep.
 *
 * The input is produced by PostgreSQL, not by a person: anything that is not that shape (a stray quote, a record
 * of the wrong width, bytes after the last line end) means the stream is not what the query wrote, and fails the
 * export as an integrity error rather than being guessed at.
 */
export class TypedCsvParser {
  private readonly decoder = new StringDecoder('utf8');
  /** The text of the record under way, from earlier chunks. */
  private leftover = '';
  /** Chunks that arrived after `leftover`, not parsed yet. */
  private waiting: string[] = [];
  private waitingLength = 0;
  /** Index of the next quote in the text being parsed at or after the current record (Infinity: none). */
  private nextQuote = -1;
  /** Records parsed so far. */
  records = 0;

  constructor(
    private readonly columns: number,
    private readonly onRecord: (fields: TypedField[]) => void,
  ) {}

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    if (text === '') return;
    if (this.leftover === '') {
      this.parse(text);
      return;
    }
    this.waiting.push(text);
    this.waitingLength += text.length;
    // Re-parse an unfinished record only once at least as much new text has arrived as it already holds: a
    // message body longer than many chunks then costs linear time, not quadratic.
    if (this.waitingLength < this.leftover.length) return;
    this.parseWaiting();
  }

  /** The input has ended: it must end with a complete record. */
  end(): void {
    const rest = this.decoder.end();
    if (rest !== '') this.waiting.push(rest);
    if (this.leftover !== '' || this.waiting.length > 0) this.parseWaiting();
    if (this.leftover !== '') throw new ExportIntegrityError(`the typed CSV ends inside a record (${this.leftover.length} characters after the last line end)`);
  }

  private parseWaiting(): void {
    const text = this.leftover + this.waiting.join('');
    this.leftover = '';
    this.waiting = [];
    this.waitingLength = 0;
    this.parse(text);
  }

  private parse(text: string): void {
    this.nextQuote = -1;
    let pos = 0;
    while (pos < text.length) {
      const next = this.parseRecord(text, pos);
      if (next === -1) {
        this.leftover = text.slice(pos);
        return;
      }
      pos = next;
    }
  }

  /** Parses the record at `pos` and returns where the next one starts, or -1 when the text ends first. */
  private parseRecord(text: string, pos: number): number {
    const lf = text.indexOf('\n', pos);
    if (lf === -1) return -1;
    if (this.nextQuote < pos) {
      const quote = text.indexOf('"', pos);
      this.nextQuote = quote === -1 ? Infinity : quote;
    }
    // The common case: no quoted field on this line (no text with a comma, quote or line end, no empty string).
    if (this.nextQuote > lf) {
      const end = lf > pos && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
      const fields: TypedField[] = text.slice(pos, end).split(',');
      for (let i = 0; i < fields.length; i++) if (fields[i] === '') fields[i] = null;
      this.emit(fields);
      return lf + 1;
    }
    const fields: TypedField[] = [];
    const length = text.length;
    let i = pos;
    for (;;) {
      let c: number;
      if (text.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          // The closing quote, or the first of a doubled one: which, the next character tells.
          if (quote === -1 || quote + 1 >= length) return -1;
          value += text.slice(from, quote);
          if (text.charCodeAt(quote + 1) === QUOTE) {
            value += '"';
            from = quote + 2;
            continue;
          }
          i = quote + 1;
          break;
        }
        fields.push(value);
        c = text.charCodeAt(i);
      } else {
        const start = i;
        c = text.charCodeAt(i);
        while (i < length && c !== COMMA && c !== LF && c !== CR && c !== QUOTE) c = text.charCodeAt(++i);
        if (i >= length) return -1;
        if (c === QUOTE) throw this.malformed('a quote inside an unquoted field');
        fields.push(i === start ? null : text.slice(start, i));
      }
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === CR) {
        if (i + 1 >= length) return -1;
        if (text.charCodeAt(i + 1) !== LF) throw this.malformed('a carriage return outside quotes');
        i++;
        c = LF;
      }
      if (c === LF) {
        this.nextQuote = -1;
        this.emit(fields);
        return i + 1;
      }
      throw this.malformed('a character after a closing quote');
    }
  }

  private emit(fields: TypedField[]): void {
    if (fields.length !== this.columns) throw this.malformed(`${fields.length} fields where ${this.columns} columns were asked for`);
    this.records++;
    this.onRecord(fields);
  }

  private malformed(reason: string): ExportIntegrityError {
    return new ExportIntegrityError(`the typed CSV is malformed after record ${this.records}: ${reason}`);
  }
}
