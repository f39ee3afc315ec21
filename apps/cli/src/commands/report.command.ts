import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { ConflictError, NotFoundError, ValidationError } from '@cdr-reports/domain';
import { printJson, UsageError } from '../context';
import type { Command } from './command';

const USAGE = `cli report create --product P --date-start T --date-end T [--body JSON] [--wait] [--json]
    asks for a report (--body adds any other field of the request, e.g. '{"include_subaccounts":true}');
    with --wait, shows a progress bar (rows, percent, rate, ETA) until it finishes, then its summary
cli report show ID [--json]          the report
cli report list [--status S] [--limit N] [--json]
                                      your reports (and your subaccounts'), newest first
cli report cancel ID [--json]        aborts a running report, or deletes a finished one's file
cli report download ID [--out FILE]  saves the file with a progress bar and checks its size
  Every report command talks to the HTTP API: --api-url (or API_URL, default http://127.0.0.1:8080) with
  --api-key (or API_KEY). People get tables; scripts get JSON with --json.`;

interface ReportResource {
  request_id: string;
  request_status: string;
  product: string;
  date_start: string;
  date_end: string;
  receive_time: string;
  items_count: number | null;
  progress?: { items_processed: number; percent: number };
  summary?: { records: number; duration_seconds: number; total_price: Record<string, string>; status: Record<string, number> } | null;
  file?: { name: string; size_bytes: number } | null;
  error?: { code: string; message: string } | null;
  expires_at: string | null;
}

const COMMON = {
  'api-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Times a request over the key's rate limit (429) is sent, waiting Retry-After between. */
const RATE_LIMIT_RETRIES = 5;

/** A client of the HTTP API that turns its problem documents into the CLI's errors. */
class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    // Over the key's rate limit nothing was done: wait as told and ask again.
    for (let attempt = 1; ; attempt++) {
      const response = await this.send(method, path, body);
      const retryAfter = Number(response.headers.get('retry-after'));
      if (response.status !== 429 || attempt === RATE_LIMIT_RETRIES || !(retryAfter >= 0)) return this.read<T>(response);
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, 60) * 1000 + 50));
    }
  }

  private send(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    }).catch((error: unknown) => {
      throw new Error(`cannot reach the API at ${this.baseUrl}: ${(error as Error).message}`);
    });
  }

  private async read<T>(response: Response): Promise<T> {
    if (response.status === 302) return { location: response.headers.get('location') } as T;
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (response.ok) return parsed as T;
    const detail = String(parsed.detail ?? `HTTP ${response.status}`);
    if (response.status === 400) throw new ValidationError((parsed.invalid_params as Array<{ name: string; reason: string }>) ?? [{ name: 'request', reason: detail }]);
    if (response.status === 404) throw new NotFoundError(detail);
    if (response.status === 409 || response.status === 410) throw new ConflictError(detail);
    throw new Error(`the API answered ${response.status}: ${detail}`);
  }
}

function client(values: { 'api-url'?: string; 'api-key'?: string }): ApiClient {
  const key = values['api-key'] ?? process.env.API_KEY;
  if (!key) throw new UsageError('an API key is needed: --api-key or API_KEY');
  return new ApiClient(values['api-url'] ?? process.env.API_URL ?? 'http://127.0.0.1:8080', key);
}

/** A table for people: one line per report. */
function printTable(reports: ReportResource[]): void {
  const rows = reports.map((r) => ({
    id: r.request_id,
    status: r.request_status,
    product: r.product,
    from: r.date_start,
    to: r.date_end,
    rows: r.items_count ?? r.progress?.items_processed ?? '',
    expires: r.expires_at ?? '',
  }));
  const columns = ['id', 'status', 'product', 'from', 'to', 'rows', 'expires'] as const;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => String(row[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => String(row[c])))}\n`);
}

function printReport(report: ReportResource, json: boolean | undefined): void {
  if (json) return printJson(report);
  printTable([report]);
  if (report.summary) {
    const money = Object.entries(report.summary.total_price).map(([currency, total]) => `${total} ${currency}`).join(', ') || 'none';
    process.stdout.write(`\nsummary: ${report.summary.records} records, ${report.summary.duration_seconds} s, total price ${money}\n`);
    if (report.file) process.stdout.write(`file: ${report.file.name} (${report.file.size_bytes} bytes); cli report download ${report.request_id}\n`);
  }
  if (report.error) process.stdout.write(`\nerror ${report.error.code}: ${report.error.message}\n`);
}

/** Polls the report until it finishes, with a progress bar on standard error (rows, percent, rate, ETA). */
async function waitForReport(api: ApiClient, id: string, intervalMs = 1_000): Promise<ReportResource> {
  const bar = new SingleBar({
    format: '{bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted} | {status}',
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 20,
    // Piped or in CI: a line every 2 s instead of a redrawn bar.
    noTTYOutput: true,
    notTTYSchedule: 2_000,
  });
  const started = Date.now();
  bar.start(100, 0, { rows: 0, rate: 0, status: 'PENDING' });
  try {
    for (;;) {
      const report = await api.request<ReportResource>('GET', `/v1/reports/${id}`);
      const rows = report.items_count ?? report.progress?.items_processed ?? 0;
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      const done = !['PENDING', 'PROCESSING'].includes(report.request_status);
      bar.update(done ? 100 : Math.floor(report.progress?.percent ?? 0), { rows, rate: Math.round(rows / seconds), status: report.request_status });
      if (done) return report;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    bar.stop();
  }
}

/** Downloads the file through its presigned link, with a progress bar; the byte count must match the report's. */
async function download(api: ApiClient, id: string, out: string | undefined): Promise<{ file: string; bytes: number }> {
  const report = await api.request<ReportResource>('GET', `/v1/reports/${id}`);
  if (!report.file) throw new ConflictError(`report ${id} is ${report.request_status}: there is no file to download`);
  const { location } = await api.request<{ location: string }>('GET', `/v1/reports/${id}/download`);
  const response = await fetch(location);
  if (!response.ok || !response.body) throw new Error(`the download answered ${response.status}`);
  const target = out ?? report.file.name;
  const partial = `${target}.part`;
  const expected = report.file.size_bytes;
  const bar = new SingleBar({
    format: '{bar} {percentage}% | {value}/{total} bytes | ETA {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 2_000,
  });
  bar.start(expected, 0);
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      bar.update(bytes);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), count, createWriteStream(partial));
  } finally {
    bar.stop();
  }
  // A short file is never left under the real name.
  if (bytes !== expected) {
    await rm(partial, { force: true });
    throw new Error(`the download stopped at ${bytes} of ${expected} bytes; nothing was saved`);
  }
  await rename(partial, target);
  return { file: target, bytes };
}

export const reportCommand: Command = {
  summary: 'create, watch, list, show, cancel and download reports through the API',
  usage: USAGE,
  async run(argv: string[]) {
    const [action, ...rest] = argv;
    if (action === 'create') {
      const { values } = parseArgs({
        args: rest,
        options: { ...COMMON, product: { type: 'string' }, 'date-start': { type: 'string' }, 'date-end': { type: 'string' }, body: { type: 'string' }, wait: { type: 'boolean' } },
      });
      let extra: Record<string, unknown> = {};
      try {
        extra = values.body ? (JSON.parse(values.body) as Record<string, unknown>) : {};
      } catch {
        throw new UsageError('--body must be a JSON object');
      }
      const body = {
        ...extra,
        ...(values.product !== undefined && { product: values.product }),
        ...(values['date-start'] !== undefined && { date_start: values['date-start'] }),
        ...(values['date-end'] !== undefined && { date_end: values['date-end'] }),
      };
      const api = client(values);
      const created = await api.request<ReportResource>('POST', '/v1/reports', body);
      if (!values.wait) {
        printReport(created, values.json);
        return 0;
      }
      const finished = await waitForReport(api, created.request_id);
      printReport(finished, values.json);
      return finished.request_status === 'SUCCESS' ? 0 : 1;
    }
    if (action === 'show' || action === 'cancel') {
      const { values, positionals } = parseArgs({ args: rest, options: COMMON, allowPositionals: true });
      if (positionals.length !== 1) throw new UsageError(`report ${action} takes exactly one report ID`);
      const report = await client(values).request<ReportResource>(action === 'show' ? 'GET' : 'DELETE', `/v1/reports/${positionals[0]}`);
      printReport(report, values.json);
      return 0;
    }
    if (action === 'list') {
      const { values } = parseArgs({ args: rest, options: { ...COMMON, status: { type: 'string' }, limit: { type: 'string' } } });
      const query = new URLSearchParams({ ...(values.status && { status: values.status }), ...(values.limit && { limit: values.limit }) });
      const page = await client(values).request<{ items: ReportResource[] }>('GET', `/v1/reports?${query.toString()}`);
      if (values.json) printJson(page.items);
      else printTable(page.items);
      return 0;
    }
    if (action === 'download') {
      const { values, positionals } = parseArgs({ args: rest, options: { ...COMMON, out: { type: 'string' } }, allowPositionals: true });
      if (positionals.length !== 1) throw new UsageError('report download takes exactly one report ID');
      const saved = await download(client(values), positionals[0]!, values.out);
      if (values.json) printJson(saved);
      else process.stdout.write(`saved ${saved.file} (${saved.bytes} bytes, as the report says)\n`);
      return 0;
    }
    throw new UsageError(action ? `unknown action "report ${action}"` : 'report needs an action');
  },
};
