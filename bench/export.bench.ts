/**
 * Export: one report of N rows (default 5M; one account, one month) submitted through the API until SUCCESS, the
 * file stored in the S3 server, against what a user would otherwise run on the same rows: the plain pipeline a DBA
 * types, the stored columns in the report's order and rows, PostgreSQL's default text output, nothing rendered:
 *
 *     psql -c "\copy (SELECT <columns> FROM cdrs WHERE account_id = ... AND product = ... AND start_time >= ...
 *              AND start_time < ... ORDER BY start_time, id) TO STDOUT WITH CSV HEADER" | gzip -6 > file
 *
 * After one warming pass of each, three runs of each, interleaved; the medians are compared. Beside the times: the
 * compressed sizes, the worker's peak memory, and the CPU seconds per million rows of each part (PostgreSQL, the
 * worker, the S3 server, which runs in a process of its own here; psql, gzip and PostgreSQL for the pipeline), so
 * that the bottleneck shows. Then the worker's peak memory at 4N rows (BENCH_MEMORY=0 skips it, which loads 4N
 * rows). BENCH_ROWS changes N.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeLiteral } from 'pg';
import type { ApiInstance } from '@cdr-reports/api';
import { createApi } from '@cdr-reports/api';
import { generateCdrs, importCdrRecords } from '@cdr-reports/cdr-store';
import { AccountsRepository } from '@cdr-reports/db';
import { parseReportRequest, type ReportRequest } from '@cdr-reports/domain';
import { createLogger } from '@cdr-reports/logging';
import { AppProcess, startRestartableS3, startTestServices, waitFor, type TestServices } from '@cdr-reports/testing';
import { coresBusy, cpuSecondsOf, cpuSecondsOfGroup, machineCpuTicks, postgresCpuSeconds, timeShell } from './measure';
import { reportOnFreshWorker } from './fresh-worker-report';
import { percentile, type Figure } from './report';

const MB = 1024 * 1024;
const MONTH = { start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z' };
/** Measured runs of the report and of the pipeline each, interleaved. */
const RUNS = 3;
const PIPELINE = 'psql \\copy | gzip -6';

interface ReportRun {
  ms: number;
  bytes: number;
  peakRss: number;
  /** CPU seconds over the run. */
  cpu: { postgres: number; worker: number; s3: number };
}

interface PipelineRun {
  ms: number;
  bytes: number;
  cpu: { postgres: number; psql: number; gzip: number };
}

export async function benchExport(options: { quick: boolean }): Promise<Figure[]> {
  const rows = Number(process.env.BENCH_ROWS ?? (options.quick ? 20_000 : 5_000_000));
  const withMemory = process.env.BENCH_MEMORY !== '0';
  const figures: Figure[] = [];
  // The S3 server in a process of its own, so that its CPU time is its own.
  const s3 = await startRestartableS3();
  const services = await startTestServices({ s3 });
  const logger = createLogger({ app: 'bench', level: 'silent' });
  const api = await createApi(services.config(), logger);
  try {
    const apiKey = await loadAccount(services, 'bench-n', rows);
    const s3Pid = () => s3.pid;
    // The warming pass: each reads the table once before anything is measured.
    await plainPipeline(services, 'bench-n');
    await runReport(services, api, apiKey, rows, s3Pid);
    const pipelines: PipelineRun[] = [];
    const reports: ReportRun[] = [];
    for (let run = 0; run < RUNS; run++) {
      pipelines.push(await plainPipeline(services, 'bench-n'));
      reports.push(await runReport(services, api, apiKey, rows, s3Pid));
    }
    const med = <T>(runs: T[], value: (run: T) => number) => percentile(runs.map(value), 50);
    const reportMs = med(reports, (run) => run.ms);
    const pipelineMs = med(pipelines, (run) => run.ms);
    const perMillion = (seconds: number) => seconds / (rows / 1e6);
    figures.push(
      {
        benchmark: 'export',
        figure: `wall time, ${rows.toLocaleString('en')} rows, submit to SUCCESS (median of ${RUNS})`,
        value: reportMs / 1000,
        unit: 's',
        baseline: { name: `${PIPELINE}, plain columns (median of ${RUNS})`, value: pipelineMs / 1000 },
        target: { text: 'ratio <= 0.7 (stretch 0.6)', met: reportMs <= pipelineMs * 0.7 },
      },
      { benchmark: 'export', figure: 'rows per second', value: rows / (reportMs / 1000), unit: 'rows/s', baseline: { name: PIPELINE, value: rows / (pipelineMs / 1000) } },
      {
        benchmark: 'export',
        figure: 'compressed size',
        value: reports[0]!.bytes / MB,
        unit: 'MiB',
        baseline: { name: 'the pipeline\'s gzip -6', value: pipelines[0]!.bytes / MB },
        target: { text: 'within 10% of gzip -6', met: Math.abs(reports[0]!.bytes / pipelines[0]!.bytes - 1) <= 0.1 },
      },
      {
        benchmark: 'export',
        figure: `worker peak RSS at ${rows.toLocaleString('en')} rows`,
        value: Math.max(...reports.map((run) => run.peakRss)) / MB,
        unit: 'MiB',
        target: { text: '< 200 MB', met: Math.max(...reports.map((run) => run.peakRss)) < 200 * 1e6 },
      },
      {
        benchmark: 'export',
        figure: 'CPU s per 1M rows: PostgreSQL',
        value: perMillion(med(reports, (run) => run.cpu.postgres)),
        unit: 's',
        baseline: { name: 'PostgreSQL, for the pipeline', value: perMillion(med(pipelines, (run) => run.cpu.postgres)) },
      },
      {
        benchmark: 'export',
        figure: 'CPU s per 1M rows: worker',
        value: perMillion(med(reports, (run) => run.cpu.worker)),
        unit: 's',
        baseline: { name: 'psql + gzip -6', value: perMillion(med(pipelines, (run) => run.cpu.psql + run.cpu.gzip)) },
      },
      { benchmark: 'export', figure: 'CPU s per 1M rows: S3 server', value: perMillion(med(reports, (run) => run.cpu.s3)), unit: 's' },
      {
        benchmark: 'export',
        figure: 'CPU s per 1M rows: all of them',
        value: perMillion(med(reports, (run) => run.cpu.postgres + run.cpu.worker + run.cpu.s3)),
        unit: 's',
        baseline: { name: 'the whole pipeline', value: perMillion(med(pipelines, (run) => run.cpu.postgres + run.cpu.psql + run.cpu.gzip)) },
      },
      {
        benchmark: 'export',
        figure: '  of which gzip -6 alone (pipeline)',
        value: perMillion(med(pipelines, (run) => run.cpu.gzip)),
        unit: 's',
      },
    );
    figures.push(...(await benchFairness(services, api, apiKey, rows)));
    figures.push(...(await benchFanOut(services, api, rows, s3Pid)));
    if (withMemory) {
      const apiKey4n = await loadAccount(services, 'bench-4n', rows * 4);
      const large = await runReport(services, api, apiKey4n, rows * 4, s3Pid);
      const atN = Math.max(...reports.map((run) => run.peakRss));
      figures.push({
        benchmark: 'export',
        figure: `worker peak RSS at ${(rows * 4).toLocaleString('en')} rows`,
        value: large.peakRss / MB,
        unit: 'MiB',
        baseline: { name: `at ${rows.toLocaleString('en')} rows`, value: atN / MB },
        target: { text: '< 200 MB and within 10% of N', met: large.peakRss < 200 * 1e6 && large.peakRss <= atN * 1.1 },
      });
    }
  } finally {
    await api.close();
    await services.close();
  }
  return figures;
}

/** Loads `rows` voice calls of March for a new account; returns its API key. */
async function loadAccount(services: TestServices, accountId: string, rows: number): Promise<string> {
  const { apiKey } = await new AccountsRepository(services.db.pool).create({ name: accountId, id: accountId });
  const loaded = await importCdrRecords(services.db.pool, () =>
    generateCdrs({ rows, accounts: [accountId], from: new Date(MONTH.start), to: new Date(MONTH.end), products: ['VOICE-CALL'], seed: 7 }),
  );
  if (loaded.status !== 'loaded') throw new Error(`bench records were rejected: ${JSON.stringify(loaded.errors).slice(0, 500)}`);
  await services.db.pool.query('VACUUM ANALYZE cdrs');
  return apiKey;
}

/**
 * Starts counting the CPU seconds of every PostgreSQL process, of the worker processes (their process groups) and
 * of the S3 server; the function returned gives each one's seconds since. Read it before the workers stop: a
 * process that has ended no longer shows its CPU time.
 */
function cpuMeter(workerGroups: readonly number[], s3Pid: () => number | undefined): () => { postgres: number; worker: number; s3: number } {
  const now = () => ({
    postgres: postgresCpuSeconds(),
    worker: workerGroups.reduce((total, pgid) => total + cpuSecondsOfGroup(pgid), 0),
    s3: cpuSecondsOf(s3Pid() ?? 0),
  });
  const before = now();
  return () => {
    const after = now();
    return { postgres: after.postgres - before.postgres, worker: after.worker - before.worker, s3: after.s3 - before.s3 };
  };
}

/** The account's report on a fresh worker process, with the CPU time of PostgreSQL, the worker and the S3 server over the run. */
async function runReport(services: TestServices, api: ApiInstance, apiKey: string, rows: number, s3Pid: () => number | undefined): Promise<ReportRun> {
  const run = await reportOnFreshWorker(services, api, apiKey, reportBody(), rows, (worker) => cpuMeter([worker], s3Pid));
  return { ms: run.ms, bytes: run.bytes, peakRss: run.peakRss, cpu: run.measured };
}

/**
 * Fairness: a 1,000-row report of another account, submit to SUCCESS, while two reports of `bigRows` rows
 * (the account loaded by measureExport) are running or waiting; baseline: the same report on an idle worker.
 */
async function benchFairness(services: TestServices, api: ApiInstance, bigKey: string, bigRows: number): Promise<Figure[]> {
  const { apiKey } = await new AccountsRepository(services.db.pool).create({ name: 'fair', id: 'bench-fair' });
  await importCdrRecords(services.db.pool, () =>
    generateCdrs({ rows: 1_000, accounts: ['bench-fair'], from: new Date(MONTH.start), to: new Date(MONTH.end), products: ['VOICE-CALL'], seed: 9 }),
  );
  await services.db.pool.query('ANALYZE cdrs');
  const worker = new AppProcess('worker', services.env());
  await worker.ready();
  const request = async (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) => {
    const response = await api.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload && { payload }) });
    return response.json() as { request_id: string; request_status: string };
  };
  const smallReport = async () => {
    const started = performance.now();
    const { request_id: id } = await request('POST', '/v1/reports', apiKey, reportBody());
    await waitFor(
      async () => {
        const status = (await request('GET', `/v1/reports/${id}`, apiKey)).request_status;
        if (status === 'FAILED') throw new Error('the fairness report failed');
        return status === 'SUCCESS' || undefined;
      },
      { timeoutMs: 600_000, intervalMs: 10, what: 'the small report to succeed' },
    );
    return performance.now() - started;
  };
  try {
    const idle = await smallReport();
    const big = [(await request('POST', '/v1/reports', bigKey, reportBody())).request_id, (await request('POST', '/v1/reports', bigKey, reportBody())).request_id];
    await waitFor(async () => (await request('GET', `/v1/reports/${big[0]}`, bigKey)).request_status === 'PROCESSING' || undefined, {
      timeoutMs: 60_000,
      what: 'a large report to start',
    });
    const busy = await smallReport();
    for (const id of big) await request('DELETE', `/v1/reports/${id}`, bigKey);
    return [
      {
        benchmark: 'fairness',
        figure: `1,000-row report while two ${bigRows.toLocaleString('en')}-row reports run, submit to SUCCESS`,
        value: busy / 1000,
        unit: 's',
        baseline: { name: 'the same on an idle worker', value: idle / 1000 },
        target: { text: '< 5 s', met: busy < 5_000 },
      },
    ];
  } finally {
    await worker.stop();
  }
}

/**
 * Fan-out: one report over 12 months, split into 8 segments, built by 2 worker processes against 1. Each
 * worker exports one segment at a time (REPORT_SEGMENT_CONCURRENCY=1), so the second worker doubles the
 * segments in flight. One worker already keeps most of this machine's 2 cores busy, so what a second one can
 * show here is not speed but cost: the CPU seconds per million rows of the whole report (the workers, every
 * PostgreSQL process, the S3 server), which fan-out must not raise (segments, their assembly, a second
 * process). On a machine with more cores the same figures give the speed-up (see the README's capacity model).
 */
async function benchFanOut(services: TestServices, api: ApiInstance, rows: number, s3Pid: () => number | undefined): Promise<Figure[]> {
  // The last 12 whole months: within the CDR store's retention (13 months by default).
  const end = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
  const year = { start: new Date(Date.UTC(end.getUTCFullYear() - 1, end.getUTCMonth(), 1)).toISOString(), end: end.toISOString() };
  const { apiKey } = await new AccountsRepository(services.db.pool).create({ name: 'year', id: 'bench-year' });
  await importCdrRecords(services.db.pool, () =>
    generateCdrs({ rows, accounts: ['bench-year'], from: new Date(year.start), to: new Date(year.end), products: ['VOICE-CALL'], seed: 13 }),
  );
  await services.db.pool.query('VACUUM ANALYZE cdrs');
  const env = { REPORT_FANOUT_ROWS: String(Math.floor(rows / 4)), REPORT_SEGMENT_ROWS: String(Math.ceil(rows / 8)), REPORT_SEGMENT_CONCURRENCY: '1' };
  const timeWith = async (count: number) => {
    const workers = Array.from({ length: count }, () => new AppProcess('worker', services.env(env)));
    await Promise.all(workers.map((worker) => worker.ready()));
    try {
      const headers = { authorization: `Bearer ${apiKey}` };
      const started = performance.now();
      const cpuBefore = machineCpuTicks();
      const cpuSince = cpuMeter(workers.map((worker) => worker.child.pid!), s3Pid);
      const created = await api.app.inject({ method: 'POST', url: '/v1/reports', headers, payload: { product: 'VOICE-CALL', date_start: year.start, date_end: year.end } });
      if (created.statusCode !== 202) throw new Error(`POST /v1/reports answered ${created.statusCode}: ${created.body}`);
      const id = (created.json() as { request_id: string }).request_id;
      const report = await waitFor(
        async () => {
          const body = (await api.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers })).json() as { request_status: string; items_count: number };
          if (body.request_status === 'FAILED') throw new Error(`the fan-out report failed: ${JSON.stringify(body)}`);
          return body.request_status === 'SUCCESS' ? body : undefined;
        },
        { timeoutMs: 3_600_000, intervalMs: 50, what: 'the fan-out report to succeed' },
      );
      if (report.items_count !== rows) throw new Error(`the fan-out report has ${report.items_count} rows, not ${rows}`);
      const ms = performance.now() - started;
      const cores = coresBusy(cpuBefore, machineCpuTicks(), availableParallelism());
      const cpu = cpuSince();
      return { ms, cores, cpu, all: cpu.worker + cpu.postgres + cpu.s3 };
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  };
  const one = await timeWith(1);
  const two = await timeWith(2);
  const cores = availableParallelism();
  const perMillion = (seconds: number) => seconds / (rows / 1e6);
  const ratio = two.all / one.all;
  const label = `12-month report of ${rows.toLocaleString('en')} rows in 8 segments`;
  return [
    {
      benchmark: 'fan-out',
      figure: `${label}: CPU s per 1M rows, 2 workers (workers + PostgreSQL + S3 server)`,
      value: perMillion(two.all),
      unit: 's',
      baseline: { name: '1 worker, the same report', value: perMillion(one.all) },
      target: { text: 'within 10% of 1 worker', met: ratio <= 1.1 },
    },
    { benchmark: 'fan-out', figure: '  of which the workers', value: perMillion(two.cpu.worker), unit: 's', baseline: { name: '1 worker', value: perMillion(one.cpu.worker) } },
    { benchmark: 'fan-out', figure: '  of which PostgreSQL', value: perMillion(two.cpu.postgres), unit: 's', baseline: { name: '1 worker', value: perMillion(one.cpu.postgres) } },
    { benchmark: 'fan-out', figure: '  of which the S3 server', value: perMillion(two.cpu.s3), unit: 's', baseline: { name: '1 worker', value: perMillion(one.cpu.s3) } },
    { benchmark: 'fan-out', figure: '  wall time, 2 workers', value: two.ms / 1000, unit: 's', baseline: { name: '1 worker', value: one.ms / 1000 } },
    // Why wall time cannot halve here: a second worker can only use cores the first one leaves idle.
    { benchmark: 'fan-out', figure: `  cores busy (machine has ${cores}), 2 workers`, value: two.cores, unit: 'cores', baseline: { name: '1 worker', value: one.cores } },
  ];
}

function reportBody() {
  return { product: 'VOICE-CALL', date_start: MONTH.start, date_end: MONTH.end };
}

/** The request the report makes (the defaults: every column but message_body, UTC). */
function benchRequest(accountId: string): ReportRequest {
  return parseReportRequest({ ...reportBody(), account_id: accountId }, { principalAccountId: accountId, now: new Date(), oldestDateStart: new Date(0) });
}

/**
 * Runs `select` through psql into gzip -6 into a file, as typed at a shell, with each command's CPU time taken by
 * the shell itself (`times` in the subshell that ran it) and PostgreSQL's around it.
 */
async function pipeline(services: TestServices, select: string): Promise<PipelineRun> {
  const folder = await mkdtemp(join(tmpdir(), 'bench-pipeline-'));
  try {
    const command =
      `{ psql -X -q "$DATABASE_URL" -c "$SQL"; times > "$OUT/psql.times"; } | ` +
      `{ gzip -6 > "$OUT/report.csv.gz"; times > "$OUT/gzip.times"; }`;
    const postgresBefore = postgresCpuSeconds();
    const run = await timeShell(command, { DATABASE_URL: services.db.url, SQL: `\\copy (${select}) TO STDOUT WITH CSV HEADER`, OUT: folder });
    // psql's backend ends just after psql: its time reaches the postmaster once it has been reaped.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const postgres = postgresCpuSeconds() - postgresBefore;
    // `times` prints the shell's own user and system time, then its children's: the second line is the command's.
    const childSeconds = async (file: string) => {
      const line = (await readFile(join(folder, file), 'utf8')).trim().split('\n')[1] ?? '';
      return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((total, [, minutes, seconds]) => total + Number(minutes) * 60 + Number(seconds), 0);
    };
    return { ms: run.ms, bytes: (await stat(join(folder, 'report.csv.gz'))).size, cpu: { postgres, psql: await childSeconds('psql.times'), gzip: await childSeconds('gzip.times') } };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** The plain pipeline a DBA types: the stored columns the report has, its rows and order, PostgreSQL's default output. */
function plainPipeline(services: TestServices, accountId: string): Promise<PipelineRun> {
  const request = benchRequest(accountId);
  const columns = request.fields.map((name) => `"${name}"`).join(', ');
  const select =
    `SELECT ${columns} FROM cdrs WHERE account_id = ${escapeLiteral(accountId)} AND product = ${escapeLiteral(request.product)} ` +
    `AND start_time >= '${MONTH.start}' AND start_time < '${MONTH.end}' ORDER BY start_time, id`;
  return pipeline(services, select);
}

