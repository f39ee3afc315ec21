/**
 * Account trees: a parent with S subaccounts (default 20,000) holding N voice calls of one month (default 2M),
 * spread over the subaccounts. Every figure goes through the API and a worker process as deployed, and is
 * compared with the same request over the same rows held by one account: the baseline loads exactly the rows
 * the tree holds (the same generator, seed and times) with account_id set to one account, into a cluster of its
 * own (its own database), so neither store holds the other's rows. BENCH_TREE_ROWS and BENCH_TREE_ACCOUNTS
 * change N and S.
 *
 * - the month's report (submit to SUCCESS) with include_subaccounts, against the one account's report (each the
 *   second of two runs of the same request, from a warm cache);
 * - a 13-month request over the tree (only the one month holds rows), against the month's request;
 * - GET /v1/records pages of 1,000 following the cursor, p99 over 200 pages, against the same pages of one account;
 * - GET /v1/usage by day for the month (median of five requests), against one account;
 * - GET /v1/accounts pages of 1,000 of the S + 1 accounts (no baseline: the target is absolute).
 */
import { generateCdrs, importCdrRecords } from '@cdr-reports/cdr-store';
import { AccountsRepository } from '@cdr-reports/db';
import { createApi } from '@cdr-reports/api';
import { createLogger } from '@cdr-reports/logging';
import { AppProcess, startTestServices, waitFor } from '@cdr-reports/testing';
import { percentile, type Figure } from './report';

const MONTH = { start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z' };

interface Side {
  /** What the figures measured on this side are. */
  label: string;
  report: number;
  reportRows: number;
  thirteenMonths: number;
  records: number[];
  accountPages: number[];
  usage: number;
}

export async function benchAccountTree(options: { quick: boolean }): Promise<Figure[]> {
  const rows = Number(process.env.BENCH_TREE_ROWS ?? (options.quick ? 20_000 : 2_000_000));
  const subaccounts = Number(process.env.BENCH_TREE_ACCOUNTS ?? (options.quick ? 2_000 : 20_000));
  const pages = options.quick ? 20 : 200;
  const tree = await measureSide({ rows, subaccounts, pages, oneAccount: false });
  const one = await measureSide({ rows, subaccounts, pages, oneAccount: true });
  const treeName = `parent + ${subaccounts.toLocaleString('en')} subaccounts, ${rows.toLocaleString('en')} rows`;
  const ratio = (a: number, b: number) => a / b;
  return [
    {
      benchmark: 'account-tree',
      figure: `month report, ${treeName}, submit to SUCCESS`,
      value: tree.report / 1000,
      unit: 's',
      baseline: { name: 'the same rows in one account', value: one.report / 1000 },
      target: { text: 'ratio <= 1.3', met: ratio(tree.report, one.report) <= 1.3 },
    },
    {
      benchmark: 'account-tree',
      figure: `13-month report over the tree (one month holds rows)`,
      value: tree.thirteenMonths / 1000,
      unit: 's',
      baseline: { name: 'the month report over the tree', value: tree.report / 1000 },
      target: { text: 'ratio <= 1.5', met: ratio(tree.thirteenMonths, tree.report) <= 1.5 },
    },
    {
      benchmark: 'account-tree',
      figure: `GET /v1/records page of 1,000 over the tree, p99 of ${tree.records.length}`,
      value: percentile(tree.records, 99),
      unit: 'ms',
      baseline: { name: 'one account, same pages', value: percentile(one.records, 99) },
      target: { text: '< 100 ms', met: percentile(tree.records, 99) < 100 },
    },
    {
      benchmark: 'account-tree',
      figure: `GET /v1/records page of 1,000 over the tree, p50 of ${tree.records.length}`,
      value: percentile(tree.records, 50),
      unit: 'ms',
      baseline: { name: 'one account, same pages', value: percentile(one.records, 50) },
    },
    {
      benchmark: 'account-tree',
      figure: `GET /v1/accounts page of 1,000 of ${(subaccounts + 1).toLocaleString('en')}, p99 of ${tree.accountPages.length}`,
      value: percentile(tree.accountPages, 99),
      unit: 'ms',
      target: { text: '< 50 ms', met: percentile(tree.accountPages, 99) < 50 },
    },
    {
      benchmark: 'account-tree',
      figure: 'GET /v1/usage by day for the month over the tree, median of 5',
      value: tree.usage,
      unit: 'ms',
      baseline: { name: 'one account', value: one.usage },
      target: { text: 'ratio <= 1.5', met: ratio(tree.usage, one.usage) <= 1.5 },
    },
  ];
}

async function measureSide(options: { rows: number; subaccounts: number; pages: number; oneAccount: boolean }): Promise<Side> {
  const services = await startTestServices();
  const logger = createLogger({ app: 'bench', level: 'silent' });
  const api = await createApi(services.config(), logger);
  const worker = new AppProcess('worker', services.env({ REPORT_FANOUT_ROWS: '1000000000000' }));
  try {
    const accounts = new AccountsRepository(services.db.pool);
    const { apiKey } = await accounts.create({ name: 'bench tree', id: 'bench-tree' });
    const subaccountIds = Array.from({ length: options.subaccounts }, (_, i) => `bench-tree-${i + 1}`);
    await services.db.pool.query(
      `INSERT INTO accounts (id, name, parent_id, webhook_secret) SELECT id, id, 'bench-tree', md5(id) FROM unnest($1::text[]) AS id`,
      [subaccountIds],
    );
    // The same records on both sides; on the one-account side they all belong to the parent.
    const cdrs = function* () {
      for (const record of generateCdrs({ rows: options.rows, accounts: subaccountIds, from: new Date(MONTH.start), to: new Date(MONTH.end), products: ['VOICE-CALL'], seed: 11 })) {
        yield options.oneAccount ? { ...record, account_id: 'bench-tree' } : record;
      }
    };
    const loaded = await importCdrRecords(services.db.pool, cdrs);
    if (loaded.status !== 'loaded') throw new Error(`bench records were rejected: ${JSON.stringify(loaded.errors).slice(0, 500)}`);
    await services.db.pool.query('VACUUM ANALYZE');
    await worker.ready();

    const headers = { authorization: `Bearer ${apiKey}` };
    const scope = options.oneAccount ? {} : { include_subaccounts: true };
    const runReport = async (body: Record<string, unknown>) => {
      const started = performance.now();
      const created = await api.app.inject({ method: 'POST', url: '/v1/reports', headers, payload: { product: 'VOICE-CALL', ...scope, ...body } });
      if (created.statusCode !== 202) throw new Error(`POST /v1/reports answered ${created.statusCode}: ${created.body}`);
      const id = (created.json() as { request_id: string }).request_id;
      const report = await waitFor(
        async () => {
          const response = (await api.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers })).json() as { request_status: string; items_count: number };
          if (response.request_status === 'FAILED') throw new Error(`the bench report failed: ${JSON.stringify(response)}`);
          return response.request_status === 'SUCCESS' ? response : undefined;
        },
        { timeoutMs: 3_600_000, intervalMs: 50, what: 'the bench report to succeed' },
      );
      return { ms: performance.now() - started, items: report.items_count };
    };
    // The month twice: the figure is the second run, from a warm cache on both sides (the first run reads the
    // freshly loaded rows and indexes from disk, which is the same cost whatever the plan but not the same size).
    await runReport({ date_start: MONTH.start, date_end: MONTH.end });
    const month = await runReport({ date_start: MONTH.start, date_end: MONTH.end });
    if (month.items !== options.rows) throw new Error(`the month report has ${month.items} rows, not ${options.rows}`);
    // Thirteen months, inside the CDR retention (13 months back from today), the month of rows among them.
    const today = new Date(new Date().toISOString().slice(0, 10));
    const thirteen = await runReport({ date_start: new Date(Date.UTC(today.getUTCFullYear() - 1, today.getUTCMonth() - 1, today.getUTCDate() + 1)).toISOString(), date_end: today.toISOString() });
    if (thirteen.items !== options.rows) throw new Error(`the 13-month report has ${thirteen.items} rows, not ${options.rows}`);

    const pageTimes: number[] = [];
    let url: string | undefined = `/v1/records?${new URLSearchParams({ product: 'VOICE-CALL', date_start: MONTH.start, date_end: MONTH.end, limit: '1000', ...(options.oneAccount ? {} : { include_subaccounts: 'true' }) })}`;
    while (pageTimes.length < options.pages && url) {
      const started = performance.now();
      const response: { statusCode: number; body: string; json(): unknown } = await api.app.inject({ method: 'GET', url, headers });
      pageTimes.push(performance.now() - started);
      if (response.statusCode !== 200) throw new Error(`GET /v1/records answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
      url = (response.json() as { _links: { next?: { href: string } } })._links.next?.href;
    }

    // GET /v1/accounts pages of 1,000, following the cursor through the tree and starting over, 200 pages in all.
    const accountPages: number[] = [];
    let accountsUrl: string | undefined;
    while (accountPages.length < options.pages) {
      accountsUrl ??= '/v1/accounts?limit=1000';
      const started = performance.now();
      const response: { statusCode: number; body: string; json(): unknown } = await api.app.inject({ method: 'GET', url: accountsUrl, headers });
      accountPages.push(performance.now() - started);
      if (response.statusCode !== 200) throw new Error(`GET /v1/accounts answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
      accountsUrl = (response.json() as { _links: { next?: { href: string } } })._links.next?.href;
    }

    // Usage: the median of five requests (one ~1-2 s request on a shared 2-core machine varies by 20-30% run to
    // run; the median of five is stable to a few percent).
    const usageTimes: number[] = [];
    for (let run = 0; run < 5; run++) {
      const usageStarted = performance.now();
      const usage = await api.app.inject({
        method: 'GET',
        url: `/v1/usage?${new URLSearchParams({ product: 'VOICE-CALL', date_start: MONTH.start, date_end: MONTH.end, dimensions: 'day', metrics: 'count,duration,total_price', 'page[size]': '100', ...(options.oneAccount ? {} : { include_subaccounts: 'true' }) })}`,
        headers,
      });
      usageTimes.push(performance.now() - usageStarted);
      if (usage.statusCode !== 200) throw new Error(`GET /v1/usage answered ${usage.statusCode}: ${usage.body.slice(0, 300)}`);
    }
    const usageMs = percentile(usageTimes, 50);
    return { label: options.oneAccount ? 'one account' : 'tree', report: month.ms, reportRows: month.items, thirteenMonths: thirteen.ms, records: pageTimes, accountPages, usage: usageMs };
  } finally {
    await worker.stop();
    await api.close();
    await services.close();
  }
}
