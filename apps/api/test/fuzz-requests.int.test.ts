import fc from 'fast-check';
import { CDR_COLUMN_NAMES, DIRECTIONS, PRODUCTS, statusesFor, usageDimensionsFor, usageMetricsFor, type Product } from '@cdr-reports/domain';
import { useReportCluster } from '@cdr-reports/testing';
import type { Queue } from 'bullmq';

/**
 * Property-based: 10,000 generated report and schedule requests, valid and malformed, through the real API.
 * Never a 5xx; every valid one accepted and stored; nothing stored or enqueued for an invalid one.
 */
describe('fuzzed requests', () => {
  const cluster = useReportCluster({ worker: false });
  let key: string;
  let reports: Queue;
  const DAY = 86_400_000;
  const today = Date.parse(new Date().toISOString().slice(0, 10));
  const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney'];

  beforeAll(async () => {
    key = await cluster.account('acme');
    await cluster.account('acme-uk', 'acme');
    reports = cluster.reportQueue().queue;
  }, 60_000);

  const count = async (table: 'reports' | 'schedules') => Number((await cluster.services.db.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const queuedJobs = async () => Object.values(await reports.getJobCounts()).reduce((sum, n) => sum + n, 0);

  /** A report template (no dates) valid for its product. */
  const template = fc.constantFrom(...PRODUCTS).chain((product: Product) =>
    fc.record(
      {
        product: fc.constant(product),
        account_id: fc.constantFrom('acme', 'acme-uk'),
        include_subaccounts: fc.boolean(),
        direction: fc.constantFrom(...DIRECTIONS),
        status: fc.subarray([...statusesFor(product)], { minLength: 1 }),
        fields: fc.shuffledSubarray([...CDR_COLUMN_NAMES], { minLength: 1 }),
        timezone: fc.constantFrom(...ZONES),
        compression: fc.constantFrom('gzip', 'zip'),
        min_duration: fc.integer({ min: 0, max: 86_400 }),
        to: fc.stringMatching(/^\+[1-9][0-9]{6,12}\*?$/),
        country: fc.constantFrom('GB', 'FR', 'US', 'IN'),
      },
      { requiredKeys: ['product'] },
    ),
  );
  const usageTemplate = fc.constantFrom(...PRODUCTS).chain((product: Product) =>
    fc.record({
      type: fc.constant('usage'),
      product: fc.constant(product),
      dimensions: fc.shuffledSubarray([...usageDimensionsFor(product)]),
      metrics: fc.shuffledSubarray([...usageMetricsFor(product)], { minLength: 1 }),
      timezone: fc.constantFrom(...ZONES),
    }),
  );
  const dates = fc.record({ daysBack: fc.integer({ min: 1, max: 300 }), hours: fc.integer({ min: 1, max: 30 * 24 }) }).map(({ daysBack, hours }) => {
    const start = today - daysBack * DAY;
    return { date_start: new Date(start).toISOString(), date_end: new Date(start + hours * 3_600_000).toISOString() };
  });
  const validReport = fc.tuple(fc.oneof(template, usageTemplate), dates).map(([t, d]) => ({ ...t, ...d }) as Record<string, unknown>);

  /** One change that makes any request invalid. */
  const breakIt = (request: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> =>
    fc.oneof(
      fc.constantFrom('product', 'date_start', 'date_end').map((field) => {
        const { [field]: _gone, ...rest } = request;
        return rest;
      }),
      fc.string({ minLength: 1, maxLength: 12 }).filter((name) => !/^[a-z_]+$/.test(name)).map((name) => ({ ...request, [name]: 1 })),
      fc.string().filter((p) => !(PRODUCTS as readonly string[]).includes(p)).map((product) => ({ ...request, product })),
      fc.string({ maxLength: 30 }).filter((d) => !/^\d{4}-\d{2}-\d{2}T/.test(d)).map((date_start) => ({ ...request, date_start })),
      fc.constantFrom('fields', 'status', 'compression', 'timezone', 'include_subaccounts', 'min_duration', 'callback_url').chain((field) =>
        fc.oneof(fc.integer({ max: -1 }), fc.constant(null).map(() => ({})), fc.array(fc.integer(), { minLength: 1 })).map((value) => ({ ...request, [field]: value })),
      ),
      fc.constant({ ...request, date_end: request.date_start }),
      fc.constant({ ...request, account_id: 'globex-not-mine' }),
    );
  const invalidReport = validReport.chain(breakIt);

  async function post(url: string, payload: unknown): Promise<number> {
    const response = await cluster.api.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    return response.statusCode;
  }

  it('accepts every valid report request and stores exactly it (3,000)', async () => {
    await fc.assert(
      fc.asyncProperty(validReport, async (request) => {
        const before = await count('reports');
        const status = await post('/v1/reports', request);
        expect({ status, request }).toEqual({ status: 202, request });
        expect(await count('reports')).toBe(before + 1);
      }),
      { numRuns: 3_000 },
    );
  }, 300_000);

  it('refuses every malformed report request with a 4xx and stores nothing (5,000)', async () => {
    const bodies = fc.oneof({ weight: 3, arbitrary: invalidReport }, { weight: 2, arbitrary: fc.jsonValue() });
    const jobsBefore = await queuedJobs();
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const before = await count('reports');
        const status = await post('/v1/reports', body);
        expect({ status: status >= 400 && status < 500, body }).toEqual({ status: true, body });
        expect(await count('reports')).toBe(before);
      }),
      { numRuns: 5_000 },
    );
    expect(await queuedJobs()).toBe(jobsBefore);
  }, 300_000);

  const validSchedule = fc.record({
    name: fc.string({ minLength: 1, maxLength: 200 }).filter((n) => n.trim() !== ''),
    cron: fc.constantFrom('0 2 1 * *', '30 4 * * 1', '0 0 * * *', '15 6 1,15 * *'),
    timezone: fc.constantFrom(...ZONES),
    period: fc.constantFrom('previous_month', 'previous_week', 'previous_day'),
    report: fc.oneof(template, usageTemplate),
  });

  it('accepts every valid schedule and refuses every malformed one, storing only the valid (2,000)', async () => {
    const cases = fc.oneof(
      validSchedule.map((body) => ({ body, valid: true })),
      fc
        .tuple(validSchedule, fc.constantFrom('name', 'cron', 'period', 'report', 'timezone', 'extra'))
        .map(([body, field]) => ({
          body: field === 'extra' ? { ...body, extra: true } : { ...body, [field]: field === 'name' ? '   ' : field === 'report' ? { product: 'FAX' } : 'nonsense value' },
          valid: false,
        })),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ body, valid }) => {
        const before = await count('schedules');
        const status = await post('/v1/schedules', body);
        expect({ status, body }).toEqual({ status: valid ? 201 : 400, body });
        expect(await count('schedules')).toBe(before + (valid ? 1 : 0));
      }),
      { numRuns: 2_000 },
    );
  }, 300_000);
});
