import { generateCdrs } from '@cdr-reports/cdr-store';
import type { CdrRecord } from '@cdr-reports/domain';
import { parseCsv, readReportFile, yesterdayAtUtc, useReportCluster } from '@cdr-reports/testing';

/**
 * Usage aggregation: totals by dimension, checked against an independent computation in this test (exact
 * decimals with BigInt, local days with Intl), over several currencies and two accounts. GET /v1/usage pages
 * them like Telnyx usage_reports; POST /v1/reports with type usage writes the same rows as a CSV file.
 */
describe('usage aggregation', () => {
  const cluster = useReportCluster();
  let key: string;
  let records: CdrRecord[];
  const DAY = 86_400_000;
  const end = yesterdayAtUtc(24);
  const start = end - 10 * DAY;
  const TZ = 'America/New_York';
  const DIMENSIONS = ['day', 'account_id', 'status', 'currency'];
  const METRICS = ['count', 'duration', 'billsec', 'total_price', 'answered', 'answer_rate'];
  const query = (extra: Record<string, string> = {}) =>
    new URLSearchParams({
      product: 'VOICE-CALL',
      date_start: new Date(start).toISOString(),
      date_end: new Date(end).toISOString(),
      include_subaccounts: 'true',
      timezone: TZ,
      dimensions: DIMENSIONS.join(','),
      metrics: METRICS.join(','),
      ...extra,
    }).toString();

  /** Decimal text to integer units of 10^-8 (the store keeps at most 8 fraction digits). */
  const units = (text: string) => {
    const [whole, fraction = ''] = text.replace('-', '').split('.');
    const value = BigInt(whole! + fraction.padEnd(8, '0'));
    return text.startsWith('-') ? -value : value;
  };

  /** The expected groups, computed here from the loaded records. */
  function expectedGroups(): Array<Record<string, string | number>> {
    const groups = new Map<string, { dims: string[]; count: number; duration: number; billsec: number; price: bigint; answered: number }>();
    for (const r of records) {
      const day = new Date(r.start_time!).toLocaleDateString('en-CA', { timeZone: TZ });
      const dims = [day, r.account_id!, r.status!, r.currency!];
      const group = groups.get(dims.join('|')) ?? { dims, count: 0, duration: 0, billsec: 0, price: 0n, answered: 0 };
      group.count += 1;
      group.duration += Number(r.duration);
      group.billsec += Number(r.billsec);
      group.price += units(r.total_price!);
      if (r.status === 'answered') group.answered += 1;
      groups.set(dims.join('|'), group);
    }
    return [...groups.values()]
      // Dimension by dimension, in byte order (what the API promises).
      .sort((a, b) => {
        const index = a.dims.findIndex((value, i) => value !== b.dims[i]);
        return Buffer.compare(Buffer.from(a.dims[index]!), Buffer.from(b.dims[index]!));
      })
      .map((g) => ({
        day: g.dims[0]!,
        account_id: g.dims[1]!,
        status: g.dims[2]!,
        currency: g.dims[3]!,
        count: g.count,
        duration: g.duration,
        billsec: g.billsec,
        total_price_units: g.price.toString(),
        answered: g.answered,
        // Rounded half up to 4 places, as PostgreSQL's round(numeric) does for these positive ratios.
        answer_rate: Number((BigInt(g.answered) * 20000n + BigInt(g.count)) / (2n * BigInt(g.count))) / 10000,
      }));
  }
  const comparable = (row: Record<string, unknown>) => {
    const { total_price: price, ...rest } = row;
    return { ...rest, total_price_units: units(String(price)).toString() };
  };

  beforeAll(async () => {
    key = await cluster.account('carrier');
    await cluster.account('carrier-eu', 'carrier');
    const currencies = ['GBP', 'EUR', 'USD'];
    records = [...generateCdrs({ rows: 3000, accounts: ['carrier', 'carrier-eu'], from: new Date(start), to: new Date(end), seed: 41, products: ['VOICE-CALL'] })].map(
      (record, index) => ({ ...record, currency: currencies[index % 3]! }),
    );
    await cluster.load(records);
  }, 60_000);

  it('GET /v1/usage sums exactly per currency and matches an independent computation', async () => {
    const response = await cluster.request('GET', `/v1/usage?${query({ 'page[size]': '5000' })}`, key);
    expect(response.status).toBe(200);
    const expected = expectedGroups();
    expect(new Set(expected.map((g) => g.currency)).size).toBe(3);
    expect(response.body.meta).toEqual({ page_number: 1, page_size: 5000, total_pages: 1, total_results: expected.length });
    expect(response.body.data.map(comparable)).toEqual(expected);
    expect(typeof response.body.data[0].total_price).toBe('string');
  });

  it('pages with page[number] and page[size], and answers CSV with format=csv', async () => {
    const expected = expectedGroups();
    const first = await cluster.request('GET', `/v1/usage?${query({ 'page[size]': '7' })}`, key);
    expect(first.body.meta).toEqual({ page_number: 1, page_size: 7, total_pages: Math.ceil(expected.length / 7), total_results: expected.length });
    const second = await cluster.request('GET', first.body._links.next.href, key);
    expect(second.body.data.map(comparable)).toEqual(expected.slice(7, 14));
    const past = await cluster.request('GET', `/v1/usage?${query({ 'page[size]': '7', 'page[number]': '10000' })}`, key);
    expect(past.body).toMatchObject({ data: [], meta: { total_results: expected.length } });

    const csv = await cluster.request('GET', `/v1/usage?${query({ format: 'csv', 'page[size]': '5000' })}`, key);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['x-total-results']).toBe(String(expected.length));
    const [header, ...rows] = await parseCsv(csv.body as string);
    expect(header).toEqual([...DIMENSIONS, ...METRICS]);
    expect(rows).toHaveLength(expected.length);
  });

  it('refuses unknown dimensions and metrics, listing the valid ones for the product', async () => {
    const bad = await cluster.request('GET', `/v1/usage?${query({ dimensions: 'day,color', metrics: 'count,parts' })}`, key);
    expect(bad.status).toBe(400);
    expect(bad.body.invalid_params).toEqual([
      { name: 'dimensions', reason: '"color" not valid for VOICE-CALL: use day, month, account_id, product, direction, status, country, network, currency, hangup_cause' },
      { name: 'metrics', reason: '"parts" not valid for VOICE-CALL: use count, duration, billsec, total_price, answered, answer_rate' },
    ]);
    const long = await cluster.request('GET', `/v1/usage?${query({ date_start: new Date(end - 40 * DAY).toISOString() })}`, key);
    expect(long.body.invalid_params).toEqual([{ name: 'date_end', reason: 'the time range may span at most 31 days' }]);
    expect((await cluster.request('GET', `/v1/usage?${query({ format: 'xml' })}`, key)).body.invalid_params[0].name).toBe('format');
  });

  it('a usage report (POST /v1/reports, type usage) writes the same groups as a CSV file', async () => {
    const body = {
      type: 'usage',
      product: 'VOICE-CALL',
      include_subaccounts: true,
      date_start: new Date(start).toISOString(),
      date_end: new Date(end).toISOString(),
      timezone: TZ,
      dimensions: DIMENSIONS,
      metrics: METRICS,
      compression: 'zip',
    };
    const created = await cluster.createReport(key, body);
    expect(created).toMatchObject({ type: 'usage', dimensions: DIMENSIONS, metrics: METRICS });
    const done = await cluster.waitForStatus(key, created.request_id, ['SUCCESS', 'FAILED'], 30_000);
    expect(done.request_status).toBe('SUCCESS');
    const expected = expectedGroups();
    expect(done.items_count).toBe(expected.length);
    expect(done.summary).toMatchObject({ records: records.length });
    const file = await readReportFile(await cluster.download(done), 'zip');
    expect(file.header).toEqual([...DIMENSIONS, ...METRICS]);
    const rows = file.rows.map((row) => Object.fromEntries(file.header.map((name, i) => [name, row[i]!])));
    expect(
      rows.map((row) =>
        comparable({ ...row, count: Number(row.count), duration: Number(row.duration), billsec: Number(row.billsec), answered: Number(row.answered), answer_rate: Number(row.answer_rate) }),
      ),
    ).toEqual(expected);
  });
});
