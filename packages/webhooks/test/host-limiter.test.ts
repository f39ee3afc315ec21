import { HostLimiter } from '@cdr-reports/webhooks';

describe('HostLimiter', () => {
  it('gives perHost slots to one host at once, then refuses at once', () => {
    const limiter = new HostLimiter(2);
    const first = limiter.acquire('slow.example.com:443');
    const second = limiter.acquire('slow.example.com:443');
    expect(first).toBeInstanceOf(Function);
    expect(second).toBeInstanceOf(Function);
    expect(limiter.inFlight('slow.example.com:443')).toBe(2);
    expect(limiter.acquire('slow.example.com:443')).toBeUndefined();
    first!();
    expect(limiter.inFlight('slow.example.com:443')).toBe(1);
    expect(limiter.acquire('slow.example.com:443')).toBeInstanceOf(Function);
  });

  it('counts each host (and port) on its own: a full host does not hold up another', () => {
    const limiter = new HostLimiter(1);
    expect(limiter.acquire('127.0.0.1:8001')).toBeDefined();
    expect(limiter.acquire('127.0.0.1:8001')).toBeUndefined();
    expect(limiter.acquire('127.0.0.1:8002')).toBeDefined();
    expect(limiter.acquire('hooks.example.com')).toBeDefined();
    expect(limiter.inFlight('127.0.0.1:8001')).toBe(1);
    expect(limiter.inFlight('unknown')).toBe(0);
  });

  it('a release counts once, however often it is called', () => {
    const limiter = new HostLimiter(2);
    const release = limiter.acquire('h')!;
    limiter.acquire('h');
    release();
    release();
    expect(limiter.inFlight('h')).toBe(1);
  });
});
