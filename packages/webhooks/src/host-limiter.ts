/**
 * Bounds how many deliveries go to one destination host at once, so that a slow or dead receiver holds at
 * most `perHost` of the notifier's slots and every other receiver keeps its pace. A delivery whose host is
 * at its limit gets no slot and steps aside (its job is re-queued for a moment later); it never waits while
 * holding a slot, which would let a dead host take more than its share.
 */
export class HostLimiter {
  private readonly active = new Map<string, number>();

  /** @param perHost - deliveries allowed in flight to one host (host and port). */
  constructor(private readonly perHost: number) {}

  /** A release function when a slot for `host` is free, undefined when the host is at its limit. */
  acquire(host: string): (() => void) | undefined {
    const count = this.active.get(host) ?? 0;
    if (count >= this.perHost) return undefined;
    this.active.set(host, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.active.get(host) ?? 1) - 1;
      if (now === 0) this.active.delete(host);
      else this.active.set(host, now);
    };
  }

  inFlight(host: string): number {
    return this.active.get(host) ?? 0;
  }
}
