import { createApi, type ApiInstance } from '@cdr-reports/api';
import { createLogger } from '@cdr-reports/logging';
import { yesterdayAtUtc, useReportCluster } from '@cdr-reports/testing';

/**
 * Per-key rate limits at their defaults (5 report creations and 10 other requests per second), counted in
 * Redis: each burst below is sent at once, well inside one one-second window.
 */
describe('rate limits per API key', () => {
  const day = yesterdayAtUtc(0);
  const body = { product: 'SMS', date_start: new Date(day).toISOString(), date_end: new Date(day + 3_600_000).toISOString() };
  const defaults = { RATE_LIMIT_REPORT_CREATIONS: '5', RATE_LIMIT_REQUESTS: '10' };
  const cluster = useReportCluster({ worker: false, env: defaults });
  let secondApi: ApiInstance;

  beforeAll(async () => {
    // A second API instance on the same Redis: the counters are shared.
    secondApi = await createApi(cluster.services.config(defaults), createLogger({ app: 'api-2', level: 'silent' }));
    cluster.onTeardown(() => secondApi.close());
  }, 60_000);

  const burst = <T>(count: number, send: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: count }, (_, i) => send(i)));
  const statuses = (responses: { status: number }[]) => responses.map((r) => r.status).sort();

  it('accepts 5 report requests a second from one key; the rest get 429 with Retry-After and nothing is stored', async () => {
    const key = await cluster.account('creator');
    const responses = await burst(8, () => cluster.request('POST', '/v1/reports', key, body));
    expect(statuses(responses)).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);

    const accepted = responses.filter((r) => r.status === 202);
    expect(accepted.map((r) => r.headers['x-ratelimit-limit'])).toEqual(['5', '5', '5', '5', '5']);
    expect(accepted.map((r) => r.headers['x-ratelimit-remaining']).sort()).toEqual(['0', '1', '2', '3', '4']);
    for (const rejected of responses.filter((r) => r.status === 429)) {
      expect(rejected.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'retry-after': '1', 'x-ratelimit-reset': '1' });
      expect(rejected.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(rejected.body).toMatchObject({ status: 429, title: 'Too many requests', type: 'https://cdr-reports.dev/problems/rate-limited' });
      expect(rejected.body.detail).toContain('5 requests per second for POST /v1/reports');
    }
    const stored = await cluster.services.db.pool.query("SELECT count(*)::int AS n FROM reports WHERE account_id = 'creator'");
    expect(stored.rows[0].n).toBe(5);

    // The next window takes requests again.
    const retryAfterMs = Number(responses.find((r) => r.status === 429)!.headers['retry-after']) * 1000;
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    expect((await cluster.request('POST', '/v1/reports', key, body)).status).toBe(202);
  });

  it('counts other requests separately, 10 a second, across all of them together', async () => {
    const key = await cluster.account('reader');
    const urls = ['/v1/reports', '/v1/accounts/reader', '/v1/schedules'];
    const responses = await burst(13, (i) => cluster.request('GET', urls[i % urls.length]!, key));
    expect(statuses(responses)).toEqual([...Array(10).fill(200), 429, 429, 429]);
    expect(responses.find((r) => r.status === 429)!.headers).toMatchObject({ 'x-ratelimit-limit': '10', 'retry-after': '1' });
    // Reading used none of the key's report creations.
    expect((await cluster.request('POST', '/v1/reports', key, body)).status).toBe(202);
  });

  it('limits each key on its own, whichever account it belongs to', async () => {
    const busy = await cluster.account('busy');
    const other = await cluster.account('quiet');
    await burst(6, () => cluster.request('POST', '/v1/reports', busy, body));
    expect((await cluster.request('POST', '/v1/reports', busy, body)).status).toBe(429);
    expect((await cluster.request('POST', '/v1/reports', other, body)).status).toBe(202);
  });

  it('shares the counters between API instances', async () => {
    const key = await cluster.account('spread');
    const onSecond = () =>
      secondApi.app.inject({ method: 'POST', url: '/v1/reports', headers: { authorization: `Bearer ${key}` }, payload: body }).then((r) => ({ status: r.statusCode }));
    const responses = await burst(8, (i) => (i % 2 === 0 ? cluster.request('POST', '/v1/reports', key, body) : onSecond()));
    expect(statuses(responses)).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
  });

  it('does not limit requests without a valid key, which get 401 first', async () => {
    const responses = await burst(20, () => cluster.request('GET', '/v1/reports', 'cdrk_not-a-key'));
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([401]));
    expect(responses[0]!.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('leaves health, metrics and the API document unlimited', async () => {
    for (const url of ['/healthz', '/metrics', '/openapi.json']) {
      const responses = await burst(15, () => cluster.api.app.inject({ method: 'GET', url }));
      expect({ url, statuses: [...new Set(responses.map((r) => r.statusCode))] }).toEqual({ url, statuses: [200] });
    }
  });

  it('documents 429 on every /v1 operation', async () => {
    const document = (await cluster.api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const missing: string[] = [];
    for (const [path, operations] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) if (!operation.responses['429']) missing.push(`${method} ${path}`);
    }
    expect(missing).toEqual([]);
  });

  it('a limit of 0 turns it off', async () => {
    const unlimited = await createApi(cluster.services.config({ RATE_LIMIT_REPORT_CREATIONS: '0', RATE_LIMIT_REQUESTS: '0' }), createLogger({ app: 'api-3', level: 'silent' }));
    try {
      const key = await cluster.account('unlimited');
      const responses = await burst(12, () => unlimited.app.inject({ method: 'GET', url: '/v1/reports', headers: { authorization: `Bearer ${key}` } }));
      expect(new Set(responses.map((r) => r.statusCode))).toEqual(new Set([200]));
      expect(responses[0]!.headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await unlimited.close();
    }
  });
});
