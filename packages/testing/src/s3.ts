import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { startEmbeddedS3 } from '@cdr-reports/embedded-s3';
import { createS3Client } from '@cdr-reports/object-store';

export interface TestS3 {
  /** http:// URL of an S3 server that belongs to this test suite alone. */
  endpoint: string;
  /** A client for `endpoint`, configured as the apps configure theirs. */
  client: S3Client;
  /** A fresh, empty bucket. */
  bucket: string;
  /** Closes the client and the server and deletes the server's files. */
  close(): Promise<void>;
}

/**
 * Starts an embedded S3 server on a free port, over a temporary folder, with a fresh bucket. In the test's own
 * process, which is quickest (a test process is not an app; startRestartableS3 runs it in a process of its own).
 */
export async function startTestS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'cdr-test-s3-'));
  const server = await startEmbeddedS3({ port: 0, directory });
  const client = createS3Client({ endpoint: server.endpoint, credentials: server.credentials });
  const bucket = `cdr-test-${randomBytes(5).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    client.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: server.endpoint,
    client,
    bucket,
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
