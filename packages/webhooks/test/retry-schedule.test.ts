import { retryDelay } from '@cdr-reports/webhooks';

describe('retryDelay', () => {
  const schedule = [0, 1_000, 60_000, 300_000];

  it('takes the entry for the attempt about to be made: the delay before attempt n+1 after n attempts', () => {
    const middle = () => 0.5; // no jitter
    expect(retryDelay(schedule, 1, 0, middle)).toBe(1_000);
    expect(retryDelay(schedule, 2, 0, middle)).toBe(60_000);
    expect(retryDelay(schedule, 3, 0, middle)).toBe(300_000);
  });

  it('keeps using the last entry past the end of the schedule', () => {
    expect(retryDelay(schedule, 4, 0, () => 0.5)).toBe(300_000);
    expect(retryDelay(schedule, 40, 0, () => 0.5)).toBe(300_000);
  });

  it('jitters by at most 10 % either way, and does jitter', () => {
    expect(retryDelay(schedule, 2, 0, () => 0)).toBe(54_000);
    expect(retryDelay(schedule, 2, 0, () => 0.999_999)).toBeLessThanOrEqual(66_000);
    expect(retryDelay(schedule, 2, 0, () => 0.999_999)).toBeGreaterThan(65_990);
    const samples = Array.from({ length: 2_000 }, () => retryDelay(schedule, 2));
    for (const delay of samples) {
      expect(delay).toBeGreaterThanOrEqual(54_000);
      expect(delay).toBeLessThanOrEqual(66_000);
    }
    expect(new Set(samples).size).toBeGreaterThan(100);
    expect(Math.min(...samples)).toBeLessThan(56_000);
    expect(Math.max(...samples)).toBeGreaterThan(64_000);
  });

  it('does not jitter a zero delay into a negative or positive one', () => {
    expect(retryDelay([0, 0], 1, 0, () => 0)).toBe(0);
    expect(retryDelay([0, 0], 1, 0, () => 0.999)).toBe(0);
  });

  it('never retries sooner than Retry-After asked, even when the schedule says sooner', () => {
    expect(retryDelay([0, 200, 200], 1, 2_000, () => 1)).toBe(2_000);
    expect(retryDelay([0, 0], 1, 2_000)).toBe(2_000);
    // A Retry-After shorter than the schedule does not hurry the retry.
    expect(retryDelay(schedule, 2, 2_000, () => 0)).toBe(54_000);
    expect(retryDelay(schedule, 1, undefined, () => 0.5)).toBe(1_000);
  });
});
