/**
 * The delay before the next attempt after `attemptsMade` attempts (the schedule's entry for that attempt),
 * with +-10 % jitter so that receivers that failed together are not retried together, and never less than
 * what the receiver asked for with Retry-After.
 */
export function retryDelay(schedule: readonly number[], attemptsMade: number, retryAfterMs = 0, random = Math.random): number {
  const base = schedule[Math.min(attemptsMade, schedule.length - 1)] ?? 0;
  const jittered = base === 0 ? 0 : Math.round(base * (0.9 + random() * 0.2));
  return Math.max(jittered, retryAfterMs);
}
