import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, HeadBucketCommand, ListMultipartUploadsCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { createLogger } from '@cdr-reports/logging';
import { freePort, startTestS3, tryConnect, waitFor, type TestS3 } from '@cdr-reports/testing';
import { createS3Client, ensureBucket, S3ObjectStore } from '../src';
import { itBehavesLikeAnObjectStore } from './object-store.contract';

const MIB = 1024 * 1024;

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  const logger = createLogger({ app: 'test', destination: { write: (line: string) => void written.push(line) } });
  return { logger, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('S3ObjectStore on the embedded s3rver', () => {
  let s3: TestS3;
  let down: S3Client;

  beforeAll(async () => {
    s3 = await startTestS3();
    // A loopback port nothing listens on: every connection is refused.
    down = createS3Client({ endpoint: `http://127.0.0.1:${await freePort()}`, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });

  afterAll(async () => {
    down.destroy();
    await s3.close();
  });

  itBehavesLikeAnObjectStore(
    () => new S3ObjectStore({ client: s3.client, bucket: s3.bucket, partSize: 5 * MIB, queueSize: 2, listPageSize: 2 }),
    {
      'the S3 server is down': () => new S3ObjectStore({ client: down, bucket: s3.bucket, partSize: 5 * MIB }),
      'the bucket does not exist': () => new S3ObjectStore({ client: s3.client, bucket: `missing-${Date.now()}`, partSize: 5 * MIB }),
    },
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

  describe('unfinished multipart uploads', () => {
    const store = () => new S3ObjectStore({ client: s3.client, bucket: s3.bucket, partSize: 5 * MIB, queueSize: 2 });
    const unfinished = async (prefix: string) =>
      ((await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }))).Uploads ?? []).map((upload) => upload.Key);
    /** What a worker killed mid-upload leaves: an upload with a part and no completion. */
    const crashedUpload = async (key: string) => {
      const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }));
      await s3.client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MIB) }));
    };

    it("are removed when the same key is written again, and only that key's", async () => {
      const key = `crashed-${Date.now()}/report.csv.gz`;
      await crashedUpload(key);
      await crashedUpload(key);
      await crashedUpload(`${key}.segment-1`);
      expect(await unfinished(key)).toHaveLength(3);

      await store().putStream(key, Readable.from([Buffer.alloc(6 * MIB, 1)]), { contentType: 'application/gzip' });

      expect(await unfinished(key)).toEqual([`${key}.segment-1`]);
      expect((await store().head(key))?.size).toBe(6 * MIB);
    });

    it('are removed before a concatenation writes the key', async () => {
      const key = `crashed-concat-${Date.now()}/report.csv.gz`;
      await store().putStream(`${key}.1`, Readable.from([Buffer.from('a')]), { contentType: 'text/plain' });
      await store().putStream(`${key}.2`, Readable.from([Buffer.from('b')]), { contentType: 'text/plain' });
      await crashedUpload(key);

      await store().concatenate([`${key}.1`, `${key}.2`], key, { contentType: 'text/plain' });

      expect(await unfinished(`${key}`)).toEqual([]);
    });

    it('none is left by an upload that fails or is aborted', async () => {
      const prefix = `failing-${Date.now()}/`;
      const controller = new AbortController();
      const source = new Readable({ read() {} });
      const upload = store().putStream(`${prefix}aborted.bin`, source, { contentType: 'application/octet-stream', signal: controller.signal });
      source.push(Buffer.alloc(11 * MIB));
      await waitFor(async () => (await unfinished(prefix)).length === 1 || undefined, { what: 'the multipart upload to start' });
      controller.abort();
      await expect(upload).rejects.toMatchObject({ name: 'AbortError' });

      const broken = new Readable({ read() {} });
      const failing = store().putStream(`${prefix}broken.bin`, broken, { contentType: 'application/octet-stream' });
      broken.push(Buffer.alloc(11 * MIB));
      await waitFor(async () => (await unfinished(prefix)).length === 1 || undefined, { what: 'the second upload to start' });
      broken.destroy(new Error('source broke'));
      await expect(failing).rejects.toThrow('source broke');

      expect(await unfinished(prefix)).toEqual([]);
    });
  });

  it('stops listening once closed', async () => {
    expect(await tryConnect(s3.endpoint)).toBe('connected');
    await s3.close();
    expect(await tryConnect(s3.endpoint)).toBe('ECONNREFUSED');
  });
});
