import { once } from 'node:events';
import { connect, createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (for an app process to listen on). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Resolves with the connection error code (ECONNREFUSED...), or 'connected' if something listens at `endpoint`. */
export function tryConnect(endpoint: string): Promise<string> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
