import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { captureOutput, cdrFactory, yesterdayAtUtc, minutesAfter, useReportCluster } from '@cdr-reports/testing';
import { parseConfig } from '@cdr-reports/config';
import { createApi } from '@cdr-reports/api';
import { createLogger } from '@cdr-reports/logging';
import { reportCommand } from '../src/commands/report.command';
import { CliContext } from '../src/context';

/** cli report create --wait | list | show | cancel | download, as a client of a real API on a real socket. */
describe('cli report', () => {
  const cluster = useReportCluster();
  let key: string;
  let apiUrl: string;
  let dir: string;
  const windowStart = yesterdayAtUtc(8);
  const range = ['--date-start', new Date(windowStart).toISOString(), '--date-end', new Date(windowStart + 3_600_000).toISOString()];

  beforeAll(async () => {
    key = await cluster.account('acme');
    const records = cdrFactory({ idGroup: 'c11a', startTime: minutesAfter(windowStart), endAfterMs: 4_500 });
    await cluster.load(Array.from({ length: 40 }, () => records()));
    apiUrl = await cluster.api.app.listen({ port: 0, host: '127.0.0.1' });
    dir = await mkdtemp(path.join(tmpdir(), 'cdr-cli-report-'));
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // The report commands use no database or Redis of their own: only the API.
  const context = () => new CliContext(parseConfig({ LOG_LEVEL: 'silent' }));

  /** Runs the command; resolves with its exit code, standard output and standard error (the progress bars). */
  async function run(argv: string[], url = apiUrl): Promise<{ code: number; stdout: string; stderr: string }> {
    const { result: code, stdout, stderr } = await captureOutput(() => reportCommand.run([...argv, '--api-url', url, '--api-key', key], context()));
    return { code, stdout, stderr };
  }

  it('creates a report, waits with a progress bar and ends with the summary', async () => {
    const created = await run(['create', '--product', 'SMS', ...range, '--wait', '--json']);
    expect(created.code).toBe(0);
    const report = JSON.parse(created.stdout);
    expect(report).toMatchObject({ request_status: 'SUCCESS', items_count: 40, summary: { records: 40 } });
    expect(created.stderr).toMatch(/100% \| 40 rows/);

    const shown = await run(['show', report.request_id]);
    expect(shown.stdout).toMatch(/^ID\s+STATUS\s+PRODUCT/);
    expect(shown.stdout).toContain(`${report.request_id}  SUCCESS`);
    expect(shown.stdout).toMatch(/summary: 40 records/);
    const listed = await run(['list', '--json']);
    expect(JSON.parse(listed.stdout).map((r: { request_id: string }) => r.request_id)).toContain(report.request_id);

    const out = path.join(dir, 'sms.csv.gz');
    const downloaded = await run(['download', report.request_id, '--out', out]);
    expect(downloaded.stdout).toContain(`saved ${out} (${report.file.size_bytes} bytes, as the report says)`);
    expect((await stat(out)).size).toBe(report.file.size_bytes);
    expect(gunzipSync(await readFile(out)).toString('utf8').trimEnd().split('\n')).toHaveLength(41);

    const cancelled = await run(['cancel', report.request_id, '--json']);
    expect(JSON.parse(cancelled.stdout).request_status).toBe('EXPIRED');
    await expect(run(['download', report.request_id])).rejects.toMatchObject({ name: 'ConflictError' });
  }, 60_000);

  it('reports what the API refused, by field', async () => {
    await expect(run(['create', '--product', 'FAX', ...range])).rejects.toMatchObject({ name: 'ValidationError', invalidParams: [expect.objectContaining({ name: 'product' })] });
    await expect(run(['show', '00000000-0000-4000-8000-000000000000'])).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(reportCommand.run(['list', '--api-url', apiUrl, '--api-key', 'not-a-key'], context())).rejects.toThrow(/401/);
  });

  it("waits out the key's rate limit (429, Retry-After) instead of failing", async () => {
    const limited = await createApi(cluster.services.config({ RATE_LIMIT_REPORT_CREATIONS: '1' }), createLogger({ app: 'api-limited', level: 'silent' }));
    try {
      const url = await limited.app.listen({ port: 0, host: '127.0.0.1' });
      const before = Date.now();
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await run(['create', '--product', 'SMS', ...range, '--json'], url));
      expect(runs.map((r) => [r.code, JSON.parse(r.stdout).request_status])).toEqual([
        [0, 'PENDING'],
        [0, 'PENDING'],
        [0, 'PENDING'],
      ]);
      // One a second: the second and the third each waited for the next window.
      expect(Date.now() - before).toBeGreaterThanOrEqual(1_000);
    } finally {
      await limited.close();
    }
  }, 30_000);
});
