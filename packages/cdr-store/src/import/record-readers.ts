/**
 * Readers that turn the text of an import file into records for an {@link ImportSession}: CSV with its header,
 * or NDJSON. Both take chunks of any size and report each record synchronously.
 */
import { CsvParser, type CsvRecordSink } from './csv-parser';
import type { ImportSession, RawRecordText } from './import-session';
import { LineSplitter } from './line-splitter';
import { CsvRecordMapper, parseNdjsonRecord } from './record-mapping';

export interface RecordReader {
  push(chunk: string): void;
  end(): void;
  /** The line where the next record starts: where an unreadable file stopped being readable. */
  readonly nextLine: number;
}

export class CsvRecordReader implements RecordReader, CsvRecordSink, RawRecordText {
  private readonly parser = new CsvParser(this);
  private mapper: CsvRecordMapper | undefined;

  constructor(private readonly session: ImportSession) {}

  get nextLine(): number {
    return this.parser.nextLine;
  }

  push(chunk: string): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
    if (!this.mapper && this.session.fatal === undefined) this.session.fail(1, 'header: the file has no header line');
  }

  record(fields: string[], line: number): void {
    if (this.session.fatal !== undefined) return;
    if (!this.mapper) {
      const mapper = CsvRecordMapper.forHeader(fields);
      if (typeof mapper === 'string') this.session.fail(line, mapper);
      else this.mapper = mapper;
      return;
    }
    const record = this.mapper.map(fields);
    if (typeof record === 'string') this.session.unreadable(line, record, this);
    else this.session.accept(record, line, this);
  }

  malformed(line: number, reason: string): void {
    if (this.session.fatal !== undefined) return;
    if (!this.mapper) this.session.fail(line, `header: ${reason}`);
    else this.session.unreadable(line, reason, this);
  }

  rawRecord(): string {
    return this.parser.rawRecord();
  }
}

export class NdjsonRecordReader implements RecordReader, RawRecordText {
  private readonly splitter: LineSplitter;
  private current = '';

  constructor(session: ImportSession) {
    this.splitter = new LineSplitter((text, line) => {
      this.current = text;
      const record = parseNdjsonRecord(text);
      if (typeof record === 'string') session.unreadable(line, record, this);
      else session.accept(record, line, this);
    });
  }

  get nextLine(): number {
    return this.splitter.nextLine;
  }

  push(chunk: string): void {
    this.splitter.push(chunk);
  }

  end(): void {
    this.splitter.end();
  }

  rawRecord(): string {
    return this.current;
  }
}
