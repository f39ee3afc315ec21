import { spawn, type ChildProcess } from 'node:child_process';
import { builtEntry, PROJECT_ROOT } from '@cdr-reports/config';
import { WORKER_ENVIRONMENT, WORKER_NODE_FLAGS } from '@cdr-reports/worker/node-flags';
import { waitFor } from './wait';

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
    // As the Docker image runs it: plain node and the built CLI (Jest's globalSetup builds it from the source
    // under test), no wrapper process (a wrapper such as tsx's relays signals, and kills a busy app with SIGKILL).
    this.child = spawn(process.execPath, [builtEntry('cli'), 'start', app], {
      cwd: PROJECT_ROOT,
      // Its own process group, so that kill -9 reaches all of it.
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
