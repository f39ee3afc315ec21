import { HostLimiter } from '@cdr-reports/webhooks';

/** What a promise has settled with by the time queued microtasks have run, or 'pending'. */
async function state<T>(promise: Promise<T>): Promise<T | 'pending'> {
  let result: T | 'pending' = 'pending';
  void promise.then((value) => (result = value));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return result;
}

describe('HostLimiter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gives perHost slots to one host at once; the next waits', async () => {
    const limiter = new HostLimiter(2, 50);
    const host = 'slow.example.com:443';
    expect(await state(limiter.acquire(host))).toBeInstanceOf(Function);
    expect(await state(limiter.acquire(host))).toBeInstanceOf(Function);
    const third = limiter.acquire(host);
    expect(await state(third)).toBe('pending');
    expect(limiter.inFlight(host)).toBe(2);
    expect(limiter.waiting(host)).toBe(1);
  });

  it('refuses a delivery that gets no slot within its patience', async () => {
    const limiter = new HostLimiter(1, 50);
    await limiter.acquire('h');
    const refused = limiter.acquire('h');
    jest.advanceTimersByTime(49);
    expect(await state(refused)).toBe('pending');
    jest.advanceTimersByTime(1);
    expect(await state(refused)).toBeUndefined();
    expect(limiter.waiting('h')).toBe(0);
    expect(limiter.inFlight('h')).toBe(1);
  });

  it('hands a released slot to the first one waiting, never to more than perHost at once', async () => {
    const limiter = new HostLimiter(1, 50);
    const first = (await limiter.acquire('h'))!;
    const second = limiter.acquire('h');
    const third = limiter.acquire('h');
    jest.advanceTimersByTime(30);
    first();
    const releaseSecond = await state(second);
    expect(releaseSecond).toBeInstanceOf(Function);
    expect(await state(third)).toBe('pending');
    expect(limiter.inFlight('h')).toBe(1);
    // The second's patience no longer runs: it holds the slot until it releases it.
    jest.advanceTimersByTime(10);
    (releaseSecond as () => void)();
    const releaseThird = await state(third);
    expect(releaseThird).toBeInstanceOf(Function);
    jest.advanceTimersByTime(1_000);
    expect(limiter.inFlight('h')).toBe(1);
    (releaseThird as () => void)();
    expect(limiter.inFlight('h')).toBe(0);
    expect(limiter.waiting('h')).toBe(0);
  });

  it('counts each host (and port) on its own: a full host does not hold up another', async () => {
    const limiter = new HostLimiter(1, 50);
    expect(await state(limiter.acquire('127.0.0.1:8001'))).toBeInstanceOf(Function);
    expect(await state(limiter.acquire('127.0.0.1:8001'))).toBe('pending');
    expect(await state(limiter.acquire('127.0.0.1:8002'))).toBeInstanceOf(Function);
    expect(await state(limiter.acquire('hooks.example.com'))).toBeInstanceOf(Function);
    expect(limiter.inFlight('127.0.0.1:8001')).toBe(1);
    expect(limiter.inFlight('unknown')).toBe(0);
  });

  it('a release counts once, however often it is called', async () => {
    const limiter = new HostLimiter(2);
    const release = (await limiter.acquire('h'))!;
    await limiter.acquire('h');
    release();
    release();
    expect(limiter.inFlight('h')).toBe(1);
  });
});
