import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { startEmbeddedS3Process, type EmbeddedS3Process } from '@cdr-reports/embedded-s3';
import { createS3Client } from '@cdr-reports/object-store';
import type { TestS3 } from './s3';

/** An embedded S3 server a test can take away and bring back, on the same port and over the same files. */
export interface RestartableS3 extends TestS3 {
  port: number;
  /** The folder that holds the buckets, kept across restarts. */
  directory: string;
  readonly running: boolean;
  /** The server's process id while it runs (a benchmark reads its CPU time). */
  readonly pid: number | undefined;
  /**
   * Stops the server's process with SIGTERM: it stops listening at once (new connections are refused) and exits
   * once open connections are closed.
   */
  stop(): Promise<void>;
  /** Listens again on the same port over the same folder: stored objects and buckets are still there. */
  start(): Promise<void>;
  /** Multipart parts stored so far in the bucket's unfinished uploads (how far an upload has come). */
  storedParts(): Promise<number>;
}

/**
 * Starts an embedded S3 server (s3rver) in a process of its own, on a free port, over a temporary folder, with a
 * fresh bucket, that the test can stop and start again as an S3 outage. `close()` stops it for good and deletes
 * its files.
 */
export async function startRestartableS3(): Promise<RestartableS3> {
  const directory = await mkdtemp(join(tmpdir(), 'cdr-test-s3-'));
  let server: EmbeddedS3Process | undefined;
  try {
    server = await startEmbeddedS3Process({ port: 0, directory });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = server.endpoint;
  const port = Number(new URL(endpoint).port);
  const client = createS3Client({ endpoint, credentials: server.credentials });
  const bucket = `cdr-test-${randomBytes(5).toString('hex')}`;
  const closeAll = async () => {
    client.destroy();
    await server?.close();
    server = undefined;
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    await closeAll();
    throw error;
  }
  return {
    endpoint,
    client,
    bucket,
    port,
    directory,
    get running() {
      return server !== undefined;
    },
    get pid() {
      return server?.pid;
    },
    async stop() {
      const stopping = server;
      server = undefined;
      await stopping?.close();
    },
    async start() {
      if (server) return;
      server = await startEmbeddedS3Process({ port, directory });
    },
    async storedParts() {
      // s3rver keeps an unfinished multipart upload as {bucket}/._S3rver_uploads/{uploadId}/{partNumber} (+ .md5).
      const uploads = join(directory, bucket, '._S3rver_uploads');
      let count = 0;
      for (const upload of await readdir(uploads).catch(() => [])) {
        const files = await readdir(join(uploads, upload)).catch(() => []);
        count += files.filter((name) => /^\d+$/.test(name)).length;
      }
      return count;
    },
    close: closeAll,
  };
}
