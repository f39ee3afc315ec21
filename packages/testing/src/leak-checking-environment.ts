import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';
import { describeOpenedSince, handlesAbove, openHandles, takeHandleCensus, type HandleCensus } from './handle-census';

/** Node's Timeout object, with the internals that tell whether it is still pending and what it is. */
interface TrackedTimer {
  hasRef(): boolean;
  _destroyed?: boolean;
  _idleTimeout?: number;
  _repeat?: number | null;
  _onTimeout?: { name?: string } | null;
}

/**
 * The integration suites' test environment: Node's, plus a leak check. Before the suite's file is loaded it counts
 * what keeps the process alive (sockets, servers, child processes, pipes, ...), and it notes every timer the suite's
 * code (its own, the fixtures' and the libraries') sets. Once the suite has run, after its last afterAll, it waits
 * up to `leakGraceMs` (testEnvironmentOptions, default 5000) for the counts to come back down and the timers to be
 * cleared (a closed socket takes a moment to go), and otherwise fails the suite naming the kinds that stayed open,
 * where the new sockets and servers point, and the timers still set. The suite's teardown must close them: this
 * only checks. Unref'd handles and timers do not count (they do not keep a process alive).
 */
export default class LeakCheckingEnvironment extends NodeEnvironment {
  private before: HandleCensus = new Map();
  private handlesBefore: ReadonlySet<unknown> = new Set();
  private readonly timers = new Set<TrackedTimer>();
  private readonly graceMs: number;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.graceMs = Number(config.projectConfig.testEnvironmentOptions.leakGraceMs ?? 5_000);
  }

  override async setup(): Promise<void> {
    await super.setup();
    this.trackTimers();
    this.before = takeHandleCensus();
    this.handlesBefore = new Set(openHandles());
  }

  // Circus awaits this for every event; `run_finish` comes after the last afterAll of the file. An error added to
  // the run's unhandled errors fails the suite with its message.
  async handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> {
    if (event.name !== 'run_finish') return;
    const leaked = await this.leakedAfterGrace();
    if (leaked.length === 0) return;
    const endpoints = describeOpenedSince(this.handlesBefore);
    const error = new Error(
      `the suite left handles open after its last afterAll (waited ${this.graceMs} ms): ${leaked.join(', ')}` +
        (endpoints.length > 0 ? `; opened by the suite and still open: ${endpoints.join(', ')}` : ''),
    );
    error.stack = error.message; // where it was raised says nothing about the leak
    state.unhandledErrors.push(error);
  }

  /**
   * Notes every timer set through the suite's globals. Timers are counted here rather than in the census: Jest's
   * own (its reporters', its hook timeouts') come and go in the same process and would blur a count.
   */
  private trackTimers(): void {
    const timers = this.timers;
    const global = this.global as unknown as Record<'setTimeout' | 'setInterval', (...args: unknown[]) => TrackedTimer>;
    for (const name of ['setTimeout', 'setInterval'] as const) {
      const original = global[name];
      global[name] = Object.assign(function (this: unknown, ...args: unknown[]) {
        const timer = original.apply(this, args);
        if (timers.size >= 10_000) for (const done of timers) if (done._destroyed) timers.delete(done);
        timers.add(timer);
        return timer;
      }, original);
    }
  }

  private pendingTimers(): string[] {
    const pending = [...this.timers].filter((timer) => !timer._destroyed && timer.hasRef());
    if (pending.length === 0) return [];
    const described = pending.map((timer) => `${timer._repeat ? `setInterval every ${timer._repeat}` : `setTimeout of ${timer._idleTimeout}`} ms (${timer._onTimeout?.name || 'anonymous'})`);
    return [`timers (setTimeout/setInterval) still set: ${described.join(', ')}`];
  }

  private async leakedAfterGrace(): Promise<string[]> {
    const deadline = Date.now() + this.graceMs;
    for (;;) {
      const leaked = [...handlesAbove(this.before, ['Timeout']), ...this.pendingTimers()];
      if (leaked.length === 0 || Date.now() >= deadline) return leaked;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
