/**
 * A Parquet report end to end: requested through the API with "format": "parquet", built by the worker, downloaded
 * through its link and read by DuckDB (not by the writer); its files listing and manifest carry the Parquet types.
 * A request that also names a compression is refused with a 400 naming both fields.
 */
import { CDR_COLUMN_NAMES } from '@cdr-reports/domain';
import { ParquetReader, cdrFactory, micros, useReportCluster, type ReportResource } from '@cdr-reports/testing';

const MARCH = { date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z' };
const cdr = cdrFactory({ idGroup: '8301', startTime: (n) => `2026-03-10T09:${String(n % 60).padStart(2, '0')}:00.${String(n).padStart(6, '0')}Z`, endAfterMs: 4500 });

const RECORDS = [
  cdr({ client_ref: '=1+2', message_body: 'line one\n"two", 😀' }),
  cdr({ client_ref: null, message_body: null, parts: null, country: null, price: '0.0125', total_price: '999999999999.99999999' }),
  cdr({ client_ref: '@SUM(A1)', message_body: '+cmd', currency: 'EUR', price: '-0.5', total_price: '-0.5' }),
  ...Array.from({ length: 40 }, (_, i) => cdr({ client_ref: `ref-${i}` })),
];

describe('worker: a Parquet report', () => {
  const cluster = useReportCluster();
  let acme: string;
  let reader: ParquetReader;

  beforeAll(async () => {
    acme = await cluster.account('acme');
    await cluster.load(RECORDS);
    reader = await ParquetReader.open();
    cluster.onTeardown(() => reader.close());
  });

  async function report(body: Record<string, unknown>): Promise<ReportResource> {
    const created = await cluster.createReport(acme, body);
    const done = await cluster.waitForStatus(acme, created.request_id, ['SUCCESS', 'FAILED'], 30_000);
    expect({ status: done.request_status, error: done.error ?? null }).toEqual({ status: 'SUCCESS', error: null });
    return done;
  }

  it('is requested with format parquet, built, downloaded and read back with every value exact', async () => {
    const done = await report({ product: 'SMS', ...MARCH, format: 'parquet', include_message: true, timezone: 'Europe/Paris' });
    expect(done).toMatchObject({ format: 'parquet', compression: 'zstd', items_count: RECORDS.length });
    expect(done.file).toEqual({ name: `SMS_${done.request_id}.parquet`, size_bytes: expect.any(Number), content_type: 'application/vnd.apache.parquet' });

    const content = await reader.read(await cluster.download(done));
    expect(content.schema.map((column) => column.name)).toEqual(CDR_COLUMN_NAMES);
    expect(content.metadata).toEqual({ 'cdr_reports.timezone': 'Europe/Paris' });
    expect(content.codecs).toEqual(['ZSTD']);
    const byId = new Map(content.rows.map((row) => [row.id, row]));
    expect(content.rows).toHaveLength(RECORDS.length);
    for (const record of RECORDS) {
      const row = byId.get(record.id!)!;
      expect({ id: record.id, start: row.start_time }).toEqual({ id: record.id, start: String(micros(record.start_time!)) });
      expect({ id: record.id, ref: row.client_ref, body: row.message_body, parts: row.parts, country: row.country }).toEqual({
        id: record.id,
        ref: record.client_ref,
        body: record.message_body,
        parts: record.parts,
        country: record.country,
      });
    }
    expect(byId.get(RECORDS[1]!.id!)).toMatchObject({ price: '0.01250000', total_price: '999999999999.99999999' });
    expect(byId.get(RECORDS[2]!.id!)).toMatchObject({ client_ref: '@SUM(A1)', message_body: '+cmd', price: '-0.50000000' });

    const files = await cluster.request('GET', `/v1/reports/${done.request_id}/files`, acme);
    expect(files.body.items).toEqual([expect.objectContaining({ n: 1, name: `SMS_${done.request_id}.parquet`, rows: RECORDS.length, content_type: 'application/vnd.apache.parquet' })]);
    const manifest = await cluster.request('GET', `/v1/reports/${done.request_id}/manifest`, acme);
    expect(manifest.status).toBe(200);
    expect(manifest.body).toMatchObject({ compression: 'zstd', rows: RECORDS.length });
    const columns = new Map((manifest.body.columns as Array<{ name: string }>).map((column) => [column.name, column]));
    expect(columns.get('total_price')).toEqual({
      name: 'total_price',
      type: 'decimal',
      nullable: false,
      parquet: { physical: 'FIXED_LEN_BYTE_ARRAY', length: 16, logical: 'DECIMAL(20,8)', repetition: 'OPTIONAL' },
    });
    expect(columns.get('start_time')).toEqual({ name: 'start_time', type: 'timestamp', nullable: false, parquet: { physical: 'INT64', logical: 'TIMESTAMP(MICROS,true)', repetition: 'OPTIONAL' } });
    expect(columns.get('parts')).toEqual({ name: 'parts', type: 'integer', nullable: true, parquet: { physical: 'INT32', logical: null, repetition: 'OPTIONAL' } });
    // What the manifest says of every column is what the file holds, as DuckDB's reader sees it.
    const stored = await reader.read(await cluster.download(done));
    for (const column of stored.schema) {
      const described = (columns.get(column.name) as unknown as { parquet: { physical: string; length?: number; repetition: string } }).parquet;
      expect({ physical: column.type, length: column.type_length, repetition: column.repetition_type }).toEqual({
        physical: described.physical,
        length: described.length === undefined ? null : String(described.length),
        repetition: described.repetition,
      });
    }
  });

  it('splits a Parquet report by max_file_rows into files that are each valid alone', async () => {
    const done = await report({ product: 'SMS', ...MARCH, format: 'parquet', fields: ['id', 'start_time', 'total_price'], max_file_rows: 20 });
    const files = await cluster.request('GET', `/v1/reports/${done.request_id}/files`, acme);
    const items = files.body.items as Array<{ n: number; name: string; rows: number; _links: { download: { href: string } } }>;
    expect(items.map((item) => [item.name, item.rows])).toEqual([1, 2, 3].map((n) => [`SMS_${done.request_id}_part0000${n}.parquet`, n < 3 ? 20 : RECORDS.length - 40]));
    const ids: string[] = [];
    for (const item of items) {
      const link = await cluster.request('GET', item._links.download.href, acme);
      expect(link.status).toBe(302);
      const response = await fetch(String(link.headers.location));
      expect(response.ok).toBe(true);
      const content = await reader.read(Buffer.from(await response.arrayBuffer()));
      expect(content.rows).toHaveLength(item.rows);
      ids.push(...content.rows.map((row) => row.id!));
    }
    expect(new Set(ids).size).toBe(RECORDS.length);
  });

  it('refuses parquet with a compression: 400 naming both fields', async () => {
    const response = await cluster.request('POST', '/v1/reports', acme, { product: 'SMS', ...MARCH, format: 'parquet', compression: 'zip' });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.invalid_params).toEqual(
      expect.arrayContaining([
        { name: 'compression', reason: expect.stringContaining('parquet') },
        { name: 'format', reason: expect.stringContaining('zip') },
      ]),
    );
  });
});
