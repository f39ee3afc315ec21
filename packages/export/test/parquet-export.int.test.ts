/**
 * Parquet reports through the exporter, against the real PostgreSQL and the embedded S3 server, read back by DuckDB
 * and compared cell by cell with the CSV report of the same request: the same rows in the same order, instants
 * equal to the microsecond (the CSV writes them in the request's zone, Parquet as UTC instants), decimals equal
 * exactly, text equal (the CSV escapes formulas, Parquet keeps the value), and NULL told apart from ''.
 */
import { importCdrRecords, PostgresCdrSource } from '@cdr-reports/cdr-store';
import { CDR_COLUMNS, CDR_COLUMN_NAMES, type ReportRequest } from '@cdr-reports/domain';
import { exportReport, type ExportDependencies, type ExportJob } from '@cdr-reports/export';
import { createLogger } from '@cdr-reports/logging';
import { S3ObjectStore, type ObjectStore } from '@cdr-reports/object-store';
import { cdrFactory, createTestDatabase, downloadObject, gunzip, keysUnder, micros, normalDecimal, ParquetReader, parseCsv, reportRequest, startTestS3, type TestDatabase, type TestS3 } from '@cdr-reports/testing';

const MIB = 1024 * 1024;
const FORMULA_START = /^[=+\-@\t\r]/;

describe('exportReport as Parquet', () => {
  let db: TestDatabase;
  let s3: TestS3;
  let store: ObjectStore;
  let deps: ExportDependencies;
  let reader: ParquetReader;
  let reportNumber = 0;

  beforeAll(async () => {
    [db, s3, reader] = await Promise.all([createTestDatabase(), startTestS3(), ParquetReader.open()]);
    store = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, partSize: 5 * MIB });
    // One-hour segments: a report of a day crosses many COPYs, each a new stream of typed CSV.
    deps = { source: new PostgresCdrSource(db.pool), store, logger: createLogger({ app: 'test', level: 'silent' }), compressionLevel: 6, segmentMs: 3_600_000 };
    // Microsecond instants: record n starts n × 7.001 s into 10 March, plus n % 1000 µs; answered 1 s later, written
    // with a +02:00 offset.
    const at = (n: number, laterMs: number, offsetHours: number) =>
      `${new Date(Date.UTC(2026, 2, 10) + n * 7_001 + laterMs + offsetHours * 3_600_000).toISOString().slice(0, 23)}${String(n % 1000).padStart(3, '0')}${offsetHours === 0 ? 'Z' : `+0${offsetHours}:00`}`;
    const voice = cdrFactory({
      idGroup: '9101',
      startTime: (n) => at(n, 0, 0),
      endAfterMs: 90_000,
      columns: { product: 'VOICE-CALL', status: 'answered', duration: '61', billsec: '60', parts: null, message_body: null },
    });
    const awkward = [
      '=HYPERLINK("http://evil")',
      '+cmd|/C calc',
      '-1+2',
      '@SUM(A1)',
      'a "quoted", comma',
      'two\nlines\r\nthree',
      '😀 émoji',
      '\ttab first',
    ];
    const records = Array.from({ length: 5000 }, (_, i) =>
      voice({
        from: '+442071838750',
        answer_time: i % 3 === 0 ? null : at(i + 1, 1000, 2),
        hangup_cause: i % 2 === 0 ? null : 'NORMAL_CLEARING',
        country: i % 11 === 0 ? null : 'FR',
        price: `0.${String((i * 7919) % 100_000_000).padStart(8, '0')}`,
        total_price: i === 1 ? '999999999999.99999999' : i === 2 ? '-0.00000001' : `${i}.0125`,
        client_ref: i % 5 === 0 ? null : awkward[i % awkward.length]!,
      }),
    );
    const sms = cdrFactory({ idGroup: '9102', startTime: (n) => new Date(Date.UTC(2026, 2, 11, 0, 0, 0) + n * 60_000).toISOString(), endAfterMs: 4500 });
    records.push(...Array.from({ length: 300 }, (_, i) => sms({ parts: i % 4 === 0 ? null : String(1 + (i % 3)), message_body: i % 9 === 0 ? null : `msg ${i} "hi"\n=x` })));
    expect(await importCdrRecords(db.pool, () => records)).toMatchObject({ status: 'loaded', inserted: records.length });
    // What the importer refuses or cannot say, put there by hand: an empty string (the importer reads an empty
    // nullable value as NULL), and a sender that starts like a formula.
    await db.pool.query(`UPDATE cdrs SET client_ref = '' WHERE id IN ('00000000-0000-4000-9101-000000000010', '00000000-0000-4000-9101-000000000020')`);
    await db.pool.query(`UPDATE cdrs SET "from" = '=1+1' WHERE id = '00000000-0000-4000-9101-000000000007'`);
    await db.pool.query('ANALYZE cdrs');
  });

  afterAll(async () => {
    await reader?.close();
    await s3?.close();
    await db?.drop();
  });

  function job(request: ReportRequest, changes: Partial<ExportJob> = {}): ExportJob {
    reportNumber++;
    return {
      reportId: `8e1c2b8e-3a4d-4e5f-9a0b-${String(reportNumber).padStart(12, '0')}`,
      request,
      accountIds: [request.account_id],
      signal: new AbortController().signal,
      onProgress: async () => undefined,
      ...changes,
    };
  }



  /** The CSV report of `request` as rows of objects (header names as keys), parsed by Python. */
  async function csvReport(request: ReportRequest): Promise<Array<Record<string, string>>> {
    const result = await exportReport(deps, job({ ...request, format: 'csv', compression: 'gzip' }));
    const [header, ...rows] = await parseCsv(await gunzip(await downloadObject(store, result.fileKey)));
    return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i]!])));
  }

  /**
   * The value the CSV holds for a Parquet cell of column `name` (as DuckDB renders it): NULL and '' both empty,
   * instants as microseconds, decimals without trailing zeros (the CSV keeps the table's digits, 0.00000000, the
   * DECIMAL(20,8) has eight), formula-like text escaped as the CSV escapes it.
   */
  function csvCell(name: string, parquet: string | null): string {
    if (parquet === null) return '';
    const column = CDR_COLUMNS.find((c) => c.name === name);
    if (column?.timestamp) return parquet;
    if (column?.sqlType === 'numeric') return normalDecimal(parquet);
    const escaped = column?.kind === 'free-text' || (column?.kind === 'address' && !/^\+?[0-9]+$/.test(parquet));
    return escaped && FORMULA_START.test(parquet) ? `'${parquet}` : parquet;
  }

  it('holds exactly the CSV report of the same request, cell by cell, with every column typed', async () => {
    const request = reportRequest({
      product: 'VOICE-CALL',
      fields: [...CDR_COLUMN_NAMES],
      date_start: '2026-03-10T00:00:00Z',
      date_end: '2026-03-11T00:00:00Z',
      timezone: 'Asia/Kolkata',
      format: 'parquet',
      compression: 'zstd',
    });
    const parquetJob = job(request);
    const result = await exportReport(deps, parquetJob);
    expect(result.itemsCount).toBe(5000);
    expect(result.summary.records).toBe(5000);
    expect(result.files).toEqual([
      expect.objectContaining({ name: `VOICE-CALL_${parquetJob.reportId}.parquet`, rows: 5000, content_type: 'application/vnd.apache.parquet' }),
    ]);
    expect(result.fileKey).toBe(`reports/acme/${parquetJob.reportId}/VOICE-CALL_${parquetJob.reportId}.parquet`);

    const content = await reader.read(await downloadObject(store, result.fileKey));
    expect(content.metadata).toEqual({ 'cdr_reports.timezone': 'Asia/Kolkata' });
    expect(Object.fromEntries(content.schema.map((column) => [column.name, column.duckdb_type]))).toMatchObject({
      start_time: 'TIMESTAMP WITH TIME ZONE',
      duration: 'INTEGER',
      price: 'DECIMAL(20,8)',
      total_price: 'DECIMAL(20,8)',
      client_ref: 'VARCHAR',
    });

    const csv = await csvReport(request);
    expect(content.rows).toHaveLength(csv.length);
    // Each Parquet row as the CSV must hold it, and the CSV's rows with instants and decimals read as values.
    const asCsv = content.rows.map((row) => Object.fromEntries(CDR_COLUMN_NAMES.map((name) => [name, csvCell(name, row[name]!)])));
    const csvRead = csv.map((row) =>
      Object.fromEntries(
        CDR_COLUMN_NAMES.map((name) => {
          const column = CDR_COLUMNS.find((c) => c.name === name)!;
          const value = row[name]!;
          if (column.timestamp) return [name, value === '' ? '' : String(micros(value))];
          return [name, column.sqlType === 'numeric' ? normalDecimal(value) : value];
        }),
      ),
    );
    expect(asCsv).toEqual(csvRead);
    // What the CSV cannot tell: NULL and '' are two values in Parquet.
    const refs = new Map(content.rows.map((row) => [row.id, row.client_ref]));
    expect(refs.get('00000000-0000-4000-9101-000000000010')).toBe('');
    expect(refs.get('00000000-0000-4000-9101-000000000001')).toBeNull();
    expect(refs.get('00000000-0000-4000-9101-000000000004')).toBe('@SUM(A1)');
    expect(content.rows.find((row) => row.id === '00000000-0000-4000-9101-000000000007')?.from).toBe('=1+1');
    // Exact decimals at both ends of the column's range, and the sum DuckDB computes over the file.
    expect(content.rows[1]!.total_price).toBe('999999999999.99999999');
    expect(content.rows[2]!.total_price).toBe('-0.00000001');
    const path = await reader.file(await downloadObject(store, result.fileKey));
    const [sums] = await reader.query(`SELECT sum(total_price)::VARCHAR AS total, count(answer_time) AS answered FROM '${path}'`);
    expect(normalDecimal(String(sums!.total))).toBe(result.summary.total_price.GBP);
    // Column chunks in zstd, without bloom filters (their dictionaries already filter exactly; the filters would
    // be held in memory until the file ends), in row groups of 2,048 rows (the report has message_body).
    const chunks = await reader.query(
      `SELECT row_group_id, row_group_num_rows AS rows, compression, bloom_filter_length AS bloom FROM parquet_metadata('${path}')`,
    );
    expect(new Set(chunks.map((chunk) => chunk.compression))).toEqual(new Set(['ZSTD']));
    expect(chunks.filter((chunk) => chunk.bloom !== null && Number(chunk.bloom) > 0)).toEqual([]);
    expect(new Set(chunks.map((chunk) => Number(chunk.rows)))).toEqual(new Set([2048, 5000 - 2 * 2048]));
  });

  it('writes a usage report: day as DATE, dimensions as strings (NULL kept), counts as INT64, totals exact', async () => {
    const request = reportRequest({
      type: 'usage',
      product: 'VOICE-CALL',
      date_start: '2026-03-10T00:00:00Z',
      date_end: '2026-03-12T00:00:00Z',
      timezone: 'America/New_York',
      dimensions: ['day', 'country'],
      metrics: ['count', 'duration', 'total_price', 'answer_rate'],
      fields: ['day', 'country', 'count', 'duration', 'total_price', 'answer_rate'],
      format: 'parquet',
      compression: 'zstd',
    });
    const result = await exportReport(deps, job(request));
    expect(result.files[0]!.name).toMatch(/^usage_VOICE-CALL_.*\.parquet$/);
    const content = await reader.read(await downloadObject(store, result.fileKey));
    expect(Object.fromEntries(content.schema.map((column) => [column.name, `${column.duckdb_type} ${column.repetition_type}`]))).toEqual({
      day: 'DATE OPTIONAL',
      country: 'VARCHAR OPTIONAL',
      count: 'BIGINT OPTIONAL',
      duration: 'BIGINT OPTIONAL',
      total_price: 'DECIMAL(38,8) OPTIONAL',
      answer_rate: 'DECIMAL(5,4) OPTIONAL',
    });
    const csv = await csvReport(request);
    expect(content.rows.length).toBe(csv.length);
    expect(content.rows.some((row) => row.country === null)).toBe(true);
    for (const [index, row] of content.rows.entries()) {
      const csvRow = csv[index]!;
      expect({
        day: row.day,
        country: row.country ?? '',
        count: row.count,
        duration: row.duration,
        total_price: normalDecimal(row.total_price!),
        answer_rate: normalDecimal(row.answer_rate!),
      }).toEqual({ ...csvRow, total_price: normalDecimal(csvRow.total_price!), answer_rate: normalDecimal(csvRow.answer_rate!) });
    }
  });

  it('splits by rows and by bytes, each file a valid Parquet file alone, the rows adding up in order', async () => {
    const request = reportRequest({ product: 'VOICE-CALL', fields: [...CDR_COLUMN_NAMES], date_start: '2026-03-10T00:00:00Z', date_end: '2026-03-11T00:00:00Z', format: 'parquet', compression: 'zstd' });
    const whole = await reader.read(await downloadObject(store, (await exportReport(deps, job(request))).fileKey));
    const ids = whole.rows.map((row) => row.id);

    const byRows = job(request, { limits: { maxFileRows: 1200 } });
    const rows = await exportReport(deps, byRows);
    expect(rows.files.map((file) => file.rows)).toEqual([1200, 1200, 1200, 1200, 200]);
    expect(rows.files[4]!.name).toBe(`VOICE-CALL_${byRows.reportId}_part00005.parquet`);
    const rowIds: Array<string | null> = [];
    for (const file of rows.files) rowIds.push(...(await reader.read(await downloadObject(store, file.key))).rows.map((row) => row.id!));
    expect(rowIds).toEqual(ids);

    const bytes = await exportReport(deps, job(request, { limits: { maxFileBytes: MIB } }));
    const byteIds: Array<string | null> = [];
    for (const file of bytes.files) {
      expect(file.size_bytes).toBeLessThanOrEqual(MIB);
      const content = await reader.read(await downloadObject(store, file.key));
      expect(content.rows).toHaveLength(file.rows);
      byteIds.push(...content.rows.map((row) => row.id!));
    }
    expect(byteIds).toEqual(ids);
  });

  it('stores an empty report as a valid file with the schema and no rows', async () => {
    const request = reportRequest({ fields: ['id', 'start_time', 'total_price'], date_start: '2026-02-01T00:00:00Z', date_end: '2026-02-02T00:00:00Z', format: 'parquet', compression: 'zstd' });
    const result = await exportReport(deps, job(request));
    expect(result).toMatchObject({ itemsCount: 0, files: [expect.objectContaining({ rows: 0 })] });
    const content = await reader.read(await downloadObject(store, result.fileKey));
    expect(content.schema.map((column) => `${column.name} ${column.duckdb_type}`)).toEqual(['id VARCHAR', 'start_time TIMESTAMP WITH TIME ZONE', 'total_price DECIMAL(20,8)']);
    expect(content.rows).toEqual([]);
  });

  it('leaves no file behind when aborted after some files are stored', async () => {
    const controller = new AbortController();
    const request = reportRequest({ product: 'VOICE-CALL', fields: [...CDR_COLUMN_NAMES], date_start: '2026-03-10T00:00:00Z', date_end: '2026-03-11T00:00:00Z', format: 'parquet', compression: 'zstd' });
    const aborted = job(request, {
      signal: controller.signal,
      limits: { maxFileRows: 500 },
      onProgress: async () => {
        if ((await keysUnder(store, `reports/acme/${aborted.reportId}/`)).length > 0) controller.abort();
      },
    });
    await expect(exportReport({ ...deps, progressRows: 100 }, aborted)).rejects.toMatchObject({ name: 'AbortError' });
    expect(await keysUnder(store, `reports/acme/${aborted.reportId}/`)).toEqual([]);
  });
});
