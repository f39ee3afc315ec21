import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

/** A redis-server process that belongs to one test, which may stop and start it. */
export interface TestRedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Where it keeps its append-only file, kept across restarts. */
  directory: string;
  readonly running: boolean;
  /** The end of what the server printed, for failure messages. */
  readonly log: string;
  /** SIGTERM (Redis's graceful shutdown, which flushes the AOF); resolves once the process has exited. */
  stop(): Promise<void>;
  /** Starts the server again on the same port over the same directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (SIGKILL if SIGTERM is not enough) and deletes its directory. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `redis-server` on a free loopback port over a temporary directory, durable as production runs it:
 * every write fsynced to the append-only file, no RDB snapshots, noeviction (BullMQ requires it).
 */
export async function startTestRedisServer(): Promise<TestRedisServer> {
  const directory = await mkdtemp(join(tmpdir(), 'cdr-test-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const alive = (process: ChildProcess | undefined): process is ChildProcess =>
    process !== undefined && process.exitCode === null && process.signalCode === null;

  async function start(): Promise<void> {
    if (alive(child)) return;
    const started = spawn(
      'redis-server',
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', directory,
        '--appendonly', 'yes',
        '--appendfsync', 'always',
        '--save', '',
        '--maxmemory-policy', 'noeviction',
        '--daemonize', 'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    const exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    // Only this run's output says whether this run is ready.
    let thisRun = '';
    let ready = false;
    for (const stream of [started.stdout!, started.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output = (output + text).slice(-8000);
        if (!ready) thisRun += text;
        if (/Ready to accept connections/.test(thisRun)) ready = true;
      });
    }
    started.once('error', (error) => (output += `\nspawn failed: ${error.message}`));
    await waitFor(
      () => {
        if (!alive(started)) throw new Error(`redis-server exited: ${output}`);
        return ready;
      },
      { timeoutMs: 15_000, intervalMs: 20, what: `redis-server on port ${port} to accept connections` },
    ).catch(async (error: Error) => {
      started.kill('SIGKILL');
      await exited;
      throw error;
    });
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const running = child;
    if (!alive(running)) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    await exited;
  }

  try {
    await start();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    directory,
    get running() {
      return alive(child);
    },
    get log() {
      return output.slice(-4000);
    },
    stop: () => stop('SIGTERM'),
    start,
    async close() {
      const stopping = stop('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await stopping;
      clearTimeout(timer);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
