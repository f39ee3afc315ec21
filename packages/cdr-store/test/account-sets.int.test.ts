import { importCdrRecords, MERGED_SCAN_MAX_ACCOUNTS, PostgresCdrSource, readPlan, type CdrSource, type TimeRange } from '@cdr-reports/cdr-store';
import type { CdrRecord, ReportRequest } from '@cdr-reports/domain';
import { cdrFactory, createTestDatabase, reportRequest, type TestDatabase } from '@cdr-reports/testing';

// The same 3,000 records held by trees of 1, 10, 1,000 and 20,000 accounts: whichever plan a read takes (one
// merged scan per account, or one scan over the set), its file, pages, usage and summary are the same.
const TREE_SIZES = [1, 10, 1_000, 20_000];
const RECORDS = 3_000;
const START = Date.parse('2026-03-09T22:00:00Z');
const RANGE: TimeRange = { from: new Date('2026-03-09T00:00:00Z'), to: new Date('2026-03-13T00:00:00Z') };
// Neither id nor account_id: those differ from tree to tree, everything else is the same.
const FIELDS = ['start_time', 'end_time', 'direction', 'from', 'to', 'status', 'country', 'currency', 'total_price'];

const accountsOf = (size: number) => Array.from({ length: size }, (_, i) => `t${size}-${i}`);

function recordsOf(size: number): CdrRecord[] {
  const make = cdrFactory({ idGroup: String(9000 + TREE_SIZES.indexOf(size)), startTime: (n) => new Date(START + n * 80_003).toISOString(), endAfterMs: 4_500 });
  const accounts = accountsOf(size);
  return Array.from({ length: RECORDS }, (_, i) =>
    make({
      // Records spread over the tree in a stride, so that accounts interleave in time.
      account_id: accounts[(i * 7919) % size]!,
      status: i % 5 === 0 ? 'failed' : 'delivered',
      total_price: `0.0${(i % 90) + 10}0`,
      to: `+4477009${String(i % 1000).padStart(5, '0')}`,
    }),
  );
}

async function csvOf(source: CdrSource, request: ReportRequest, accountIds: readonly string[]): Promise<{ csv: string; records: number }> {
  const read = await source.openReportRead({ request, accountIds }, RANGE);
  let csv = '';
  try {
    for (let day = RANGE.from.getTime(), first = true; day < RANGE.to.getTime(); day += 86_400_000, first = false) {
      for await (const chunk of read.segmentCsv({ from: new Date(day), to: new Date(day + 86_400_000) }, first)) csv += chunk.toString('utf8');
    }
    return { csv, records: (await read.summary).records };
  } finally {
    await read.close();
  }
}

describe('reads over account sets of any size', () => {
  let db: TestDatabase;
  let source: PostgresCdrSource;
  const request = reportRequest({ date_start: RANGE.from.toISOString(), date_end: RANGE.to.toISOString(), fields: FIELDS, timezone: 'Europe/Paris' });

  beforeAll(async () => {
    db = await createTestDatabase();
    source = new PostgresCdrSource(db.pool);
    for (const size of TREE_SIZES) await importCdrRecords(db.pool, () => recordsOf(size));
    // The two large trees also as accounts under a root, for the reads that find a tree's accounts themselves.
    for (const size of [1_000, 20_000]) {
      await db.pool.query(`INSERT INTO accounts (id, name, webhook_secret) VALUES ($1, $1, 'whsec_x')`, [`root${size}`]);
      await db.pool.query(`INSERT INTO accounts (id, name, parent_id, webhook_secret) SELECT id, id, $1, 'whsec_x' FROM unnest($2::text[]) AS id`, [`root${size}`, accountsOf(size)]);
    }
    await db.pool.query('ANALYZE cdrs');
  });
  afterAll(() => db.drop());

  it('plans a few accounts as merged scans and many as one scan over the set', () => {
    expect(readPlan(accountsOf(1))).toBe('merged');
    expect(readPlan(accountsOf(MERGED_SCAN_MAX_ACCOUNTS))).toBe('merged');
    expect(readPlan(accountsOf(MERGED_SCAN_MAX_ACCOUNTS + 1))).toBe('set');
    expect(readPlan(accountsOf(20_000))).toBe('set');
  });

  it('writes the same file, byte for byte, whichever plan reads it', async () => {
    const files = [];
    for (const size of TREE_SIZES) files.push(await csvOf(source, request, accountsOf(size)));
    expect(files[0]!.records).toBe(RECORDS);
    expect(files[0]!.csv.split('\n').filter(Boolean)).toHaveLength(RECORDS + 1);
    for (const file of files.slice(1)) {
      expect(file.records).toBe(RECORDS);
      expect(file.csv).toBe(files[0]!.csv);
    }
  });

  it('writes the same JSON Lines, byte for byte, whichever plan reads it', async () => {
    const jsonl = { ...request, format: 'jsonl' as const };
    const files = [];
    for (const size of TREE_SIZES) files.push(await csvOf(source, jsonl, accountsOf(size)));
    expect(files[0]!.csv.split('\n').filter(Boolean)).toHaveLength(RECORDS);
    for (const file of files.slice(1)) expect(file.csv).toBe(files[0]!.csv);
  });

  it('reads only the accounts asked for: a part of the tree, or a list across it', async () => {
    const part = accountsOf(1_000).slice(0, 500);
    const { records } = await csvOf(source, request, part);
    expect(records).toBe(recordsOf(1_000).filter((r) => part.includes(r.account_id!)).length);
    expect((await csvOf(source, request, ['t1000-1', 't20000-2', 'nobody'])).records).toBe(
      [...recordsOf(1_000), ...recordsOf(20_000)].filter((r) => ['t1000-1', 't20000-2'].includes(r.account_id!)).length,
    );
  });

  // Each tree by its list of accounts, and the two large ones also by their root (found in the closure).
  const selections = () => [
    ...TREE_SIZES.map((size) => ({ accountIds: accountsOf(size) })),
    { accountIds: [], tree: { root: 'root1000', size: 1_001 } },
    { accountIds: [], tree: { root: 'root20000', size: 20_001 } },
  ];

  it('pages the same records in the same order, following the cursor to the end', async () => {
    const pages: string[][] = [];
    for (const accounts of selections()) {
      const seen: string[] = [];
      let after;
      do {
        const page: Awaited<ReturnType<CdrSource['recordsPage']>> = await source.recordsPage({ request, ...accounts }, { limit: 700, after });
        seen.push(...page.records.map((r) => `${r.start_time} ${r.to} ${r.total_price}`));
        after = page.more ? page.end : undefined;
      } while (after);
      pages.push(seen);
    }
    expect(pages).toHaveLength(6);
    expect(pages[0]).toHaveLength(RECORDS);
    for (const seen of pages.slice(1)) expect(seen).toEqual(pages[0]);
  });

  it('totals usage the same way', async () => {
    const usage = reportRequest({ ...request, type: 'usage', dimensions: ['day', 'status'], metrics: ['count', 'total_price'], fields: ['day', 'status', 'count', 'total_price'] });
    const results = [];
    for (const accounts of selections()) results.push(await source.usageGroups({ request: usage, ...accounts }, { limit: 100, offset: 0 }));
    expect(results[0]!.total).toBeGreaterThan(4);
    for (const result of results.slice(1)) expect(result).toEqual(results[0]);
  });

  it('estimates a tree of 20,000 accounts close to what it holds', async () => {
    const estimate = await source.estimateRows({ request, accountIds: accountsOf(20_000) });
    expect(estimate).toBeGreaterThan(RECORDS / 4);
    expect(estimate).toBeLessThan(RECORDS * 4);
  });
});
