/**
 * Records: GET /v1/records pages of 1,000 records out of a store of N rows (default 10M; one account, 30 days
 * of voice calls), through the API process as deployed: p50 and p99 over 200 pages (40 random starting points,
 * five pages each, following the cursor). Baseline: the same keyset query straight through a pg client,
 * without HTTP or JSON. The store is filled with SQL (this measures reads, not the importer). BENCH_RECORDS_ROWS
 * changes N.
 */
import { ensurePartitions } from '@cdr-reports/cdr-store';
import { AccountsRepository } from '@cdr-reports/db';
import { AppProcess, freePort, startTestServices } from '@cdr-reports/testing';
import type { Figure } from './report';

const DAY = 86_400_000;

export async function benchRecords(options: { quick: boolean }): Promise<Figure[]> {
  const rows = Number(process.env.BENCH_RECORDS_ROWS ?? (options.quick ? 50_000 : 10_000_000));
  const services = await startTestServices();
  const port = await freePort();
  const api = new AppProcess('api', services.env({ PORT: String(port) }));
  try {
    const { apiKey } = await new AccountsRepository(services.db.pool).create({ name: 'records', id: 'bench-records' });
    // The last 30 days (inside retention), one record every 30 days / N, ids random.
    const to = Date.parse(new Date().toISOString().slice(0, 10));
    const from = to - 30 * DAY;
    await ensurePartitions(services.db.pool, new Date(from), new Date(to));
    const stepMs = (30 * DAY) / rows;
    for (let offset = 0; offset < rows; offset += 1_000_000) {
      const count = Math.min(1_000_000, rows - offset);
      await services.db.pool.query(
        `INSERT INTO cdrs (id, account_id, product, direction, "from", "to", start_time, answer_time, end_time, duration, billsec, status,
           hangup_cause, country, network, currency, price, total_price)
         SELECT gen_random_uuid(), 'bench-records', 'VOICE-CALL', 'outbound', '+4420' || (7946000000 + n), '+4477' || (9000000000 + n),
           to_timestamp(($1::float8 + n * $2::float8) / 1000), to_timestamp(($1::float8 + n * $2::float8) / 1000 + 3),
           to_timestamp(($1::float8 + n * $2::float8) / 1000 + 63), 63, 60, 'answered', 'NORMAL_CLEARING', 'GB', '23415', 'GBP', 0.0125, 0.0125
         FROM generate_series($3::bigint, $4::bigint) AS n`,
        [from, stepMs, offset, offset + count - 1],
      );
    }
    await services.db.pool.query('VACUUM ANALYZE cdrs');
    await api.ready();

    // Random windows of up to 31 days ending at `to`: the page starts wherever date_start falls.
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const starts = Array.from({ length: options.quick ? 5 : 40 }, () => new Date(from + Math.floor(random() * 29 * DAY)).toISOString());
    const ours: number[] = [];
    const direct: number[] = [];
    const end = new Date(to).toISOString();
    for (const start of starts) {
      let url: string | undefined = `/v1/records?${new URLSearchParams({ product: 'VOICE-CALL', date_start: start, date_end: end, limit: '1000' })}`;
      for (let page = 0; page < 5 && url; page++) {
        const started = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}${url}`, { headers: { authorization: `Bearer ${apiKey}` } });
        const body = (await response.json()) as { records: Array<{ id: string; start_time: string }>; _links: { next?: { href: string } } };
        ours.push(performance.now() - started);
        // Every page is full but near the end of a small (--quick) store.
        if (response.status !== 200 || (body.records.length !== 1000 && body._links.next)) {
          throw new Error(`GET /v1/records answered ${response.status} with ${body.records?.length} records`);
        }
        if (body.records.length === 0) break;
        // The baseline: the same page, by the same keyset, through pg alone.
        const last = body.records[body.records.length - 1]!;
        const baselineStarted = performance.now();
        await services.db.pool.query(
          `SELECT * FROM cdrs WHERE account_id = 'bench-records' AND product = 'VOICE-CALL' AND start_time >= $1 AND start_time < $2
           AND (start_time, id) > ($3::timestamptz, $4::uuid) ORDER BY start_time, id LIMIT 1001`,
          [start, end, last.start_time, last.id],
        );
        direct.push(performance.now() - baselineStarted);
        url = body._links.next?.href;
      }
    }
    const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;
    return [
      {
        benchmark: 'records',
        figure: `GET /v1/records, 1,000 records of ${rows.toLocaleString('en')}, p50 of ${ours.length}`,
        value: percentile(ours, 50),
        unit: 'ms',
        baseline: { name: 'the keyset query through pg', value: percentile(direct, 50) },
      },
      {
        benchmark: 'records',
        figure: `GET /v1/records, 1,000 records of ${rows.toLocaleString('en')}, p99 of ${ours.length}`,
        value: percentile(ours, 99),
        unit: 'ms',
        baseline: { name: 'the keyset query through pg', value: percentile(direct, 99) },
        target: { text: '< 100 ms', met: percentile(ours, 99) < 100 },
      },
    ];
  } finally {
    await api.stop();
    await services.close();
  }
}
