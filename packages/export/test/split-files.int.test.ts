/**
 * A report split into several files by ExportJob.limits, against the real PostgreSQL and the embedded S3 server:
 * each file is complete alone (gunzip/unzip and Python's csv module read it), within its limits, hashed as
 * stored, and the files together are the unsplit report byte for byte. Failures and aborts leave no file.
 */
import { createHash } from 'node:crypto';
import { importCdrRecords, PostgresCdrSource } from '@cdr-reports/cdr-store';
import { StorageUnavailableError, UnrecoverableJobError, type ReportRequest } from '@cdr-reports/domain';
import { exportReport, sha256OfObject, type ExportDependencies, type ExportJob } from '@cdr-reports/export';
import { createLogger } from '@cdr-reports/logging';
import { S3ObjectStore, type ObjectStore } from '@cdr-reports/object-store';
import { cdrFactory, createTestDatabase, downloadObject, gunzip, keysUnder, parseCsv, reportRequest, startTestS3, unzip, type TestDatabase, type TestS3 } from '@cdr-reports/testing';

const MIB = 1024 * 1024;
const FIELDS = ['id', 'start_time', 'to', 'status', 'client_ref', 'message_body', 'total_price'];

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

/** Rows with quoted newlines, commas and quotes in client_ref and message_body, some of them next to every cut. */
function cdrs(account: string, idGroup: string, count: number, day: number) {
  const cdr = cdrFactory({
    idGroup,
    startTime: (n) => new Date(Date.UTC(2026, 2, day, 0, 0, 0) + n * 5_000).toISOString(),
    endAfterMs: 4500,
    columns: { account_id: account },
  });
  return Array.from({ length: count }, (_, i) =>
    cdr({
      client_ref: i % 3 === 0 ? `ref, "${i}"\nsecond line` : `ref-${i}`,
      message_body: i % 4 === 0 ? `Hello\n"${noise(i, 60)}"\r\nbye` : noise(i + 7, 120),
    }),
  );
}

describe('exportReport with limits: a report split into files', () => {
  let db: TestDatabase;
  let s3: TestS3;
  let store: ObjectStore;
  let deps: ExportDependencies;
  let reportNumber = 0;

  /** 10,000 rows of acme on 10 March; 40,000 of globex over 11-13 March. */
  const ROWS_REQUEST = reportRequest({ account_id: 'acme', fields: FIELDS, date_start: '2026-03-10T00:00:00Z', date_end: '2026-03-11T00:00:00Z' });
  const BYTES_REQUEST = reportRequest({ account_id: 'globex', fields: FIELDS, date_start: '2026-03-11T00:00:00Z', date_end: '2026-03-14T00:00:00Z' });

  beforeAll(async () => {
    [db, s3] = await Promise.all([createTestDatabase(), startTestS3()]);
    store = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, partSize: 5 * MIB });
    deps = { source: new PostgresCdrSource(db.pool), store, logger: createLogger({ app: 'test', level: 'silent' }), compressionLevel: 6 };
    const records = [...cdrs('acme', '8101', 10_000, 10), ...cdrs('globex', '8102', 14_000, 11), ...cdrs('globex', '8103', 13_000, 12), ...cdrs('globex', '8104', 13_000, 13)];
    expect(await importCdrRecords(db.pool, () => records)).toMatchObject({ status: 'loaded', inserted: records.length });
    await db.pool.query('ANALYZE cdrs');
  });

  afterAll(async () => {
    await s3?.close();
    await db?.drop();
  });

  /** A fresh report id, so that every test has its own folder. */
  function nextReportId(): string {
    reportNumber++;
    return `6f1c2b8e-3a4d-4e5f-9a0b-${String(reportNumber).padStart(12, '0')}`;
  }

  function job(request: ReportRequest, changes: Partial<ExportJob> = {}): ExportJob {
    return {
      reportId: nextReportId(),
      request,
      accountIds: [request.account_id],
      signal: new AbortController().signal,
      onProgress: async () => undefined,
      ...changes,
    };
  }



  const folderOf = (request: ReportRequest, reportId: string) => `reports/${request.account_id}/${reportId}/`;

  /**
   * Checks what every split report must be, and returns each file's CSV: every file stored under its name, as
   * hashed and sized, valid alone, starting with the header, parsed by Python into exactly its rows; and the files
   * without their repeated headers are the unsplit report's CSV byte for byte.
   */
  async function expectCompleteFiles(
    result: Awaited<ReturnType<typeof exportReport>>,
    unsplitCsv: Buffer,
    compression: 'gzip' | 'zip',
  ): Promise<Buffer[]> {
    const csvs: Buffer[] = [];
    const header = unsplitCsv.subarray(0, unsplitCsv.indexOf('\n') + 1);
    for (const file of result.files) {
      const bytes = await downloadObject(store, file.key);
      expect({ name: file.name, size: bytes.length }).toEqual({ name: file.name, size: file.size_bytes });
      expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(await sha256OfObject(store, file.key)).toBe(file.sha256);
      expect((await store.head(file.key))?.contentType).toBe(file.content_type);
      const csv = compression === 'gzip' ? await gunzip(bytes) : (await unzip(bytes)).content;
      expect(csv.subarray(0, header.length).equals(header)).toBe(true);
      // strict=True: a record cut in two (an open quote at the end of a file) would be an error here.
      const parsed = await parseCsv(csv);
      expect({ name: file.name, rows: parsed.length - 1 }).toEqual({ name: file.name, rows: file.rows });
      csvs.push(csv);
    }
    const joined = Buffer.concat([header, ...csvs.map((csv) => csv.subarray(header.length))]);
    expect(joined.equals(unsplitCsv)).toBe(true);
    expect(result.files.reduce((total, file) => total + file.rows, 0)).toBe(result.itemsCount);
    expect(result.fileKey).toBe(result.files[0]!.key);
    expect(result.file).toEqual({ name: result.files[0]!.name, size_bytes: result.files[0]!.size_bytes, content_type: result.files[0]!.content_type });
    return csvs;
  }

  async function unsplit(request: ReportRequest, reportId: string): Promise<Buffer> {
    const result = await exportReport(deps, job(request, { reportId }));
    expect(result.files).toHaveLength(1);
    const bytes = await downloadObject(store, result.fileKey);
    expect(result.files[0]!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    return request.compression === 'gzip' ? gunzip(bytes) : (await unzip(bytes)).content;
  }

  it('splits by rows: 10,000 rows at 3,000 a file make 4 files of 3000/3000/3000/1000 rows', async () => {
    const split = job(ROWS_REQUEST, { limits: { maxFileRows: 3000 } });
    const result = await exportReport(deps, split);

    expect(result.itemsCount).toBe(10_000);
    expect(result.summary.records).toBe(10_000);
    expect(result.files.map((file) => file.rows)).toEqual([3000, 3000, 3000, 1000]);
    const folder = folderOf(ROWS_REQUEST, split.reportId);
    expect(result.files.map((file) => file.key)).toEqual([1, 2, 3, 4].map((n) => `${folder}SMS_${split.reportId}_part0000${n}.csv.gz`));
    expect(result.files.every((file) => file.content_type === 'application/gzip')).toBe(true);
    expect(await keysUnder(store, folder)).toEqual(result.files.map((file) => file.key));
    const csvs = await expectCompleteFiles(result, await unsplit(ROWS_REQUEST, split.reportId), 'gzip');
    // Every file holds records with quoted newlines: more lines than records, yet Python read exactly its rows.
    for (const [index, csv] of csvs.entries()) expect(csv.toString('utf8').split('\n').length - 1).toBeGreaterThan(result.files[index]!.rows + 1);
  });

  it('splits by compressed bytes: every file at most 1 MiB and filled close to it, each whole and valid alone', async () => {
    const split = job(BYTES_REQUEST, { limits: { maxFileBytes: MIB } });
    const result = await exportReport(deps, split);

    expect(result.itemsCount).toBe(40_000);
    expect(result.files.length).toBeGreaterThanOrEqual(3);
    for (const file of result.files) expect(file.size_bytes).toBeLessThanOrEqual(MIB);
    // Packed by compressed size: a file ends only when the next member (a block of at most 512 KiB) would not fit.
    for (const file of result.files.slice(0, -1)) expect(file.size_bytes).toBeGreaterThan(MIB / 2);
    await expectCompleteFiles(result, await unsplit(BYTES_REQUEST, nextReportId()), 'gzip');
  });

  it('splits by rows and bytes at once, keeping both', async () => {
    const result = await exportReport(deps, job(BYTES_REQUEST, { limits: { maxFileRows: 9000, maxFileBytes: MIB } }));
    for (const file of result.files) {
      expect(file.rows).toBeLessThanOrEqual(9000);
      expect(file.size_bytes).toBeLessThanOrEqual(MIB);
    }
    await expectCompleteFiles(result, await unsplit(BYTES_REQUEST, nextReportId()), 'gzip');
  });

  it('splits a zip report: one archive per file, its entry named _part0000N.csv, cut on uncompressed bytes', async () => {
    const request = { ...BYTES_REQUEST, compression: 'zip' as const };
    const split = job(request, { limits: { maxFileBytes: MIB } });
    const result = await exportReport(deps, split);

    expect(result.files.length).toBeGreaterThanOrEqual(3);
    expect(result.files[1]!.name).toBe(`SMS_${split.reportId}_part00002.zip`);
    for (const [index, file] of result.files.entries()) {
      expect(file.size_bytes).toBeLessThanOrEqual(MIB);
      expect(file.content_type).toBe('application/zip');
      expect((await unzip(await downloadObject(store, file.key))).entries).toEqual([`report_SMS_globex_20260311_part${String(index + 1).padStart(5, '0')}.csv`]);
    }
    await expectCompleteFiles(result, await unsplit(request, nextReportId()), 'zip');
  });

  it('splits a zip report by rows too', async () => {
    const request = { ...ROWS_REQUEST, compression: 'zip' as const };
    const result = await exportReport(deps, job(request, { limits: { maxFileRows: 4000 } }));
    expect(result.files.map((file) => file.rows)).toEqual([4000, 4000, 2000]);
    await expectCompleteFiles(result, await unsplit(request, nextReportId()), 'zip');
  });

  it('stores one header-only file for a report without rows', async () => {
    const empty = reportRequest({ account_id: 'acme', fields: FIELDS, date_start: '2026-02-01T00:00:00Z', date_end: '2026-02-02T00:00:00Z' });
    const split = job(empty, { limits: { maxFileRows: 10 } });
    const result = await exportReport(deps, split);
    expect(result.files.map((file) => ({ name: file.name, rows: file.rows }))).toEqual([{ name: `SMS_${split.reportId}_part00001.csv.gz`, rows: 0 }]);
    expect((await gunzip(await downloadObject(store, result.fileKey))).toString()).toBe(`${FIELDS.join(',')}\n`);
  });

  it('keeps the unsplit report as it was: one file under the usual name, with its sha256', async () => {
    const single = job(ROWS_REQUEST);
    const result = await exportReport(deps, single);
    expect(result.files).toEqual([
      {
        key: `${folderOf(ROWS_REQUEST, single.reportId)}SMS_${single.reportId}.csv.gz`,
        name: `SMS_${single.reportId}.csv.gz`,
        rows: 10_000,
        size_bytes: result.file.size_bytes,
        sha256: createHash('sha256').update(await downloadObject(store, result.fileKey)).digest('hex'),
        content_type: 'application/gzip',
      },
    ]);
  });

  it('leaves no file behind when aborted after some files are stored', async () => {
    const controller = new AbortController();
    const reportId = nextReportId();
    const folder = folderOf(BYTES_REQUEST, reportId);
    const split = job(BYTES_REQUEST, {
      reportId,
      signal: controller.signal,
      limits: { maxFileBytes: MIB },
      // Aborts as soon as one file is complete in the bucket, while the next is being written.
      onProgress: async () => {
        if ((await keysUnder(store, folder)).length > 0) controller.abort();
      },
    });
    await expect(exportReport({ ...deps, progressRows: 1000 }, split)).rejects.toMatchObject({ name: 'AbortError' });
    expect(controller.signal.aborted).toBe(true);
    expect(await keysUnder(store, folder)).toEqual([]);
  });

  it('leaves no file behind when an upload fails part-way, and reports the storage failure', async () => {
    // The real store, but for the third file, whose upload fails once it has taken some bytes: S3 went down.
    // Every other call goes to the real store (its prototype).
    const failing: ObjectStore = Object.create(store) as ObjectStore;
    failing.putStream = async (key, body, options) => {
      if (!key.endsWith('_part00003.csv.gz')) return store.putStream(key, body, options);
      for await (const chunk of body) if (chunk) break;
      throw new StorageUnavailableError('the store went down (injected)');
    };
    const split = job(BYTES_REQUEST, { limits: { maxFileBytes: MIB } });
    await expect(exportReport({ ...deps, store: failing }, split)).rejects.toThrow(StorageUnavailableError);
    expect(await keysUnder(store, folderOf(BYTES_REQUEST, split.reportId))).toEqual([]);
  });

  it('refuses limits with a fan-out part, and limits no file can keep, before reading anything', async () => {
    const part = { range: { from: new Date('2026-03-10T00:00:00Z'), to: new Date('2026-03-11T00:00:00Z') }, header: true, key: 'reports/acme/x/part.csv.gz' };
    await expect(exportReport(deps, job(ROWS_REQUEST, { part, limits: { maxFileRows: 10 } }))).rejects.toThrow(UnrecoverableJobError);
    await expect(exportReport(deps, job(ROWS_REQUEST, { limits: { maxFileBytes: 1000 } }))).rejects.toThrow(UnrecoverableJobError);
  });
});
