import { randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, startEmbeddedS3 } from '../src';

describe('startEmbeddedS3', () => {
  const root = join(tmpdir(), `cdr-embedded-s3-${randomBytes(5).toString('hex')}`);

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates its folder, binds a free port and pages ListObjectsV2 without Node flags', async () => {
    const directory = join(root, 'nested', 's3');
    const server = await startEmbeddedS3({ port: 0, directory });
    const client = createS3Client({ endpoint: server.endpoint, credentials: server.credentials });
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      expect((await stat(directory)).isDirectory()).toBe(true);

      await client.send(new CreateBucketCommand({ Bucket: 'paging' }));
      for (const key of ['k1', 'k2', 'k3']) {
        await client.send(new PutObjectCommand({ Bucket: 'paging', Key: key, Body: key }));
      }
      // s3rver makes continuation tokens with single DES, which Node 20's OpenSSL 3 leaves to its legacy provider.
      const first = await client.send(new ListObjectsV2Command({ Bucket: 'paging', MaxKeys: 2 }));
      const second = await client.send(
        new ListObjectsV2Command({ Bucket: 'paging', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }),
      );

      expect(first.Contents?.map((object) => object.Key)).toEqual(['k1', 'k2']);
      expect(second.Contents?.map((object) => object.Key)).toEqual(['k3']);
      expect(second.IsTruncated).toBe(false);
    } finally {
      client.destroy();
      await server.close();
      await server.close();
    }
  });
});
