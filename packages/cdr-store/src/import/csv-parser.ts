/**
 * A streaming RFC 4180 CSV parser over large string chunks: quoted fields with commas, doubled quotes and
 * embedded CR/LF, LF or CRLF record ends, a leading byte order mark. It calls its sink synchronously, once
 * per record, so a caller can batch thousands of records per chunk without a promise or a stream chunk each.
 */

/** Receives what a {@link CsvParser} finds, in input order. */
export interface CsvRecordSink {
  /** A well-formed record; `line` is the physical line (1-based) where it starts. */
  record(fields: string[], line: number): void;
  /** A record that breaks RFC 4180; parsing goes on at the next line. */
  malformed(line: number, reason: string): void;
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const BOM = '\uFEFF';

// A record-level outcome of parseRecord besides "a record ends at `recordEnd`".
const INCOMPLETE = -1;

export class CsvParser {
  private readonly sink: CsvRecordSink;
  // The text of an unfinished record from earlier chunks, and the chunks that arrived after it.
  private leftover = '';
  private waiting: string[] = [];
  private waitingLength = 0;
  private atStart = true;
  private line = 1;
  // Bounds of the record being reported, in `text`, for rawRecord().
  private text = '';
  private recordStart = 0;
  private recordEnd = 0;
  // Outputs of parseRecord, kept on the instance so the hot loop allocates nothing but the fields.
  private fields: string[] = [];
  private nextPos = 0;
  private recordLines = 0;
  private error: string | undefined;
  // Index of the next double quote in `text` at or after the current record (Infinity: none), so that
  // the search runs once per quote, not once per record.
  private nextQuote = -1;

  constructor(sink: CsvRecordSink) {
    this.sink = sink;
  }

  /** Parses the next piece of the document; a record may span any number of pieces. */
  push(chunk: string): void {
    if (this.atStart) {
      if (chunk === '') return;
      this.atStart = false;
      if (chunk.startsWith(BOM)) chunk = chunk.slice(1);
    }
    if (this.leftover === '') {
      this.parse(chunk, false);
      return;
    }
    this.waiting.push(chunk);
    this.waitingLength += chunk.length;
    // Re-parse an unfinished record only once at least as much new text has arrived as it already holds:
    // a huge quoted field then costs linear time, not quadratic.
    if (this.waitingLength < this.leftover.length) return;
    this.parseWaiting(false);
  }

  /** Parses whatever is left: the last record needs no line end. */
  end(): void {
    this.parseWaiting(true);
  }

  /** The physical line where the next record starts: how far parsing got. */
  get nextLine(): number {
    return this.line;
  }

  /** The text of the record being reported to the sink, as it appeared in the input, without its line end. */
  rawRecord(): string {
    return this.text.slice(this.recordStart, this.recordEnd);
  }

  private parseWaiting(final: boolean): void {
    const text = this.leftover + this.waiting.join('');
    this.leftover = '';
    this.waiting = [];
    this.waitingLength = 0;
    this.parse(text, final);
  }

  private parse(text: string, final: boolean): void {
    this.text = text;
    this.nextQuote = -1;
    let pos = 0;
    while (pos < text.length) {
      const end = this.parseRecord(text, pos, final);
      if (end === INCOMPLETE) {
        this.leftover = text.slice(pos);
        return;
      }
      this.recordStart = pos;
      this.recordEnd = end;
      const line = this.line;
      this.line += this.recordLines;
      pos = this.nextPos;
      if (this.error !== undefined) this.sink.malformed(line, this.error);
      else if (this.fields.length > 0) this.sink.record(this.fields, line);
    }
  }

  /**
   * Reads one record starting at `pos`. Returns the index where its text ends (before the line end) and sets
   * fields, nextPos, recordLines and error; or INCOMPLETE when the text ends before the record does.
   * An empty line yields no fields: it is not a record.
   */
  private parseRecord(text: string, pos: number, final: boolean): number {
    const length = text.length;
    this.error = undefined;
    let lf = text.indexOf('\n', pos);
    if (lf === -1) {
      if (!final) return INCOMPLETE;
      lf = length;
    }
    if (this.nextQuote < pos) {
      const quote = text.indexOf('"', pos);
      this.nextQuote = quote === -1 ? Infinity : quote;
    }
    if (this.nextQuote > lf) return this.parseUnquotedLine(text, pos, lf);

    const fields: string[] = [];
    this.fields = fields;
    let lines = 1;
    let i = pos;
    for (;;) {
      let c: number;
      if (text.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote === -1 || (quote + 1 === length && !final)) {
            if (!final) return INCOMPLETE;
            return this.fail(text, length, lines + countLf(text, from, length), 'a quoted field is not closed');
          }
          lines += countLf(text, from, quote);
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
        if (i >= length) return this.finish(length, length, lines);
        c = text.charCodeAt(i);
        if (c !== COMMA && c !== LF && c !== CR) {
          return this.skipLine(text, i, final, lines, 'unexpected character after a closing quote');
        }
      } else {
        const start = i;
        c = text.charCodeAt(i);
        while (i < length && c !== COMMA && c !== LF && c !== CR && c !== QUOTE) c = text.charCodeAt(++i);
        if (i >= length) {
          if (!final) return INCOMPLETE;
          fields.push(text.slice(start, i));
          return this.finish(length, length, lines);
        }
        if (c === QUOTE) return this.skipLine(text, i, final, lines, 'a quote inside an unquoted field');
        fields.push(text.slice(start, i));
      }
      if (c === COMMA) {
        i++;
        if (i >= length) {
          if (!final) return INCOMPLETE;
          fields.push('');
          return this.finish(length, length, lines);
        }
        continue;
      }
      if (c === LF) return this.finish(i, i + 1, lines);
      // CR: only as part of CRLF.
      if (i + 1 >= length && !final) return INCOMPLETE;
      if (text.charCodeAt(i + 1) === LF) return this.finish(i, i + 2, lines);
      return this.skipLine(text, i, final, lines, 'a carriage return outside quotes that is not part of CRLF');
    }
  }

  /**
   * The common case, a line without any double quote: native split() does the work. `lf` is the index of the
   * line's LF, or the text's length for a last line without one.
   */
  private parseUnquotedLine(text: string, pos: number, lf: number): number {
    const end = lf < text.length && lf > pos && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    const line = text.slice(pos, end);
    this.nextPos = lf + 1;
    this.recordLines = 1;
    if (line.indexOf('\r') !== -1) {
      this.error = 'a carriage return outside quotes that is not part of CRLF';
      this.fields = [];
    } else {
      // An empty line yields no fields: it is not a record.
      this.fields = line === '' ? [] : line.split(',');
    }
    return end;
  }

  private finish(end: number, next: number, lines: number): number {
    this.nextPos = next;
    this.recordLines = lines;
    return end;
  }

  /** A malformed record ends at the next line end after the problem (or at the end of the input). */
  private skipLine(text: string, at: number, final: boolean, lines: number, reason: string): number {
    const lf = text.indexOf('\n', at);
    if (lf === -1) {
      if (!final) return INCOMPLETE;
      return this.fail(text, text.length, lines, reason);
    }
    return this.fail(text, lf, lines, reason, lf + 1);
  }

  /** Ends a malformed record at `end` (its raw text leaves out the CR of a CRLF line end). */
  private fail(text: string, end: number, lines: number, reason: string, next = end): number {
    this.error = reason;
    this.fields = [];
    this.nextPos = next;
    this.recordLines = lines;
    return next > end && text.charCodeAt(end - 1) === CR ? end - 1 : end;
  }
}

/** How many LF characters lie in text[from, to). */
function countLf(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
