/**
 * Small report latency: a 1,000-row report submitted through the API until SUCCESS, one after another, on a
 * worker process of its own; p50 and p99 over 50 reports (10 with --quick).
 */
import { createApi } from '@cdr-reports/api';
import { generateCdrs, importCdrRecords } from '@cdr-reports/cdr-store';
import { AccountsRepository } from '@cdr-reports/db';
import { createLogger } from '@cdr-reports/logging';
import { AppProcess, startTestServices, waitFor } from '@cdr-reports/testing';
import { percentile, type Figure } from './report';

const DAY = { start: '2026-03-10T00:00:00Z', end: '2026-03-11T00:00:00Z' };

export async function benchSmallReports(options: { quick: boolean }): Promise<Figure[]> {
  const count = options.quick ? 10 : 50;
  const services = await startTestServices();
  const api = await createApi(services.config(), createLogger({ app: 'bench', level: 'silent' }));
  const worker = new AppProcess('worker', services.env());
  try {
    const { apiKey } = await new AccountsRepository(services.db.pool).create({ name: 'small', id: 'bench-small' });
    await importCdrRecords(services.db.pool, () =>
      generateCdrs({ rows: 1_000, accounts: ['bench-small'], from: new Date(DAY.start), to: new Date(DAY.end), products: ['SMS'], seed: 3 }),
    );
    await worker.ready();
    const headers = { authorization: `Bearer ${apiKey}` };
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const created = await api.app.inject({ method: 'POST', url: '/v1/reports', headers, payload: { product: 'SMS', date_start: DAY.start, date_end: DAY.end } });
      if (created.statusCode !== 202) throw new Error(`POST /v1/reports answered ${created.statusCode}: ${created.body}`);
      const id = (created.json() as { request_id: string }).request_id;
      const report = await waitFor(
        async () => {
          const body = (await api.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers })).json() as { request_status: string; items_count: number };
          if (body.request_status === 'FAILED') throw new Error(`a small report failed: ${JSON.stringify(body)}`);
          return body.request_status === 'SUCCESS' ? body : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 5, what: 'a small report to succeed' },
      );
      latencies.push(performance.now() - started);
      if (report.items_count !== 1_000) throw new Error(`a small report has ${report.items_count} rows, not 1,000`);
    }
    const p50 = percentile(latencies, 50);
    return [
      { benchmark: 'small reports', figure: `1,000 rows submit to SUCCESS, p50 of ${count}`, value: p50, unit: 'ms', target: { text: '< 300 ms', met: p50 < 300 } },
      { benchmark: 'small reports', figure: `1,000 rows submit to SUCCESS, p99 of ${count}`, value: percentile(latencies, 99), unit: 'ms' },
    ];
  } finally {
    await worker.stop();
    await api.close();
    await services.close();
  }
}
