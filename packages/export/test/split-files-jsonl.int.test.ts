/**
 * JSON Lines reports through the exporter, against the real PostgreSQL and the embedded S3 server: one file, split
 * files (by rows, by compressed bytes, zip), fan-out parts and the empty report. Every file is read back alone by
 * gunzip/unzip and Python's json module; no file has a header; the files (or parts) together are the unsplit file.
 * The rows' strings hold an odd number of `"` bytes, which a quote-aware CSV counter would take for an open field.
 */
import { createHash } from 'node:crypto';
import { importCdrRecords, PostgresCdrSource } from '@cdr-reports/cdr-store';
import type { ReportRequest } from '@cdr-reports/domain';
import { exportReport, sha256OfObject, type ExportDependencies, type ExportJob } from '@cdr-reports/export';
import { createLogger } from '@cdr-reports/logging';
import { S3ObjectStore, type ObjectStore } from '@cdr-reports/object-store';
import { cdrFactory, createTestDatabase, downloadObject, gunzip, jsonObjects, keysUnder, parseJsonLines, reportRequest, startTestS3, unzip, type TestDatabase, type TestS3 } from '@cdr-reports/testing';

const MIB = 1024 * 1024;
const FIELDS = ['id', 'start_time', 'to', 'status', 'duration', 'client_ref', 'message_body', 'total_price'];

/** Deterministic text that compresses little (so that a few MiB of gzip take tens of thousands of rows, not millions). */
function noise(seed: number, length: number): string {
  let state = seed;
  let text = '';
  while (text.length < length) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    text += state.toString(36);
  }
  return text.slice(0, length);
}

function cdrs(account: string, idGroup: string, count: number, day: number) {
  const cdr = cdrFactory({
    idGroup,
    startTime: (n) => new Date(Date.UTC(2026, 2, day, 0, 0, 0) + n * 5_000).toISOString(),
    endAfterMs: 4500,
    columns: { account_id: account },
  });
  return Array.from({ length: count }, (_, i) =>
    cdr({
      // One quote: odd. A line end and a backslash, escaped in JSON.
      client_ref: i % 3 === 0 ? `ref, "${i}\nsecond \\ line` : `ref-${i}`,
      message_body: i % 4 === 0 ? `Hello\n"${noise(i, 60)}"\r\nbye "` : noise(i + 7, 120),
      duration: String(i % 600),
    }),
  );
}

describe('exportReport: JSON Lines', () => {
  let db: TestDatabase;
  let s3: TestS3;
  let store: ObjectStore;
  let deps: ExportDependencies;
  let reportNumber = 0;

  /** 10,000 rows of acme on 10 March; 30,000 of globex over 11-13 March. */
  const ROWS_REQUEST = reportRequest({ account_id: 'acme', fields: FIELDS, format: 'jsonl', date_start: '2026-03-10T00:00:00Z', date_end: '2026-03-11T00:00:00Z' });
  const BYTES_REQUEST = reportRequest({ account_id: 'globex', fields: FIELDS, format: 'jsonl', date_start: '2026-03-11T00:00:00Z', date_end: '2026-03-14T00:00:00Z' });

  beforeAll(async () => {
    [db, s3] = await Promise.all([createTestDatabase(), startTestS3()]);
    store = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, partSize: 5 * MIB });
    deps = { source: new PostgresCdrSource(db.pool), store, logger: createLogger({ app: 'test', level: 'silent' }), compressionLevel: 6 };
    const records = [...cdrs('acme', '8201', 10_000, 10), ...cdrs('globex', '8202', 10_000, 11), ...cdrs('globex', '8203', 10_000, 12), ...cdrs('globex', '8204', 10_000, 13)];
    expect(await importCdrRecords(db.pool, () => records)).toMatchObject({ status: 'loaded', inserted: records.length });
    await db.pool.query('ANALYZE cdrs');
  });

  afterAll(async () => {
    await s3?.close();
    await db?.drop();
  });

  function nextReportId(): string {
    reportNumber++;
    return `7a2d3c9f-4b5e-4f60-8b1c-${String(reportNumber).padStart(12, '0')}`;
  }

  function job(request: ReportRequest, changes: Partial<ExportJob> = {}): ExportJob {
    return { reportId: nextReportId(), request, accountIds: [request.account_id], signal: new AbortController().signal, onProgress: async () => undefined, ...changes };
  }



  const folderOf = (request: ReportRequest, reportId: string) => `reports/${request.account_id}/${reportId}/`;
  const decompress = async (bytes: Buffer, compression: 'gzip' | 'zip') => (compression === 'gzip' ? gunzip(bytes) : (await unzip(bytes)).content);

  /** The unsplit report's JSON Lines, checked line by line against the request's fields. */
  async function unsplit(request: ReportRequest): Promise<Buffer> {
    const result = await exportReport(deps, job(request));
    expect(result.files).toHaveLength(1);
    const bytes = await downloadObject(store, result.fileKey);
    expect(result.files[0]!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const text = await decompress(bytes, request.compression as 'gzip' | 'zip');
    const lines = await parseJsonLines(text);
    expect(lines).toHaveLength(result.itemsCount);
    for (const line of lines) expect(line.map((cell) => cell.name)).toEqual(FIELDS);
    return text;
  }

  /**
   * Every file stored under its name, as hashed and sized, valid alone, parsed by Python into exactly its rows with
   * no header line; and the files' JSON Lines joined are the unsplit report's, byte for byte.
   */
  async function expectCompleteFiles(result: Awaited<ReturnType<typeof exportReport>>, unsplitText: Buffer, compression: 'gzip' | 'zip'): Promise<void> {
    const texts: Buffer[] = [];
    for (const file of result.files) {
      const bytes = await downloadObject(store, file.key);
      expect({ name: file.name, size: bytes.length }).toEqual({ name: file.name, size: file.size_bytes });
      expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(await sha256OfObject(store, file.key)).toBe(file.sha256);
      expect((await store.head(file.key))?.contentType).toBe(file.content_type);
      const text = await decompress(bytes, compression);
      const lines = await parseJsonLines(text);
      expect({ name: file.name, rows: lines.length }).toEqual({ name: file.name, rows: file.rows });
      expect(lines[0]!.map((cell) => cell.name)).toEqual(FIELDS);
      texts.push(text);
    }
    expect(Buffer.concat(texts).equals(unsplitText)).toBe(true);
    expect(result.files.reduce((total, file) => total + file.rows, 0)).toBe(result.itemsCount);
    expect(result.fileKey).toBe(result.files[0]!.key);
  }

  it('writes one object per record, in (start_time, id) order, numbers and strings as their columns are', async () => {
    const result = await exportReport(deps, job(ROWS_REQUEST));
    expect(result.itemsCount).toBe(10_000);
    expect(result.summary.records).toBe(10_000);
    expect(result.files[0]!.name).toMatch(/^SMS_[0-9a-f-]{36}\.jsonl\.gz$/);
    const text = await unsplit(ROWS_REQUEST);
    // An odd number of quotes on a line is common here: the records were counted by newlines, not as CSV.
    expect(text.toString('utf8').split('\n').filter((line) => (line.match(/"/g)?.length ?? 0) % 2 === 1).length).toBeGreaterThan(1000);
    const objects = jsonObjects(await parseJsonLines(text));
    expect(objects[0]).toEqual({
      id: '00000000-0000-4000-8201-000000000001',
      start_time: '2026-03-10T00:00:05+00:00',
      to: '+447700900123',
      status: 'delivered',
      duration: 0,
      client_ref: 'ref, "0\nsecond \\ line',
      message_body: expect.any(String),
      total_price: '0.0360',
    });
    expect(objects[1]).toMatchObject({ client_ref: 'ref-1', duration: 1 });
    expect(objects.map((object) => object.start_time)).toEqual([...objects.map((object) => object.start_time)].sort());
  });

  it('splits by rows: 10,000 rows at 3,000 a file make 4 files of 3000/3000/3000/1000 rows named _part0000N.jsonl.gz', async () => {
    const split = job(ROWS_REQUEST, { limits: { maxFileRows: 3000 } });
    const result = await exportReport(deps, split);
    expect(result.files.map((file) => file.rows)).toEqual([3000, 3000, 3000, 1000]);
    const folder = folderOf(ROWS_REQUEST, split.reportId);
    expect(result.files.map((file) => file.key)).toEqual([1, 2, 3, 4].map((n) => `${folder}SMS_${split.reportId}_part0000${n}.jsonl.gz`));
    expect(result.files.every((file) => file.content_type === 'application/gzip')).toBe(true);
    expect(await keysUnder(store, folder)).toEqual(result.files.map((file) => file.key));
    await expectCompleteFiles(result, await unsplit(ROWS_REQUEST), 'gzip');
  });

  it('splits by compressed bytes: every file at most 1 MiB, each whole and valid alone', async () => {
    const result = await exportReport(deps, job(BYTES_REQUEST, { limits: { maxFileBytes: MIB } }));
    expect(result.itemsCount).toBe(30_000);
    expect(result.files.length).toBeGreaterThanOrEqual(3);
    for (const file of result.files) expect(file.size_bytes).toBeLessThanOrEqual(MIB);
    for (const file of result.files.slice(0, -1)) expect(file.size_bytes).toBeGreaterThan(MIB / 2);
    await expectCompleteFiles(result, await unsplit(BYTES_REQUEST), 'gzip');
  });

  it('splits a zip report: one archive per file, its entry named _part0000N.jsonl', async () => {
    const request = { ...ROWS_REQUEST, compression: 'zip' as const };
    const split = job(request, { limits: { maxFileBytes: MIB, maxFileRows: 3_000 } });
    const result = await exportReport(deps, split);
    expect(result.files.length).toBeGreaterThanOrEqual(4);
    for (const [index, file] of result.files.entries()) {
      expect(file.name).toBe(`SMS_${split.reportId}_part${String(index + 1).padStart(5, '0')}.zip`);
      expect(file.size_bytes).toBeLessThanOrEqual(MIB);
      expect(file.rows).toBeLessThanOrEqual(3_000);
      expect((await unzip(await downloadObject(store, file.key))).entries).toEqual([`report_SMS_acme_20260310_part${String(index + 1).padStart(5, '0')}.jsonl`]);
    }
    await expectCompleteFiles(result, await unsplit(request), 'zip');
  });

  it('stores an empty report as a valid, empty .jsonl.gz (one file, or one split file) and an empty .jsonl in a zip', async () => {
    const empty = reportRequest({ account_id: 'acme', fields: FIELDS, format: 'jsonl', date_start: '2026-02-01T00:00:00Z', date_end: '2026-02-02T00:00:00Z' });
    for (const limits of [undefined, { maxFileRows: 10 }]) {
      const export_ = job(empty, { limits });
      const result = await exportReport(deps, export_);
      expect(result.itemsCount).toBe(0);
      const name = limits ? `SMS_${export_.reportId}_part00001.jsonl.gz` : `SMS_${export_.reportId}.jsonl.gz`;
      expect(result.files.map((file) => ({ name: file.name, rows: file.rows }))).toEqual([{ name, rows: 0 }]);
      const bytes = await downloadObject(store, result.fileKey);
      expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
      expect(await gunzip(bytes)).toEqual(Buffer.alloc(0));
      expect(await parseJsonLines(await gunzip(bytes))).toEqual([]);
    }
    const zipped = await exportReport(deps, job({ ...empty, compression: 'zip' }));
    const { entries, content } = await unzip(await downloadObject(store, zipped.fileKey));
    expect({ entries, content: content.toString() }).toEqual({ entries: ['report_SMS_acme_20260201.jsonl'], content: '' });
  });

  it('exports fan-out parts without a header, even the first: the parts concatenated are the single file', async () => {
    const reportId = nextReportId();
    const days = [11, 12, 13].map((day) => ({ from: new Date(Date.UTC(2026, 2, day)), to: new Date(Date.UTC(2026, 2, day + 1)) }));
    const parts: Buffer[] = [];
    let rows = 0;
    for (const [index, range] of days.entries()) {
      const key = `${folderOf(BYTES_REQUEST, reportId)}parts/${index}.gz`;
      const result = await exportReport(deps, job(BYTES_REQUEST, { reportId, part: { range, header: index === 0, key } }));
      expect(result.itemsCount).toBe(10_000);
      rows += result.itemsCount;
      parts.push(await downloadObject(store, key));
    }
    const joined = await gunzip(Buffer.concat(parts));
    expect(rows).toBe(30_000);
    expect(joined.equals(await unsplit(BYTES_REQUEST))).toBe(true);
  });
});
