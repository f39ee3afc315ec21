/**
 * Intake: accepted `POST /v1/reports` per second and p99 latency, autocannon with 50 connections for 10 s
 * (10 connections for 2 s with --quick), against the API process as deployed (its own process, real
 * PostgreSQL and Redis, no worker). Baseline: a bare Fastify route answering 202 with a small JSON body, in a
 * process of its own, measured the same way in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { AccountsRepository } from '@cdr-reports/db';
import { AppProcess, freePort, startTestServices, waitFor } from '@cdr-reports/testing';
import type { Figure } from './report';

const BODY = JSON.stringify({ product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z' });

export async function benchIntake(options: { quick: boolean }): Promise<Figure[]> {
  const load = options.quick ? { connections: 10, duration: 2 } : { connections: 50, duration: 10 };
  const services = await startTestServices();
  const port = await freePort();
  const api = new AppProcess('api', services.env({ PORT: String(port), ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) }));
  const barePort = await freePort();
  const bare = startBareFastify(barePort);
  try {
    const { apiKey } = await new AccountsRepository(services.db.pool).create({ name: 'intake', id: 'bench-intake' });
    await api.ready();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${barePort}/healthz`).catch(() => undefined))?.ok || undefined, { timeoutMs: 30_000, what: 'the bare Fastify process' });

    const ours = await hammer(`http://127.0.0.1:${port}/v1/reports`, { authorization: `Bearer ${apiKey}` }, load);
    const baseline = await hammer(`http://127.0.0.1:${barePort}/v1/reports`, {}, load);
    const created = Number((await services.db.pool.query<{ count: string }>('SELECT count(*) FROM reports')).rows[0]!.count);
    // Requests still in flight when autocannon stops are recorded without their answer being counted.
    if (created < ours.accepted || created > ours.accepted + load.connections) {
      throw new Error(`the API answered 202 ${ours.accepted} times but recorded ${created} reports`);
    }
    const perSecond = ours.accepted / load.duration;
    return [
      {
        benchmark: 'intake',
        figure: `accepted POST /v1/reports per second (${load.connections} connections, ${load.duration} s)`,
        value: perSecond,
        unit: '/s',
        baseline: { name: 'bare Fastify route', value: baseline.accepted / load.duration },
        target: { text: '>= 2,000/s', met: perSecond >= 2_000 },
      },
      {
        benchmark: 'intake',
        figure: 'POST /v1/reports latency, p99',
        value: ours.p99,
        unit: 'ms',
        baseline: { name: 'bare Fastify route', value: baseline.p99 },
        target: { text: '< 50 ms', met: ours.p99 < 50 },
      },
    ];
  } finally {
    bare.kill();
    await api.stop();
    await services.close();
  }
}

async function hammer(url: string, headers: Record<string, string>, load: { connections: number; duration: number }): Promise<{ accepted: number; p99: number }> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: BODY,
    connections: load.connections,
    duration: load.duration,
  });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} answers other than 2xx`);
  return { accepted: result['2xx'], p99: result.latency.p99 };
}

/** The baseline: Fastify with one route that parses the JSON body and answers 202, nothing else. */
function startBareFastify(port: number): ChildProcess {
  const source = `
    const app = require('fastify')();
    app.get('/healthz', async () => ({ ok: true }));
    app.post('/v1/reports', async (request, reply) => reply.code(202).send({ request_id: 'x', request_status: 'PENDING', product: request.body.product }));
    app.listen({ port: ${port}, host: '127.0.0.1' });
  `;
  return spawn(process.execPath, ['-e', source], { stdio: 'ignore' });
}

