import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { builtEntry } from '@cdr-reports/config';
import { createProducerConnection, upsertSchedules } from '@cdr-reports/jobs';
import { runUntilSignal } from '@cdr-reports/lifecycle';
import { createLogger } from '@cdr-reports/logging';
import { WORKER_ENVIRONMENT, WORKER_NODE_FLAGS } from '@cdr-reports/worker/node-flags';
import { UsageError, type CliContext } from '../context';
import type { Command } from './command';

const APPS = ['api', 'worker', 'notifier'] as const;

const USAGE = `cli start api|worker|notifier|s3|all
    api       the HTTP API on PORT
    worker    the report and maintenance worker
    notifier  the callback notifier
    s3        the embedded S3-compatible server on EMBEDDED_S3_PORT (for local use)
    all       migrations and schedules, then the embedded S3 server (when S3_ENDPOINT is unset),
              the api, the worker and the notifier as separate processes (what npm start runs)`;

export const startCommand: Command = {
  summary: 'run an app (api, worker, notifier, s3) or the whole cluster (all)',
  usage: USAGE,
  async run(argv: string[], ctx: CliContext) {
    const [target, ...rest] = argv;
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    if (target === 'all') return startAll(ctx);
    if (target === 's3' || (APPS as readonly string[]).includes(target ?? '')) {
      await ctx.close();
      const logger = createLogger({ app: target!, level: ctx.config.logLevel });
      const config = ctx.config;
      // Each app loaded only here, so that a process holds only its own app's code and libraries (a worker never
      // loads Fastify, an api never loads DuckDB).
      const starters: Record<string, () => Promise<() => Promise<void>>> = {
        api: async () => (await import('@cdr-reports/api')).runApi(config, logger),
        worker: async () => (await import('@cdr-reports/worker')).runWorker(config, logger),
        notifier: async () => (await import('@cdr-reports/notifier')).runNotifier(config, logger),
        // Loaded only here: this process is then the embedded server alone (it patches its node:crypto).
        s3: async () => (await import('@cdr-reports/embedded-s3')).serveEmbeddedS3({ port: config.embeddedS3Port, directory: config.embeddedS3Dir }, logger),
      };
      await runUntilSignal(logger, starters[target!]!, { shutdownDeadlineMs: config.shutdownTimeoutMs });
      // The process now lives until a signal stops it.
      return new Promise<number>(() => undefined);
    }
    throw new UsageError(target ? `unknown app "${target}"` : 'start needs an app name');
  },
};

/** The whole cluster on one machine: one supervisor, one child process per app, stopped together. */
async function startAll(ctx: CliContext): Promise<number> {
  const logger = createLogger({ app: 'supervisor', level: ctx.config.logLevel });
  // Migrations and schedules happen here, once, before any app starts (not in every replica).
  await ctx.db();
  await ctx.close();
  const redis = createProducerConnection(ctx.config.redisUrl, { enableOfflineQueue: true });
  try {
    await upsertSchedules(redis, ctx.config.queuePrefix);
  } finally {
    redis.disconnect();
  }

  const children = new Map<string, ChildProcess>();
  let stopping = false;
  // Every app runs the built CLI (dist/cli.js, npm run build) with plain node.
  const spawnApp = (name: string, command: string[] = [builtEntry('cli'), 'start', name]) => {
    const flags = name === 'worker' ? WORKER_NODE_FLAGS : [];
    // The worker and the notifier serve /metrics on ports of their own: METRICS_PORT and the next one.
    const env =
      name === 'notifier' && ctx.config.metricsPort !== 0
        ? { ...process.env, METRICS_PORT: String(ctx.config.metricsPort + 1) }
        : name === 'worker'
          ? { ...WORKER_ENVIRONMENT, ...process.env }
          : process.env;
    const child = spawn(process.execPath, [...flags, ...command], {
      env,
      stdio: 'inherit',
    });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (!stopping) {
        logger.error({ child: name, code, signal }, 'an app exited unexpectedly; stopping the cluster');
        void stopAll(1);
      }
    });
    return child;
  };

  const stopAll = async (exitCode: number) => {
    stopping = true;
    const order: string[] = [...APPS, 's3'];
    for (const name of order) {
      const child = children.get(name);
      if (!child) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    logger.info('cluster stopped');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  if (!ctx.config.s3Endpoint) {
    // A process of its own, from the embedded-s3 package's entry (not the CLI): s3rver and its patch of
    // node:crypto never come near the api, the worker or the notifier. Imported lazily for the same reason.
    const { embeddedS3Arguments } = await import('@cdr-reports/embedded-s3');
    const options = { port: ctx.config.embeddedS3Port, directory: ctx.config.embeddedS3Dir, logLevel: ctx.config.logLevel };
    spawnApp('s3', [builtEntry('embedded-s3'), ...embeddedS3Arguments(options)]);
    await waitForPort(ctx.config.embeddedS3Port, 15_000);
  }
  for (const app of APPS) spawnApp(app);
  logger.info({ apps: [...children.keys()], port: ctx.config.port }, 'cluster started; Ctrl-C stops it');
  return new Promise<number>(() => undefined);
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
