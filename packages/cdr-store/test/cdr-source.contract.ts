import { DatabaseUnavailableError, RequestRejectedError, type CdrRecord } from '@cdr-reports/domain';
import { cdrFactory, reportRequest } from '@cdr-reports/testing';
import type { CdrSource, ReportRead, TimeRange } from '@cdr-reports/cdr-store';

/** What a CDR source adapter's test gives the contract. */
export interface CdrSourceHarness {
  source: CdrSource;
  /** Stores records so that the source reads them. */
  load(records: CdrRecord[]): Promise<void>;
  /** Ends the connection the source's open read is running on, as a failover or an operator would. */
  cutConnections(): Promise<void>;
  /** A source whose store cannot be reached. */
  unreachable: CdrSource;
  close(): Promise<void>;
}

const MARCH: TimeRange = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z') };
const DAY = (day: number): TimeRange => ({
  from: new Date(Date.UTC(2026, 2, day)),
  to: new Date(Date.UTC(2026, 2, day + 1)),
});

async function text(iterable: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const chunk of iterable) out += chunk.toString('utf8');
  return out;
}

/**
 * The behaviour every CDR source keeps: one consistent read per report (segments and summary from one snapshot),
 * rows in (start_time, id) order across accounts, pages that resume exactly, usage groups with their total, and
 * failures in the domain's classes.
 */
export function describeCdrSourceContract(name: string, open: () => Promise<CdrSourceHarness>): void {
  describe(`CDR source contract: ${name}`, () => {
    let harness: CdrSourceHarness;
    const acme = cdrFactory({ idGroup: '9001', startTime: (n) => `2026-03-0${1 + (n % 3)}T10:00:00.${String(n).padStart(3, '0')}Z` });
    const globex = cdrFactory({ idGroup: '9002', startTime: (n) => `2026-03-0${1 + (n % 3)}T10:00:00.${String(n).padStart(3, '0')}Z`, columns: { account_id: 'globex' } });
    const acmeRecords = Array.from({ length: 30 }, (_, i) => acme({ status: i % 4 === 0 ? 'failed' : 'delivered', total_price: i % 2 ? '0.0360' : '0.0125', currency: i % 5 === 0 ? 'EUR' : 'GBP' }));
    const globexRecords = Array.from({ length: 12 }, () => globex());
    const both = ['acme', 'globex'];
    const march = (changes = {}) => reportRequest({ fields: ['id', 'account_id', 'start_time', 'status', 'total_price'], ...changes });

    beforeAll(async () => {
      harness = await open();
      await harness.load([...acmeRecords, ...globexRecords]);
    });
    afterAll(() => harness.close());

    const orderedIds = (records: CdrRecord[]) =>
      [...records].sort((a, b) => (a.start_time! < b.start_time! ? -1 : a.start_time! > b.start_time! ? 1 : a.id! < b.id! ? -1 : 1)).map((r) => r.id);

    it('streams each segment as CSV in (start_time, id) order across accounts, the header on the first only', async () => {
      const read = await harness.source.openReportRead({ request: march(), accountIds: both }, MARCH);
      try {
        const lines: string[] = [];
        let rows = 0;
        for (const [index, day] of [DAY(1), DAY(2), DAY(3), DAY(4)].entries()) {
          const csv = read.segmentCsv(day, index === 0);
          lines.push(...(await text(csv)).split('\n').filter(Boolean));
          rows += csv.rows;
        }
        expect(lines[0]).toBe('id,account_id,start_time,status,total_price');
        expect(rows).toBe(42);
        expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(orderedIds([...acmeRecords, ...globexRecords]));
      } finally {
        await read.close();
      }
    });

    it('gives the summary of the read, exact decimals per currency and counts per status', async () => {
      const read = await harness.source.openReportRead({ request: march(), accountIds: ['acme'] }, MARCH);
      const summary = await read.summary;
      await read.close();
      const expected: Record<string, number> = { GBP: 0, EUR: 0 };
      for (const r of acmeRecords) expected[r.currency!] = (expected[r.currency!] ?? 0) + Math.round(Number(r.total_price) * 10_000);
      expect(summary.records).toBe(30);
      expect(summary.status).toEqual({ failed: 8, delivered: 22 });
      expect(summary.total_price).toEqual({ GBP: (expected.GBP! / 10_000).toFixed(4), EUR: (expected.EUR! / 10_000).toFixed(4) });
    });

    it('reads one snapshot: records stored after the read opened are neither in its rows nor in its summary', async () => {
      const read = await harness.source.openReportRead({ request: march(), accountIds: ['acme'] }, MARCH);
      try {
        const late = acme({ start_time: '2026-03-20T00:00:00Z' });
        await harness.load([late]);
        const csv = read.segmentCsv(MARCH, false);
        const body = await text(csv);
        expect(body).not.toContain(late.id);
        expect(csv.rows).toBe(30);
        expect((await read.summary).records).toBe(30);
      } finally {
        await read.close();
      }
    });

    it('can be closed in the middle of a segment, and the source reads on afterwards', async () => {
      const read: ReportRead = await harness.source.openReportRead({ request: march(), accountIds: both }, MARCH);
      for await (const chunk of read.segmentCsv(MARCH, true)) {
        expect(chunk.length).toBeGreaterThan(0);
        break;
      }
      await read.close();
      const page = await harness.source.recordsPage({ request: march(), accountIds: ['globex'] }, { limit: 100 });
      expect(page.records).toHaveLength(12);
    });

    it('pages records after a position, telling whether more follow', async () => {
      const all = orderedIds(globexRecords);
      const first = await harness.source.recordsPage({ request: march(), accountIds: ['globex'] }, { limit: 5 });
      expect(first.records.map((r) => r.id)).toEqual(all.slice(0, 5));
      expect(first.more).toBe(true);
      const rest = await harness.source.recordsPage({ request: march(), accountIds: ['globex'] }, { limit: 100, after: first.end });
      expect(rest.records.map((r) => r.id)).toEqual(all.slice(5));
      expect(rest.more).toBe(false);
    });

    it('finds records by id among the given accounts only', async () => {
      const ids = [acmeRecords[0]!.id!, globexRecords[0]!.id!];
      const rows = await harness.source.recordsById({ ids, accountIds: ['globex'], fields: ['id', 'account_id'], timezone: 'UTC' });
      expect(rows.map((r) => [r.id, r.account_id])).toEqual([[globexRecords[0]!.id, 'globex']]);
    });

    it('pages usage groups with their total, also past the last page', async () => {
      const request = march({ type: 'usage', dimensions: ['account_id'], metrics: ['count'], fields: ['account_id', 'count'] });
      const page = await harness.source.usageGroups({ request, accountIds: both }, { limit: 1, offset: 0 });
      expect(page.rows.map((r) => [r.account_id, String(r.count)])).toEqual([['acme', expect.any(String)]]);
      expect(page.total).toBe(2);
      const past = await harness.source.usageGroups({ request, accountIds: both }, { limit: 1, offset: 5 });
      expect(past).toEqual({ rows: [], total: 2 });
    });

    it('estimates the rows of a selection without reading them', async () => {
      expect(await harness.source.estimateRows({ request: march(), accountIds: both })).toBeGreaterThanOrEqual(0);
    });

    it('refuses a request the store cannot serve as RequestRejectedError, the same every time', async () => {
      const request = march({ timezone: 'Mars/Olympus_Mons' });
      await expect(harness.source.openReportRead({ request, accountIds: ['acme'] }, MARCH)).rejects.toBeInstanceOf(RequestRejectedError);
      await expect(harness.source.recordsPage({ request, accountIds: ['acme'] }, { limit: 1 })).rejects.toBeInstanceOf(RequestRejectedError);
    });

    it('reports a store it cannot reach as DatabaseUnavailableError', async () => {
      await expect(harness.unreachable.recordsPage({ request: march(), accountIds: ['acme'] }, { limit: 1 })).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(harness.unreachable.openReportRead({ request: march(), accountIds: ['acme'] }, MARCH)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    });

    it('reports a connection cut in the middle of a read as DatabaseUnavailableError', async () => {
      const read = await harness.source.openReportRead({ request: march(), accountIds: both }, MARCH);
      try {
        await harness.cutConnections();
        await expect(text(read.segmentCsv(MARCH, true))).rejects.toBeInstanceOf(DatabaseUnavailableError);
      } finally {
        await read.close();
      }
      // The pool gives out a live connection afterwards.
      expect((await harness.source.recordsPage({ request: march(), accountIds: ['globex'] }, { limit: 1 })).records).toHaveLength(1);
    });
  });
}
