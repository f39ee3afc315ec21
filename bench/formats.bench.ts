/**
 * Formats: the same report of N rows (default 5M voice calls of one account, one month) as CSV, JSON Lines and
 * Parquet, each submitted through the API until SUCCESS and built by a fresh worker process: wall time, rows per
 * second, the stored size and the worker's peak RSS, each beside the CSV figure of the same run (the issue's
 * comparison: what a data team gains or pays for a typed format over the CSV). The table is read once before the
 * measured runs (a discarded CSV run), so every format reads it warm. BENCH_FORMAT_ROWS changes N.
 */
import { createApi, type ApiInstance } from '@cdr-reports/api';
import { generateCdrs, importCdrRecords } from '@cdr-reports/cdr-store';
import { AccountsRepository } from '@cdr-reports/db';
import { createLogger } from '@cdr-reports/logging';
import { startTestServices, type TestServices } from '@cdr-reports/testing';
import { reportOnFreshWorker } from './fresh-worker-report';
import type { Figure } from './report';

const MB = 1024 * 1024;
const MONTH = { start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z' };
const ALL_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
type Format = (typeof ALL_FORMATS)[number];
/** BENCH_FORMATS=csv,parquet measures some of them (exploring); CSV is always measured, as the baseline. */
const FORMATS = ALL_FORMATS.filter((format) => format === 'csv' || !process.env.BENCH_FORMATS || process.env.BENCH_FORMATS.split(',').includes(format));

interface Run {
  ms: number;
  bytes: number;
  peakRss: number;
}

export async function benchFormats(options: { quick: boolean }): Promise<Figure[]> {
  const rows = Number(process.env.BENCH_FORMAT_ROWS ?? (options.quick ? 20_000 : 5_000_000));
  const services = await startTestServices();
  const api = await createApi(services.config(), createLogger({ app: 'bench', level: 'silent' }));
  try {
    const { apiKey } = await new AccountsRepository(services.db.pool).create({ name: 'bench formats', id: 'bench-formats' });
    const loaded = await importCdrRecords(services.db.pool, () =>
      generateCdrs({ rows, accounts: ['bench-formats'], from: new Date(MONTH.start), to: new Date(MONTH.end), products: ['VOICE-CALL'], seed: 7 }),
    );
    if (loaded.status !== 'loaded') throw new Error(`bench records were rejected: ${JSON.stringify(loaded.errors).slice(0, 500)}`);
    await services.db.pool.query('VACUUM ANALYZE cdrs');

    await runReport(services, api, apiKey, 'csv', rows);
    const runs: Partial<Record<Format, Run>> = {};
    for (const format of FORMATS) runs[format] = await runReport(services, api, apiKey, format, rows);
    const csv = runs.csv!;
    const figures: Figure[] = [];
    for (const format of FORMATS) {
      const run = runs[format]!;
      const label = `${format}, ${rows.toLocaleString('en')} rows`;
      const versusCsv = format === 'csv' ? {} : { baseline: { name: 'CSV (gzip) of the same run', value: csv.ms / 1000 } };
      figures.push({
        benchmark: 'formats',
        figure: `wall time, ${label}, submit to SUCCESS`,
        value: run.ms / 1000,
        unit: 's',
        ...versusCsv,
        ...(format === 'parquet' && { target: { text: 'ratio <= 1.5', met: run.ms <= csv.ms * 1.5 } }),
      });
      figures.push({
        benchmark: 'formats',
        figure: `rows per second, ${format}`,
        value: rows / (run.ms / 1000),
        unit: 'rows/s',
        ...(format !== 'csv' && { baseline: { name: 'CSV (gzip)', value: rows / (csv.ms / 1000) } }),
      });
      figures.push({
        benchmark: 'formats',
        figure: `stored size, ${format}`,
        value: run.bytes / MB,
        unit: 'MiB',
        ...(format !== 'csv' && { baseline: { name: 'CSV (gzip)', value: csv.bytes / MB } }),
        ...(format === 'parquet' && { target: { text: 'smaller than the CSV gzip file', met: run.bytes < csv.bytes } }),
      });
      figures.push({
        benchmark: 'formats',
        figure: `worker peak RSS, ${format}`,
        value: run.peakRss / MB,
        unit: 'MiB',
        ...(format !== 'csv' && { baseline: { name: 'CSV (gzip)', value: csv.peakRss / MB } }),
        target: { text: '< 250 MB', met: run.peakRss < 250 * 1e6 },
      });
    }
    return figures;
  } finally {
    await api.close();
    await services.close();
  }
}

/** One report of the account in `format` on a fresh worker process, submit to SUCCESS. */
async function runReport(services: TestServices, api: ApiInstance, apiKey: string, format: Format, rows: number): Promise<Run> {
  const { ms, bytes, peakRss } = await reportOnFreshWorker(services, api, apiKey, { product: 'VOICE-CALL', date_start: MONTH.start, date_end: MONTH.end, format }, rows);
  return { ms, bytes, peakRss };
}
