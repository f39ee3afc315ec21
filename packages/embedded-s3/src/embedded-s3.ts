import { mkdir } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import S3rver from 's3rver';
import { EMBEDDED_S3_CREDENTIALS, type EmbeddedS3Credentials } from './embedded-s3-credentials';
import { enableSingleDesForS3rver } from './s3rver-des-compat';
import { addMultipartUploadOperations } from './s3rver-multipart-uploads';

export interface EmbeddedS3Options {
  /** TCP port; 0 picks a free one (the actual port is in `endpoint`). */
  port: number;
  /** Folder that holds the buckets; created if missing. */
  directory: string;
  /** Address to listen on. Default `127.0.0.1`: the embedded server is for this machine only. */
  host?: string;
}

export interface EmbeddedS3 {
  /** http:// URL to give `createS3Client`, with the port actually bound. */
  endpoint: string;
  credentials: EmbeddedS3Credentials;
  /** Stops listening; resolves once every connection is closed. Safe to call twice. */
  close(): Promise<void>;
}

/** Connections still open this long after close() are cut rather than waited for. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Starts s3rver 3.7.1 in this process: an S3-compatible server for development, tests and the demo,
 * used when no S3 endpoint is configured. The process needs no special flags, because this patches its
 * `node:crypto` (see s3rver-des-compat.ts): call it only in a process of its own (main.ts, startEmbeddedS3Process)
 * or a test's, never in the api, the worker or the notifier. The server also lists and aborts unfinished
 * multipart uploads (see s3rver-multipart-uploads.ts).
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.directory, { recursive: true });
  enableSingleDesForS3rver();
  const server = new S3rver({
    address: host,
    port: options.port,
    directory: options.directory,
    silent: true,
    // Clients always use path-style addresses; s3rver would otherwise read a hostname such as `s3` as a bucket.
    vhostBuckets: false,
  });
  addMultipartUploadOperations(server);
  const { port } = await server.run();

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${endpointHost(host)}:${port}`,
    credentials: { ...EMBEDDED_S3_CREDENTIALS },
    close() {
      closing ??= closeServer(server);
      return closing;
    },
  };
}

async function closeServer(server: S3rver): Promise<void> {
  const closed = server.close();
  // A client stuck mid-request (an abandoned download stream) would otherwise hold close() open forever.
  const cut = setTimeout(() => server.httpServer?.closeAllConnections(), CLOSE_GRACE_MS);
  try {
    await closed;
  } finally {
    clearTimeout(cut);
  }
}

function endpointHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return isIPv6(host) ? `[${host}]` : host;
}
