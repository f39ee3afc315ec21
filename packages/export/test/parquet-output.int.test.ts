/**
 * ParquetOutput against the embedded S3 server, fed the typed CSV as PostgreSQL writes it, every file read back by
 * DuckDB's reader (a separate instance from the writer's, reading the stored bytes): types, exact values, NULLs,
 * awkward text, empty reports, split files by rows and by bytes, and nothing left behind on failure.
 */
import { createHash, pbkdf2 } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { CDR_COLUMN_NAMES, StorageUnavailableError, type ReportRequest } from '@cdr-reports/domain';
import { createLogger } from '@cdr-reports/logging';
import { S3ObjectStore, type ObjectStore } from '@cdr-reports/object-store';
import { downloadObject, keysUnder, waitFor, ParquetReader, reportRequest, startTestS3, type TestS3 } from '@cdr-reports/testing';
import { ParquetOutput, type ParquetOutputOptions } from '../src/parquet-output';
import { parquetFileNaming } from '../src/parquet-file-naming';
import type { ExportedFile } from '../src/report-output';

/** A field of the typed CSV: its text, or null for SQL NULL. */
type TypedField = string | null;

const MIB = 1024 * 1024;
// libuv's own variable: the size of its pool.
const POOL_THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;

/** A field as PostgreSQL's COPY ... CSV writes it: NULL unquoted and empty, '' and anything special quoted. */
const pgField = (value: TypedField) => (value === null ? '' : value === '' || /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
const typedCsv = (records: TypedField[][]) => Buffer.from(records.map((fields) => `${fields.map(pgField).join(',')}\n`).join(''));

/** This process's threads blocked in the open() of a FIFO that has no reader (or no writer) yet. */
function threadsOpeningFifos(): string[] {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8') === 'wait_for_partner';
    } catch {
      return false; // the thread has ended
    }
  });
}

/** Deterministic text that compresses little. */
function noise(seed: number, length: number): string {
  let state = seed;
  let text = '';
  while (text.length < length) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    text += state.toString(36);
  }
  return text.slice(0, length);
}

const FIELDS = ['id', 'start_time', 'answer_time', 'duration', 'parts', 'price', 'total_price', 'to', 'client_ref', 'message_body'];

/** Row `n` of a generated report (FIELDS), as typed CSV fields. */
function generated(n: number): TypedField[] {
  const micros = Date.UTC(2026, 2, 10) * 1000 + n * 1_000_003;
  const iso = (us: number) => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
  return [
    `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    iso(micros),
    n % 3 === 0 ? null : iso(micros + 2_500_001),
    String(n % 3600),
    n % 5 === 0 ? null : String(n % 7),
    `0.${String(n % 100_000_000).padStart(8, '0')}`,
    `${n}.${String((n * 7919) % 100_000_000).padStart(8, '0')}`,
    `+4477009${String(n).padStart(5, '0')}`,
    n % 4 === 0 ? null : `ref, "${n}"\nline`,
    noise(n, 80 + (n % 120)),
  ];
}

describe('ParquetOutput', () => {
  let s3: TestS3;
  let store: ObjectStore;
  let reader: ParquetReader;
  let reportNumber = 0;
  const logger = createLogger({ app: 'test', level: 'silent' });

  beforeAll(async () => {
    [s3, reader] = await Promise.all([startTestS3(), ParquetReader.open()]);
    store = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, partSize: 5 * MIB });
  });

  afterAll(async () => {
    await reader?.close();
    await s3?.close();
  });

  const parquetRequest = (changes: Partial<ReportRequest> = {}) => reportRequest({ fields: FIELDS, format: 'parquet', compression: 'zstd', timezone: 'Europe/Paris', ...changes });

  function output(request: ReportRequest, changes: Partial<ParquetOutputOptions> = {}) {
    reportNumber++;
    const reportId = `7a1c2b8e-3a4d-4e5f-9a0b-${String(reportNumber).padStart(12, '0')}`;
    const naming = parquetFileNaming(reportId, request);
    return { reportId, naming, output: new ParquetOutput({ store, naming, request, signal: new AbortController().signal, logger, ...changes }) };
  }

  /** Feeds `csv` in pieces of `chunk` bytes, as COPY does. */
  async function feed(out: ParquetOutput, csv: Buffer, chunk = 65_536): Promise<ExportedFile[]> {
    for (let at = 0; at < csv.length; at += chunk) {
      const wait = out.write(csv.subarray(at, at + chunk));
      if (wait) await wait;
    }
    return out.finish();
  }



  /** Checks a stored file (name, size, sha256, content type) and returns what DuckDB reads in it. */
  async function readStored(file: ExportedFile) {
    const bytes = await downloadObject(store, file.key);
    expect(bytes.length).toBe(file.size_bytes);
    expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(file.content_type).toBe('application/vnd.apache.parquet');
    const head = await store.head(file.key);
    expect(head?.contentType).toBe('application/vnd.apache.parquet');
    expect(head?.contentDisposition).toContain(file.name);
    const content = await reader.read(bytes);
    expect(content.rows).toHaveLength(file.rows);
    return content;
  }

  it('writes every CDR column with its Parquet type and exact values; awkward text is kept as it is, never escaped', async () => {
    const request = parquetRequest({ product: 'VOICE-CALL', fields: [...CDR_COLUMN_NAMES] });
    const base: Record<string, TypedField> = {
      id: '00000000-0000-4000-8000-000000000001',
      account_id: 'acme',
      product: 'VOICE-CALL',
      direction: 'outbound',
      from: '+442071838750',
      to: '+33612345678',
      start_time: '2026-03-10T09:00:00.000001Z',
      answer_time: '2026-03-10T09:00:00.999999Z',
      end_time: null,
      duration: '2147483647',
      billsec: '0',
      status: 'answered',
      hangup_cause: null,
      country: 'GB',
      network: '',
      currency: 'EUR',
      price: '999999999999.99999999',
      total_price: '-0.00000001',
      parts: null,
      client_ref: '=HYPERLINK("http://evil")',
      message_body: 'He said "hi",\nthen left 😀\r\nbye',
    };
    const second: Record<string, TypedField> = { ...base, id: '00000000-0000-4000-8000-000000000002', from: '=1+1', to: '@SUM(A1)', client_ref: '', message_body: '+cmd|/C calc', price: '0', total_price: '12.5' };
    const records = [base, second].map((record) => CDR_COLUMN_NAMES.map((name) => record[name]!));
    const { naming, output: out } = output(request);
    const files = await feed(out, typedCsv(records), 7);
    expect(out.records).toBe(2);
    expect(files).toEqual([expect.objectContaining({ key: naming.key, name: naming.name, rows: 2 })]);

    const content = await readStored(files[0]!);
    const types = Object.fromEntries(content.schema.map((column) => [column.name, [column.type, column.repetition_type, column.duckdb_type].join(' ')]));
    expect(types).toMatchObject({
      id: 'BYTE_ARRAY OPTIONAL VARCHAR',
      start_time: 'INT64 OPTIONAL TIMESTAMP WITH TIME ZONE',
      answer_time: 'INT64 OPTIONAL TIMESTAMP WITH TIME ZONE',
      duration: 'INT32 OPTIONAL INTEGER',
      parts: 'INT32 OPTIONAL INTEGER',
      price: 'FIXED_LEN_BYTE_ARRAY OPTIONAL DECIMAL(20,8)',
      message_body: 'BYTE_ARRAY OPTIONAL VARCHAR',
    });
    expect(content.schema.map((column) => column.name)).toEqual(CDR_COLUMN_NAMES);
    expect(content.schema.find((column) => column.name === 'price')?.type_length).toBe('16');
    expect(content.metadata).toEqual({ 'cdr_reports.timezone': 'Europe/Paris' });
    expect(content.codecs).toEqual(['ZSTD']);
    expect(content.createdBy).toContain('DuckDB');

    const [first, other] = content.rows;
    expect(first).toEqual({
      ...base,
      start_time: String(Date.UTC(2026, 2, 10, 9) * 1000 + 1),
      answer_time: String(Date.UTC(2026, 2, 10, 9) * 1000 + 999_999),
      price: '999999999999.99999999',
      total_price: '-0.00000001',
    });
    expect(other).toMatchObject({ from: '=1+1', to: '@SUM(A1)', client_ref: '', network: '', message_body: '+cmd|/C calc', price: '0.00000000', total_price: '12.50000000' });
    // The instant, seen in the request's zone by the reader itself.
    const path = await reader.file(await downloadObject(store, files[0]!.key));
    expect(await reader.query(`SELECT strftime(answer_time AT TIME ZONE 'Europe/Paris', '%Y-%m-%d %H:%M:%S.%f') AS paris FROM '${path}' LIMIT 1`)).toEqual([
      { paris: '2026-03-10 10:00:00.999999' },
    ]);
  });

  it('stores a valid file with the schema and no rows for a report without records', async () => {
    const { naming, output: out } = output(parquetRequest());
    const files = await feed(out, Buffer.alloc(0));
    expect(files).toEqual([expect.objectContaining({ key: naming.key, rows: 0 })]);
    const content = await readStored(files[0]!);
    expect(content.schema.map((column) => column.name)).toEqual(FIELDS);
    expect(content.rows).toEqual([]);
    expect(content.rowGroups).toBe(0);
    expect(content.metadata).toEqual({ 'cdr_reports.timezone': 'Europe/Paris' });
  });

  it('splits by rows: every file holds exactly max_file_rows (the last the rest), each valid alone, the rows in order', async () => {
    const request = parquetRequest({ max_file_rows: 3000 });
    const records = Array.from({ length: 10_000 }, (_, n) => generated(n));
    const { naming, reportId, output: out } = output(request, { limits: { maxFileRows: 3000 } });
    const files = await feed(out, typedCsv(records));
    expect(files.map((file) => file.rows)).toEqual([3000, 3000, 3000, 1000]);
    expect(files.map((file) => file.name)).toEqual([1, 2, 3, 4].map((n) => `SMS_${reportId}_part0000${n}.parquet`));
    const folder = naming.key.slice(0, -naming.name.length);
    expect(await keysUnder(store, folder)).toEqual(files.map((file) => file.key));
    const ids: string[] = [];
    for (const file of files) {
      const content = await readStored(file);
      // FIELDS has message_body: row groups of 2,048 rows (parquet-duckdb.ts).
      expect(content.rowGroups).toBe(Math.ceil(file.rows / 2_048));
      ids.push(...content.rows.map((row) => row.id!));
    }
    expect(ids).toEqual(records.map((record) => record[0]));
  });

  it('splits by bytes: every file within the limit and more than half full, rows adding up in order', async () => {
    const records = Array.from({ length: 40_000 }, (_, n) => generated(n));
    const { output: out } = output(parquetRequest(), { limits: { maxFileBytes: MIB } });
    const files = await feed(out, typedCsv(records));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const ids: string[] = [];
    for (const file of files) {
      expect(file.size_bytes).toBeLessThanOrEqual(MIB);
      const content = await readStored(file);
      ids.push(...content.rows.map((row) => row.id!));
    }
    for (const file of files.slice(0, -1)) expect(file.size_bytes).toBeGreaterThan(MIB / 2);
    expect(ids).toEqual(records.map((record) => record[0]));
  });

  it('keeps both limits at once', async () => {
    const records = Array.from({ length: 30_000 }, (_, n) => generated(n));
    const { output: out } = output(parquetRequest(), { limits: { maxFileRows: 7000, maxFileBytes: MIB } });
    const files = await feed(out, typedCsv(records));
    for (const file of files) {
      expect(file.rows).toBeLessThanOrEqual(7000);
      expect(file.size_bytes).toBeLessThanOrEqual(MIB);
      await readStored(file);
    }
    expect(files.reduce((total, file) => total + file.rows, 0)).toBe(30_000);
  });

  it('deletes every file it stored when aborted, even after finish', async () => {
    const records = Array.from({ length: 5000 }, (_, n) => generated(n));
    const { naming, output: out } = output(parquetRequest(), { limits: { maxFileRows: 2000 } });
    const files = await feed(out, typedCsv(records));
    expect(files).toHaveLength(3);
    const error = new Error('the integrity check failed');
    expect(await out.abort(error)).toBe(error);
    expect(await keysUnder(store, naming.key.slice(0, -naming.name.length))).toEqual([]);
  });

  it('leaves no file behind when an upload fails part-way, and reports the storage failure', async () => {
    const failing: ObjectStore = Object.create(store) as ObjectStore;
    failing.putStream = async (key, body, options) => {
      if (!key.endsWith('_part00002.parquet')) return store.putStream(key, body, options);
      for await (const chunk of body) if (chunk) break;
      throw new StorageUnavailableError('the store went down (injected)');
    };
    const records = Array.from({ length: 20_000 }, (_, n) => generated(n));
    const { naming, output: out } = output(parquetRequest(), { store: failing, limits: { maxFileRows: 4000 } });
    const failure = await feed(out, typedCsv(records)).catch((error: unknown) => out.abort(error));
    expect(failure).toBeInstanceOf(StorageUnavailableError);
    expect(await keysUnder(store, naming.key.slice(0, -naming.name.length))).toEqual([]);
  });

  it('fails on typed CSV that is not what PostgreSQL writes (a value of the wrong type) and leaves nothing behind', async () => {
    const { naming, output: out } = output(parquetRequest({ fields: ['id', 'duration'] }));
    // The bad value early, many rows after it: DuckDB stops reading while rows are still being written to it.
    const rows: TypedField[][] = [['a', '1'], ['b', 'twelve'], ...Array.from({ length: 200_000 }, (_, n): TypedField[] => [`row ${n}`, String(n)])];
    const failure = await feed(out, typedCsv(rows)).catch((error: unknown) => out.abort(error));
    expect(String(failure)).toMatch(/Parquet file could not be written.*twelve/s);
    expect(await keysUnder(store, naming.key.slice(0, -naming.name.length))).toEqual([]);
  });

  it('fails when a record is cut short rather than storing the rows before it', async () => {
    const { naming, output: out } = output(parquetRequest({ fields: ['id', 'duration'] }));
    const failure = await feed(out, Buffer.from('a,1\nb,2\n"c')).catch((error: unknown) => out.abort(error));
    expect(String(failure)).toMatch(/ends inside a record/);
    expect(await keysUnder(store, naming.key.slice(0, -naming.name.length))).toEqual([]);
  });

  it('stops DuckDB and stores nothing when the export is aborted while a file streams', async () => {
    const records = Array.from({ length: 20_000 }, (_, n) => generated(n));
    const controller = new AbortController();
    const { naming, output: out } = output(parquetRequest(), { signal: controller.signal });
    const csv = typedCsv(records);
    const half = csv.indexOf('\n', csv.length / 2) + 1;
    const wait = out.write(csv.subarray(0, half));
    if (wait) await wait;
    const reason = new Error('cancelled by the user');
    controller.abort(reason);
    expect(await out.abort(reason)).toBe(reason);
    expect(await keysUnder(store, naming.key.slice(0, -naming.name.length))).toEqual([]);
  });

  it('fails, never hangs, when the COPY fails before DuckDB has opened its input (an export aborted before its first row)', async () => {
    // Every thread of libuv's pool kept busy, so that the input's open() (run on the pool) starts only after the
    // COPY has failed: a writer's open of a FIFO waits for a reader, and that open must still return.
    let hogging = true;
    const hog = async () => {
      while (hogging) await promisify(pbkdf2)('secret', 'salt', 300_000, 64, 'sha512');
    };
    const busy = Array.from({ length: POOL_THREADS }, hog);
    const controller = new AbortController();
    const reason = new Error('cancelled before the first row');
    controller.abort(reason);
    const { naming, output: out } = output(parquetRequest(), { signal: controller.signal });
    const failure = await feed(out, typedCsv([generated(1)])).catch((error: unknown) => out.abort(error));
    hogging = false;
    await Promise.all(busy);
    expect(failure).toBeInstanceOf(Error);
    // No thread of this process is left in a FIFO's open (Linux: wait_for_partner), holding a thread of the pool.
    await waitFor(() => threadsOpeningFifos().length === 0, { timeoutMs: 5_000, what: 'no thread waiting to open a FIFO' });
    expect(await keysUnder(store, naming.key.slice(0, -naming.name.length))).toEqual([]);
  });

  it('takes records averaging 2 KiB with their message bodies, and 650 bytes without', async () => {
    // What fits in DuckDB's memory limit depends on a row group's width (parquet-duckdb.ts, ROW_GROUP_ROWS).
    const withBodies = Array.from({ length: 25_000 }, (_, n) => generated(n).map((value, i) => (FIELDS[i] === 'message_body' ? noise(n, 1_800) : value)));
    const wide = output(parquetRequest());
    const [bodies] = await feed(wide.output, typedCsv(withBodies));
    expect(bodies!.rows).toBe(25_000);
    expect((await readStored(bodies!)).rows[24_999]!.message_body).toBe(noise(24_999, 1_800));

    const fields = FIELDS.filter((name) => name !== 'message_body');
    const refs = Array.from({ length: 25_000 }, (_, n) => generated(n).filter((_, i) => FIELDS[i] !== 'message_body').map((value, i) => (fields[i] === 'client_ref' ? noise(n, 540) : value)));
    const narrowCsv = typedCsv(refs);
    expect(narrowCsv.length / 25_000).toBeGreaterThan(650);
    const narrow = output(parquetRequest({ fields }));
    const [records] = await feed(narrow.output, narrowCsv);
    expect((await readStored(records!)).rows[24_999]!.client_ref).toBe(noise(24_999, 540));
  });

  it('takes a record with a message body of a megabyte', async () => {
    const body = noise(1, 1024 * 1024);
    const { output: out } = output(parquetRequest({ fields: ['id', 'message_body'] }));
    const files = await feed(out, typedCsv([['a', body], ['b', 'short']]));
    const content = await readStored(files[0]!);
    expect(content.rows.map((row) => row.message_body)).toEqual([body, 'short']);
  });
});
