import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/** What the receiver answers to request number `n` (1-based): a status, optional headers, or a delay first. */
export type WebhookAnswer = { status: number; headers?: Record<string, string>; delayMs?: number; body?: string };

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT/PATH */
  url(path?: string): string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on a free loopback port that records every request and answers as `answer` says
 * (default 204). A delayed answer still records the request when it arrives.
 */
export async function startWebhookReceiver(answer: (n: number, request: IncomingMessage) => WebhookAnswer = () => ({ status: 204 })): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const pending = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
      const reply = answer(received.length, request);
      pending.add(response);
      const send = () => {
        pending.delete(response);
        if (response.destroyed) return;
        response.writeHead(reply.status, reply.headers).end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/hooks') => `http://127.0.0.1:${port}${path}`,
    received,
    async close() {
      for (const response of pending) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
