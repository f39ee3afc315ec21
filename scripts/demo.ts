/**
 * The demo a newcomer runs first (`npm run demo`): accounts for a parent with two subaccounts, 200k synthetic
 * CDRs loaded into the store, the whole cluster started, and a real report of last month for the parent and
 * its subaccounts: requested over HTTP, followed to SUCCESS, downloaded through its link and checked. Driven
 * only through the CLI and the HTTP API, as a user would. With `--once` (or without a terminal) it stops the cluster after the checks.
 */
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { loadConfigOrExit } from '@cdr-reports/config';
import { CsvRecordCounter } from '@cdr-reports/export';
import { Webhook } from 'standardwebhooks';

const ROOT = path.join(__dirname, '..');
// The built CLI (dist/cli.js, which demo.sh builds first), run with plain node as `npm run cli` runs it.
const CLI = path.join(ROOT, 'dist', 'cli.js');
const ACCOUNTS = { parent: 'demo-parent', subaccounts: ['demo-sub-1', 'demo-sub-2'] };
const ROWS = 200_000;
const config = loadConfigOrExit();
const once = process.argv.includes('--once') || !process.stdin.isTTY;

const step = (text: string) => process.stdout.write(`\n== ${text}\n`);
const show = (args: string[]) => process.stdout.write(`$ npm run cli -- ${args.join(' ')}\n`);

async function cli<T = unknown>(args: string[]): Promise<T> {
  show(args);
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}

/** The account's API key, and its webhook secret when the account is new (a secret is shown once too). */
async function ensureAccount(id: string, parent?: string): Promise<{ apiKey: string; webhookSecret?: string }> {
  const existing = await cli<{ account_id: string }[]>(['accounts', 'list']);
  if (existing.some((a) => a.account_id === id)) {
    // The demo ran before: its key was shown once and is gone, so make a fresh one.
    return { apiKey: (await cli<{ api_key: string }>(['keys', 'create', '--account', id, '--name', 'demo'])).api_key };
  }
  const args = ['accounts', 'create', '--name', id, '--id', id, ...(parent ? ['--parent', parent] : [])];
  const created = await cli<{ api_key: string; webhook_secret: string }>(args);
  return { apiKey: created.api_key, webhookSecret: created.webhook_secret };
}

/** A local receiver for the report's callback: it verifies the Standard Webhooks signature and keeps the event. */
async function startCallbackReceiver(secret: () => string) {
  let resolveEvent: (event: { id: string; type: string; verified: boolean }) => void = () => undefined;
  const event = new Promise<{ id: string; type: string; verified: boolean }>((resolve) => (resolveEvent = resolve));
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = true;
      let payload: { type: string };
      try {
        payload = new Webhook(secret()).verify(body, request.headers as Record<string, string>) as { type: string };
      } catch {
        verified = false;
        payload = JSON.parse(body) as { type: string };
      }
      response.writeHead(verified ? 204 : 400).end();
      resolveEvent({ id: String(request.headers['webhook-id']), type: payload.type, verified });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdr-callbacks`, event, close: () => server.close() };
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  step('Database and job schedules');
  await cli(['migrate']);

  step(`Accounts: ${ACCOUNTS.parent} with subaccounts ${ACCOUNTS.subaccounts.join(', ')}`);
  const parent = await ensureAccount(ACCOUNTS.parent);
  const parentKey = parent.apiKey;
  for (const sub of ACCOUNTS.subaccounts) await ensureAccount(sub, ACCOUNTS.parent);

  // Last calendar month, seeded by month: running the demo again the same month loads nothing twice.
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const seed = String(from.getUTCFullYear() * 100 + from.getUTCMonth() + 1);
  step(`${ROWS.toLocaleString('en')} synthetic CDRs for ${from.toISOString().slice(0, 7)}`);
  const loaded = await cli(['cdr', 'generate', '--rows', String(ROWS), '--accounts', [ACCOUNTS.parent, ...ACCOUNTS.subaccounts].join(','),
    '--from', from.toISOString(), '--to', to.toISOString(), '--seed', seed, '--load']);
  process.stdout.write(`${JSON.stringify(loaded)}\n`);

  step('Cluster: API, worker, notifier (and the embedded S3 server)');
  process.stdout.write('$ npm start\n');
  // The demo's callback receiver listens on loopback, which callbacks may reach only when allowed explicitly.
  const cluster = spawn(process.execPath, [CLI, 'start', 'all'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CALLBACK_ALLOWED_NETWORKS: process.env.CALLBACK_ALLOWED_NETWORKS || '127.0.0.0/8' },
  });
  const stopCluster = () =>
    new Promise<void>((resolve) => {
      if (cluster.exitCode !== null) return resolve();
      cluster.once('exit', () => resolve());
      cluster.kill('SIGTERM');
    });
  process.on('SIGINT', () => void stopCluster().then(() => process.exit(0)));

  const base = `http://127.0.0.1:${config.port}`;
  await waitForHealth(`${base}/healthz`, 30_000);
  process.stdout.write(`$ curl ${base}/healthz\n${await (await fetch(`${base}/healthz`)).text()}\n`);
  const accounts = await fetch(`${base}/v1/accounts`, { headers: { authorization: `Bearer ${parentKey}` } });
  process.stdout.write(`$ curl -H "Authorization: Bearer $API_KEY" ${base}/v1/accounts\n${JSON.stringify(await accounts.json(), null, 2)}\n`);

  step(`A report: every voice call of ${ACCOUNTS.parent} and its subaccounts in ${from.toISOString().slice(0, 7)}`);
  const auth = { authorization: `Bearer ${parentKey}`, 'content-type': 'application/json' };
  // A rerun of the demo cannot read the old secret back: rotating it gives one to verify with.
  let secret = parent.webhookSecret;
  if (!secret) {
    const rotated = await fetch(`${base}/v1/webhook-secret/rotate`, { method: 'POST', headers: { authorization: `Bearer ${parentKey}` } });
    secret = ((await rotated.json()) as { webhook_secret: string }).webhook_secret;
  }
  const receiver = await startCallbackReceiver(() => secret!);
  const body = {
    product: 'VOICE-CALL',
    include_subaccounts: true,
    date_start: from.toISOString(),
    date_end: to.toISOString(),
    timezone: 'Europe/London',
    callback_url: receiver.url,
  };
  process.stdout.write(`$ curl -X POST ${base}/v1/reports -H "Authorization: Bearer $API_KEY" -d '${JSON.stringify(body)}'\n`);
  const created = await fetch(`${base}/v1/reports`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const report = (await created.json()) as { request_id: string };
  process.stdout.write(`${created.status} ${created.headers.get('location')}\n`);

  let current: Record<string, unknown> & { request_status: string; progress?: { items_processed: number; percent: number } };
  for (;;) {
    current = (await (await fetch(`${base}/v1/reports/${report.request_id}`, { headers: auth })).json()) as typeof current;
    if (current.progress) process.stdout.write(`  ${current.request_status} ${current.progress.items_processed} rows, ${current.progress.percent}%\n`);
    if (!['PENDING', 'PROCESSING'].includes(current.request_status)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (current.request_status !== 'SUCCESS') throw new Error(`the report ended ${current.request_status}: ${JSON.stringify(current.error)}`);
  process.stdout.write(`  ${current.request_status}: ${current.items_count} rows\n`);

  process.stdout.write(`$ curl -L -H "Authorization: Bearer $API_KEY" ${base}/v1/reports/${report.request_id}/download -o FILE\n`);
  const download = await fetch(`${base}/v1/reports/${report.request_id}/download`, { headers: auth });
  if (!download.ok) throw new Error(`download failed with ${download.status}`);
  const bytes = Buffer.from(await download.arrayBuffer());
  const file = current.file as { name: string; size_bytes: number };
  const saved = path.join(ROOT, '.data', 'demo', file.name);
  await mkdir(path.dirname(saved), { recursive: true });
  await writeFile(saved, bytes);
  const counter = new CsvRecordCounter();
  counter.push(gunzipSync(bytes));
  const rows = counter.records - 1;
  if (bytes.length !== file.size_bytes || rows !== current.items_count) {
    throw new Error(`the file does not match the report: ${bytes.length} bytes / ${rows} rows, expected ${file.size_bytes} / ${current.items_count}`);
  }
  process.stdout.write(`  ${bytes.length} bytes, ${rows} data rows = items_count ${current.items_count}: the file is complete\n`);
  process.stdout.write(`  summary: ${JSON.stringify(current.summary, null, 2).replace(/\n/g, '\n  ')}\n`);
  process.stdout.write(`  file: ${path.relative(process.cwd(), saved)} (expires ${current.expires_at})\n`);

  step('The callback');
  const event = await Promise.race([
    receiver.event,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no callback within 30 s')), 30_000)),
  ]);
  receiver.close();
  if (!event.verified) throw new Error(`the callback ${event.id} did not carry a valid signature`);
  process.stdout.write(`  ${event.type} ${event.id} arrived at ${receiver.url}: signature verified (Standard Webhooks)\n`);
  // The notifier records the attempt once the receiver has answered: give it a moment.
  let log: { state?: string } = {};
  for (let tries = 0; tries < 50 && log.state !== 'delivered'; tries++) {
    log = (await (await fetch(`${base}/v1/reports/${report.request_id}/callbacks`, { headers: auth })).json()) as { state?: string };
    if (log.state !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.stdout.write(`$ curl -H "Authorization: Bearer $API_KEY" ${base}/v1/reports/${report.request_id}/callbacks\n${JSON.stringify(log, null, 2)}\n`);

  step('Ready');
  process.stdout.write(`API:      ${base}\nAPI key:  ${parentKey}  (account ${ACCOUNTS.parent}; shown once)\n`);
  if (once) {
    await stopCluster();
    process.stdout.write('Cluster stopped (--once). Run `npm start` to start it again.\n');
    return;
  }
  process.stdout.write('The cluster keeps running; Ctrl-C stops it.\n');
  await new Promise<void>((resolve) => cluster.once('exit', () => resolve()));
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
