import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WORKER_ENVIRONMENT, WORKER_NODE_FLAGS } from '@cdr-reports/worker';
import { waitFor } from './wait';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'apps', 'cli', 'src', 'main.ts');

export type AppName = 'api' | 'worker' | 'notifier';

/**
 * A `cli start <app>` process, as a deployment runs it, configured only through `env` (for instance
 * `services.env({...})`); PATH, HOME and PG* are inherited. It logs at info, which is how `ready()` knows.
 */
export class AppProcess {
  readonly child: ChildProcess;
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly app: AppName,
    env: Record<string, string>,
  ) {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => name === 'PATH' || name === 'HOME' || name.startsWith('PG')),
    );
    // As the Docker image runs it: node with tsx's loader, no tsx wrapper process. The wrapper relays a signal
    // and, when the app has not acknowledged it within 60 ms (a busy event loop under load), kills it with
    // SIGKILL and exits 143: a graceful stop measured through it failed at random.
    this.child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', app], {
      cwd: ROOT,
      // Its own process group (with esbuild's service process), so that kill -9 reaches all of it.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A worker runs with the flags every deployment gives it (env can override them, as NODE_OPTIONS).
      env: { ...inherited, ...(app === 'worker' ? { ...WORKER_ENVIRONMENT, NODE_OPTIONS: WORKER_NODE_FLAGS.join(' ') } : {}), ...env, LOG_LEVEL: 'info' },
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) stream.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The end of what it printed, for failure messages. */
  get log(): string {
    return this.output.slice(-4000);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** True while any process of its group still exists. */
  groupAlive(): boolean {
    try {
      process.kill(-this.child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once the app logged that it started. */
  async ready(): Promise<void> {
    await waitFor(
      () => {
        if (!this.alive) throw new Error(`the ${this.app} exited: ${this.log}`);
        return this.output.includes(`"msg":"${this.app} started`);
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `the ${this.app} process to start` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.log}`);
    });
  }

  /** kill -9 of the whole process group. */
  async kill(): Promise<void> {
    if (this.groupAlive()) process.kill(-this.child.pid!, 'SIGKILL');
    if (this.alive) await this.exited;
    await waitFor(() => !this.groupAlive(), { timeoutMs: 5_000, what: `every process of the ${this.app} to be gone` });
  }

  /** SIGTERM to the group: a graceful stop. */
  async stop(): Promise<void> {
    if (this.groupAlive()) process.kill(-this.child.pid!, 'SIGTERM');
    if (this.alive) await this.exited;
  }
}
