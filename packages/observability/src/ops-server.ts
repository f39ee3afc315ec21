import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics';
import type { ReadinessReport } from './readiness';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The operations endpoints of an app without an HTTP API of its own (the worker, the notifier), on their own
 * port: GET /metrics (Prometheus text), /healthz (the process answers) and /readyz (200 or 503 with the
 * result of every check, as JSON).
 */
export async function startOpsServer(options: { port: number; host?: string; metrics: Metrics; readiness: () => Promise<ReadinessReport> }): Promise<OpsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}');
    if (path === '/metrics') {
      options.metrics.text().then(
        (text) => send(200, options.metrics.contentType, text),
        (error: unknown) => send(500, 'text/plain', `metrics failed: ${String(error)}\n`),
      );
      return;
    }
    if (path === '/readyz') {
      options.readiness().then(
        (report) => send(report.ready ? 200 : 503, 'application/json', JSON.stringify({ status: report.ready ? 'ready' : 'not ready', checks: report.checks })),
        (error: unknown) => send(503, 'application/json', JSON.stringify({ status: 'not ready', error: String(error) })),
      );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
