import { connect } from 'node:net';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createLogger } from '@cdr-reports/logging';
import { startTestS3, type TestS3 } from '@cdr-reports/testing';
import { ensureBucket, S3ObjectStore } from '../src';
import { itBehavesLikeAnObjectStore } from './object-store.contract';

const MIB = 1024 * 1024;

/** Resolves with the connection error code, or 'connected' if something still listens. */
function tryConnect(endpoint: string): Promise<string> {
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

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  const logger = createLogger({ app: 'test', destination: { write: (line: string) => void written.push(line) } });
  return { logger, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('S3ObjectStore on the embedded s3rver', () => {
  let s3: TestS3;

  beforeAll(async () => {
    s3 = await startTestS3();
  });

  afterAll(async () => {
    await s3.close();
  });

  itBehavesLikeAnObjectStore(
    () => new S3ObjectStore({ client: s3.client, bucket: s3.bucket, partSize: 5 * MIB, queueSize: 2, listPageSize: 2 }),
  );

  describe('ensureBucket', () => {
    it('creates a missing bucket once and reports lifecycle as unsupported, with one warning per call', async () => {
      const bucket = `ensure-${Date.now()}`;
      const { logger, lines } = capturingLogger();

      expect(await ensureBucket(s3.client, bucket, logger)).toEqual({ created: true, lifecycle: 'unsupported' });
      expect(await ensureBucket(s3.client, bucket, logger)).toEqual({ created: false, lifecycle: 'unsupported' });

      await expect(s3.client.send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
      const warnings = lines().filter((line) => line.level === 40);
      expect(warnings.map((line) => line.msg)).toEqual([
        'lifecycle not supported by this S3 server; the report sweeper enforces expiry',
        'lifecycle not supported by this S3 server; the report sweeper enforces expiry',
      ]);
    });

    it('tolerates replicas racing to create the same bucket', async () => {
      const bucket = `race-${Date.now()}`;
      const { logger } = capturingLogger();

      const results = await Promise.all([1, 2, 3].map(() => ensureBucket(s3.client, bucket, logger)));

      expect(results.some((result) => result.created)).toBe(true);
      await expect(s3.client.send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
    });
  });

  it('stops listening once closed', async () => {
    expect(await tryConnect(s3.endpoint)).toBe('connected');
    await s3.close();
    expect(await tryConnect(s3.endpoint)).toBe('ECONNREFUSED');
  });
});
