import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { request, type Agent } from 'undici';
import { AddressPolicy, MAX_RESPONSE_BYTES, createGuardedAgent, deliverWebhook, retryAfterMs, type WebhookMessage } from '@cdr-reports/webhooks';

/** A real HTTP server on a loopback port that counts TCP connections and records requests. */
interface LocalServer {
  url(path?: string, host?: string): string;
  connections: number;
  requests: { url: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

async function startServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<LocalServer> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      local.requests.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      handler(request, response);
    });
  });
  server.on('connection', () => local.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const local: LocalServer = {
    url: (path = '/hook', host = '127.0.0.1') => `http://${host}:${port}${path}`,
    connections: 0,
    requests: [],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return local;
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const LOOPBACK_ALLOWED = new AddressPolicy(['127.0.0.0/8']);
const STRICT = new AddressPolicy();

describe('deliverWebhook', () => {
  const servers: LocalServer[] = [];
  const agents: Agent[] = [];
  const serve = async (handler: (request: IncomingMessage, response: ServerResponse) => void) => {
    const server = await startServer(handler);
    servers.push(server);
    return server;
  };
  const agent = (policy: AddressPolicy) => {
    const created = createGuardedAgent(policy);
    agents.push(created);
    return created;
  };
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const created of agents.splice(0)) await created.close();
  });

  const secret = newSecret();
  const message = (url: string): WebhookMessage => ({
    url,
    id: 'msg_unit_test_event_0001',
    body: JSON.stringify({ type: 'report.completed', timestamp: '2026-03-10T09:00:00.000Z', data: { request_id: 'x', text: 'ünïcode ✓' } }),
    secrets: [secret],
    userAgent: 'cdr-reports-webhooks/9.9.9',
  });
  const deliver = (url: string, options: { policy?: AddressPolicy; timeoutMs?: number } = {}) =>
    deliverWebhook(message(url), { dispatcher: agent(options.policy ?? LOOPBACK_ALLOWED), policy: options.policy ?? LOOPBACK_ALLOWED, timeoutMs: options.timeoutMs ?? 5_000 });

  it('POSTs the body byte for byte with the Standard Webhooks headers; a 2xx is delivered', async () => {
    const server = await serve((_req, res) => res.writeHead(202).end('ok'));
    const before = Math.floor(Date.now() / 1000);
    const outcome = await deliver(server.url());
    expect(outcome).toEqual({ delivered: true, statusCode: 202, durationMs: expect.any(Number) });
    expect(server.requests).toHaveLength(1);
    const [received] = server.requests;
    expect(received!.body).toBe(message('').body);
    expect(received!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'cdr-reports-webhooks/9.9.9',
      'webhook-id': 'msg_unit_test_event_0001',
    });
    const timestamp = Number(received!.headers['webhook-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(new Webhook(secret).verify(received!.body, received!.headers as Record<string, string>)).toEqual(JSON.parse(message('').body));
  });

  it.each([301, 302, 307, 308])('does not follow a %i redirect: the attempt fails and the target gets nothing', async (status) => {
    const target = await serve((_req, res) => res.writeHead(204).end());
    const redirecting = await serve((_req, res) => res.writeHead(status, { location: target.url('/elsewhere') }).end());
    const outcome = await deliver(redirecting.url());
    expect(outcome).toMatchObject({ delivered: false, statusCode: status, error: `redirect (${status}) not followed` });
    expect(redirecting.requests).toHaveLength(1);
    expect(target.connections).toBe(0);
  });

  it('marks 410 Gone so that no further attempt is made', async () => {
    const server = await serve((_req, res) => res.writeHead(410).end());
    expect(await deliver(server.url())).toMatchObject({ delivered: false, statusCode: 410, gone: true, error: 'receiver answered 410' });
  });

  it('reads Retry-After on 429 and 503 (seconds or an HTTP date), and only there', async () => {
    const inThirtySeconds = new Date(Math.ceil(Date.now() / 1000) * 1000 + 30_000).toUTCString();
    const server = await serve((req, res) => {
      if (req.url === '/429') res.writeHead(429, { 'retry-after': '2' }).end();
      else if (req.url === '/503') res.writeHead(503, { 'retry-after': inThirtySeconds }).end();
      else res.writeHead(500, { 'retry-after': '2' }).end();
    });
    expect(await deliver(server.url('/429'))).toMatchObject({ delivered: false, statusCode: 429, retryAfterMs: 2_000 });
    const unavailable = await deliver(server.url('/503'));
    expect(unavailable).toMatchObject({ delivered: false, statusCode: 503 });
    expect(unavailable.retryAfterMs).toBeGreaterThan(28_000);
    expect(unavailable.retryAfterMs).toBeLessThanOrEqual(31_000);
    const serverError = await deliver(server.url('/500'));
    expect(serverError).toMatchObject({ delivered: false, statusCode: 500, error: 'receiver answered 500' });
    expect(serverError.retryAfterMs).toBeUndefined();
    expect(serverError.gone).toBeUndefined();
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const server = await serve(() => undefined); // never answers
    const started = Date.now();
    const outcome = await deliver(server.url(), { timeoutMs: 300 });
    expect(outcome).toMatchObject({ delivered: false, error: 'no answer within 300 ms' });
    expect(outcome.statusCode).toBeUndefined();
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reads at most 64 KiB of an answer: an endless body does not hold the attempt', async () => {
    let written = 0;
    let closed = false;
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.on('close', () => (closed = true));
      const pump = () => {
        while (!res.destroyed && written < 512 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    const outcome = await deliver(server.url(), { timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ delivered: true, statusCode: 200 });
    expect(outcome.durationMs).toBeLessThan(2_000);
    // The receiver's stream was cut off long before its 512 MiB: only socket buffers' worth was ever sent.
    const deadline = Date.now() + 2_000;
    while (!closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(true);
    expect(written).toBeGreaterThanOrEqual(MAX_RESPONSE_BYTES);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('ends an attempt whose answer trickles in forever at the timeout (the timeout covers the last byte read)', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const outcome = await deliver(server.url(), { timeoutMs: 300 });
    expect(outcome).toMatchObject({ delivered: false, error: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each(['http://127.0.0.1:PORT/hook', 'http://[::ffff:127.0.0.1]:PORT/hook', 'http://[::ffff:7f00:1]:PORT/hook', 'http://2130706433:PORT/hook', 'http://0x7f.1:PORT/hook'])(
    'refuses the private IP literal %s without connecting',
    async (template) => {
      const server = await serve((_req, res) => res.writeHead(204).end());
      const port = new URL(server.url()).port;
      const outcome = await deliver(template.replace('PORT', port), { policy: STRICT });
      expect(outcome).toMatchObject({ delivered: false, error: expect.stringMatching(/^refused: .*private, loopback/) });
      expect(outcome.statusCode).toBeUndefined();
      expect(server.connections).toBe(0);
    },
  );

  it('refuses a name that resolves to a private address at connect time (the guarded agent), without connecting', async () => {
    const server = await serve((_req, res) => res.writeHead(204).end());
    const outcome = await deliver(server.url('/hook', 'localhost'), { policy: STRICT });
    expect(outcome).toMatchObject({ delivered: false, error: expect.stringMatching(/refused to connect to localhost/) });
    expect(server.connections).toBe(0);
  });
});

describe('createGuardedAgent', () => {
  let server: LocalServer;
  beforeEach(async () => {
    server = await startServer((_req, res) => res.writeHead(200).end('hello'));
  });
  afterEach(() => server.close());

  /** A plain undici request through the agent, as the notifier makes them. */
  async function get(url: string, agent: Agent): Promise<number> {
    try {
      const response = await request(url, { dispatcher: agent });
      await response.body.text();
      return response.statusCode;
    } finally {
      await agent.close();
    }
  }

  // The URL check at creation time saw a public address; the name now resolves to a private one (DNS
  // rebinding). `localhost` stands for such a name: its lookup gives 127.0.0.1 and ::1.
  it('refuses to dial a name whose lookup gives only forbidden addresses; the server sees no connection', async () => {
    const error = await get(server.url('/', 'localhost'), createGuardedAgent(STRICT)).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error).toBeDefined();
    expect({ name: error!.name, code: error!.code, message: error!.message }).toEqual({
      name: 'ForbiddenAddressError',
      code: 'EFORBIDDENADDRESS',
      message: expect.stringMatching(/refused to connect to localhost: .* is a private, loopback/),
    });
    expect(server.connections).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it('dials a name resolving into an allowed network', async () => {
    expect(await get(server.url('/', 'localhost'), createGuardedAgent(new AddressPolicy(['127.0.0.0/8'])))).toBe(200);
    expect(server.requests).toHaveLength(1);
  });

  it('dials only the allowed ones among the resolved addresses', async () => {
    // localhost gives 127.0.0.1 and ::1; only ::1 is allowed, and the server listens on 127.0.0.1 alone.
    await expect(get(server.url('/', 'localhost'), createGuardedAgent(new AddressPolicy(['::1/128'])))).rejects.toThrow();
    expect(server.connections).toBe(0);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');

  it('reads delay-seconds', () => {
    expect(retryAfterMs('2', now)).toBe(2_000);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(['3', '5'], now)).toBe(3_000);
  });

  it('reads an HTTP date as the time left until then, never negative', () => {
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 21 Oct 2026 08:28:00 GMT', now)).toBe(3_600_000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:00:00 GMT', now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
