/**
 * One report submitted through the API and built by a fresh worker process (one job: fan-out off, so the figure is
 * the speed of one report's pipeline), timed from submit to SUCCESS: what the export and formats benchmarks run.
 */
import type { ApiInstance } from '@cdr-reports/api';
import { AppProcess, waitFor, type TestServices } from '@cdr-reports/testing';
import { peakRssOfGroup } from './measure';

export interface FreshWorkerReport<T> {
  ms: number;
  /** Stored bytes of the report's files. */
  bytes: number;
  /** The worker's peak RSS. */
  peakRss: number;
  /** What `measure` returned at SUCCESS. */
  measured: T;
}

/**
 * Submits `body` with `apiKey` and waits for SUCCESS (a FAILED report or a row count other than `rows` throws).
 * `measure` is called with the worker's process group once it is ready, just before the submit; the function it
 * returns is called at SUCCESS, before the worker stops (readings around the run, such as CPU time).
 */
export async function reportOnFreshWorker<T = undefined>(
  services: TestServices,
  api: ApiInstance,
  apiKey: string,
  body: Record<string, unknown>,
  rows: number,
  measure: (workerPgid: number) => () => T = () => () => undefined as T,
): Promise<FreshWorkerReport<T>> {
  const worker = new AppProcess(
    'worker',
    services.env({ REPORT_FANOUT_ROWS: '1000000000000', ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) }),
  );
  await worker.ready();
  try {
    const headers = { authorization: `Bearer ${apiKey}` };
    const pgid = worker.child.pid!;
    const finishMeasure = measure(pgid);
    const started = performance.now();
    const created = await api.app.inject({ method: 'POST', url: '/v1/reports', headers, payload: body });
    if (created.statusCode !== 202) throw new Error(`POST /v1/reports answered ${created.statusCode}: ${created.body}`);
    const id = (created.json() as { request_id: string }).request_id;
    const report = await waitFor(
      async () => {
        const response = (await api.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers })).json() as {
          request_status: string;
          items_count: number;
          files?: Array<{ size_bytes: number }>;
        };
        if (response.request_status === 'FAILED') throw new Error(`the bench report failed: ${JSON.stringify(response)}`);
        return response.request_status === 'SUCCESS' ? response : undefined;
      },
      { timeoutMs: 3_600_000, intervalMs: 50, what: 'the bench report to succeed' },
    );
    const ms = performance.now() - started;
    const measured = finishMeasure();
    if (report.items_count !== rows) throw new Error(`the bench report has ${report.items_count} rows, not ${rows}`);
    const bytes = (report.files ?? []).reduce((total, file) => total + file.size_bytes, 0);
    return { ms, bytes, peakRss: peakRssOfGroup(pgid), measured };
  } finally {
    await worker.stop();
  }
}
