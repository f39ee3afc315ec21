/**
 * Progress while a report is built: a caller polling the report sees PROCESSING with rows already written
 * and a growing percentage before SUCCESS, and the finished file holds exactly the rows counted.
 */
import { generateCdrs } from '@cdr-reports/cdr-store';
import type { CdrRecord } from '@cdr-reports/domain';
import { inFileOrder, readReportFile, useReportCluster, type ReportResource } from '@cdr-reports/testing';

const RANGE = { date_start: '2026-03-02T00:00:00Z', date_end: '2026-03-07T00:00:00Z' };
const RECORDS: CdrRecord[] = [
  ...generateCdrs({ rows: 30_000, accounts: ['acme'], from: new Date(RANGE.date_start), to: new Date(RANGE.date_end), seed: 99 }),
];

describe('worker: report progress', () => {
  // Fifteen-minute segments: progress is recorded after each, so a five-day report moves 480 times.
  const cluster = useReportCluster({ workerOptions: { segmentMs: 15 * 60_000 } });
  let key: string;

  beforeAll(async () => {
    key = await cluster.account('acme');
    await cluster.load(RECORDS);
  });

  it('shows items_processed and percent growing while PROCESSING, then SUCCESS with every row', async () => {
    const created = await cluster.createReport(key, { product: 'SMS', ...RANGE, fields: ['id', 'start_time'] });
    const seen: ReportResource[] = [];
    const deadline = Date.now() + 30_000;
    let done: ReportResource | undefined;
    while (!done) {
      if (Date.now() > deadline) throw new Error(`report still ${seen[seen.length - 1]?.request_status} after 30 s`);
      const report = (await cluster.request('GET', `/v1/reports/${created.request_id}`, key)).body as ReportResource;
      if (report.request_status === 'PROCESSING' || report.request_status === 'PENDING') seen.push(report);
      else done = report;
    }
    expect(done.request_status).toBe('SUCCESS');
    expect(done.progress).toBeUndefined();

    const processing = seen.filter((r) => r.request_status === 'PROCESSING' && (r.progress?.items_processed ?? 0) > 0);
    expect(processing.length).toBeGreaterThan(0);
    for (const report of seen) {
      expect(report.progress).toEqual({ items_processed: expect.any(Number), percent: expect.any(Number) });
      expect(report.progress!.percent).toBeGreaterThanOrEqual(0);
      expect(report.progress!.percent).toBeLessThanOrEqual(100);
      expect(report.progress!.items_processed).toBeLessThanOrEqual(done.items_count!);
    }
    // Seen mid-way: some rows written, not all of them, and the share of time covered not yet whole.
    expect(processing.some((r) => r.progress!.items_processed < done!.items_count! && r.progress!.percent < 100 && r.progress!.percent > 0)).toBe(true);
    // Never going backwards.
    const items = seen.map((r) => r.progress!.items_processed);
    const percents = seen.map((r) => r.progress!.percent);
    expect(items).toEqual([...items].sort((a, b) => a - b));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));

    // In file order: start_time, then id (the generator's ids are lower case already).
    const expected = inFileOrder(RECORDS.filter((r) => r.product === 'SMS')).map((r) => r.id);
    const content = await readReportFile(await cluster.download(done), 'gzip');
    expect(done.items_count).toBe(expected.length);
    expect(content.rows.map((row) => row[0])).toEqual(expected);
  });
});
