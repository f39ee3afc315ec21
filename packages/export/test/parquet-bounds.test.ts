/**
 * The bounds a Parquet file split by bytes relies on (parquet-row-group.ts) hold on the data that compresses worst:
 * every row group takes at most rowGroupBound bytes in the file, and the footer at most footerBound, measured on
 * the real writer with random (incompressible) text in every string column and values of every width.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { CDR_COLUMN_NAMES, parquetColumns, type ReportRequest } from '@cdr-reports/domain';
import { reportRequest } from '@cdr-reports/testing';
import { ParquetFileWriter } from '../src/parquet-file-writer';
import { RowGroupBuffer, footerBound, rowGroupBound } from '../src/parquet-row-group';
import type { TypedField } from '../src/parquet-typed-csv-parser';

const text = (bytes: number) => randomBytes(Math.ceil(bytes * 0.75)).toString('base64').slice(0, bytes);
const pick = <T>(values: readonly T[]) => values[Math.floor(Math.random() * values.length)]!;

/** A typed-CSV record of every CDR column, as incompressible as the columns allow. */
function randomRecord(): TypedField[] {
  const micros = () => `2026-03-${String(1 + Math.floor(Math.random() * 28)).padStart(2, '0')}T${String(Math.floor(Math.random() * 24)).padStart(2, '0')}:00:00.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}Z`;
  const decimal = () => `${Math.floor(Math.random() * 1e11)}.${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const values: Record<string, TypedField> = {
    id: crypto.randomUUID(),
    account_id: text(12),
    product: 'VOICE-CALL',
    direction: pick(['inbound', 'outbound']),
    from: `+${Math.floor(Math.random() * 1e14)}`,
    to: `+${Math.floor(Math.random() * 1e14)}`,
    start_time: micros(),
    answer_time: pick([null, micros()]),
    end_time: pick([null, micros()]),
    duration: String(Math.floor(Math.random() * 2 ** 31)),
    billsec: String(Math.floor(Math.random() * 2 ** 31)),
    status: text(8),
    hangup_cause: pick([null, '', text(20)]),
    country: pick([null, text(2)]),
    network: pick([null, text(6)]),
    currency: text(3),
    price: decimal(),
    total_price: decimal(),
    parts: pick([null, String(Math.floor(Math.random() * 2 ** 31))]),
    client_ref: pick([null, text(40)]),
    message_body: pick([null, text(1 + Math.floor(Math.random() * 600)), `😀 ${text(100)} é`]),
  };
  return CDR_COLUMN_NAMES.map((name) => values[name]!);
}

describe('Parquet size bounds', () => {
  const request: ReportRequest = reportRequest({ product: 'VOICE-CALL', fields: [...CDR_COLUMN_NAMES], format: 'parquet', compression: 'zstd' });
  const columns = parquetColumns(request);

  it.each([1, 10, 700, 5000])('a row group of %i incompressible rows stays within its bound, and so does the footer', async (rows) => {
    const out = new PassThrough();
    let size = 0;
    out.on('data', (chunk: Buffer) => (size += chunk.length));
    const metadata = { 'cdr_reports.timezone': 'America/Argentina/ComodRivadavia' };
    const writer = new ParquetFileWriter(out, { columns, metadata });
    const groups = 6;
    for (let g = 0; g < groups; g++) {
      const group = new RowGroupBuffer(columns);
      for (let i = 0; i < rows; i++) {
        const record = randomRecord();
        group.add(record, group.rowBound(record));
      }
      const { values, valueBytes } = group.take();
      const before = writer.bytesWritten;
      await writer.writeRowGroup(values, rows);
      const taken = writer.bytesWritten - before;
      expect(taken).toBeLessThanOrEqual(rowGroupBound(valueBytes, columns.length));
    }
    await writer.finish();
    const metadataBytes = 'cdr_reports.timezone'.length + metadata['cdr_reports.timezone'].length + 16;
    expect(writer.footerBytes).toBeLessThanOrEqual(footerBound(columns, groups, metadataBytes));
    // The bound is not wildly above what a footer takes (it decides how full a split file gets).
    expect(writer.footerBytes).toBeGreaterThan(footerBound(columns, groups, metadataBytes) / 4);
    expect(size).toBe(writer.bytesWritten);
  });
});
