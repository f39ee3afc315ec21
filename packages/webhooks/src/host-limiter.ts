/**
 * Bounds how many deliveries go to one destination host at once, so that a slow or dead receiver holds at
 * most `perHost` of the notifier's slots and every other receiver keeps its pace.
 *
 * A delivery that finds its host's slots taken waits up to `patienceMs` for one: a healthy host frees a slot
 * every few milliseconds, so a busy one is served back to back, first come first served. A delivery that gets
 * no slot in that time is refused and steps aside (its job is re-queued for a moment later), so a slow or
 * dead host costs each of the notifier's other slots at most `patienceMs` before they turn to other work.
 */
export class HostLimiter {
  private readonly hosts = new Map<string, HostState>();

  /**
   * @param perHost - deliveries allowed in flight to one host (host and port).
   * @param patienceMs - how long a delivery waits for a slot of its host before it is refused. Default 25.
   */
  constructor(
    private readonly perHost: number,
    private readonly patienceMs = 25,
  ) {}

  /**
   * A slot for `host`: resolves with its release function once the slot is ours (at once when one is free),
   * or with undefined when none came free within `patienceMs`.
   */
  acquire(host: string): Promise<(() => void) | undefined> {
    let state = this.hosts.get(host);
    if (!state) {
      state = { active: 0, waiting: [] };
      this.hosts.set(host, state);
    }
    const hostState = state;
    if (hostState.active < this.perHost) {
      hostState.active++;
      return Promise.resolve(this.releaser(host, hostState));
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(this.releaser(host, hostState));
        },
      };
      const timer = setTimeout(() => {
        hostState.waiting.splice(hostState.waiting.indexOf(waiter), 1);
        resolve(undefined);
      }, this.patienceMs);
      hostState.waiting.push(waiter);
    });
  }

  /** Deliveries sending to `host` now. */
  inFlight(host: string): number {
    return this.hosts.get(host)?.active ?? 0;
  }

  /** Deliveries waiting for a slot of `host`. */
  waiting(host: string): number {
    return this.hosts.get(host)?.waiting.length ?? 0;
  }

  private releaser(host: string, state: HostState): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot goes straight to the first one waiting; only when nobody waits is it given back.
      const next = state.waiting.shift();
      if (next) return next.grant();
      state.active--;
      if (state.active === 0) this.hosts.delete(host);
    };
  }
}

interface HostState {
  active: number;
  /** First come first served; each leaves when granted a slot or when its patience runs out. */
  waiting: Array<{ grant: () => void }>;
}
