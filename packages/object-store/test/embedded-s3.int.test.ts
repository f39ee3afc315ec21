import { randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
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

  it('lists unfinished multipart uploads by prefix and aborts them, parts and all (s3rver itself has neither)', async () => {
    const directory = join(root, 'uploads');
    const server = await startEmbeddedS3({ port: 0, directory });
    const client = createS3Client({ endpoint: server.endpoint, credentials: server.credentials });
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'multi' }));
      const start = async (key: string) => {
        const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: key }));
        await client.send(new UploadPartCommand({ Bucket: 'multi', Key: key, UploadId, PartNumber: 1, Body: 'part one' }));
        return UploadId!;
      };
      const first = await start('reports/a b/file.csv.gz');
      const second = await start('reports/a b/file.csv.gz');
      const other = await start('other/file.csv.gz');
      const list = async (prefix?: string) =>
        (await client.send(new ListMultipartUploadsCommand({ Bucket: 'multi', ...(prefix !== undefined && { Prefix: prefix }) }))).Uploads?.map(
          (upload) => [upload.Key, upload.UploadId],
        ) ?? [];

      expect(await list()).toEqual(
        expect.arrayContaining([
          ['reports/a b/file.csv.gz', first],
          ['reports/a b/file.csv.gz', second],
          ['other/file.csv.gz', other],
        ]),
      );
      expect((await list('reports/')).map(([, id]) => id).sort()).toEqual([first, second].sort());

      await client.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'reports/a b/file.csv.gz', UploadId: first }));
      expect(await list('reports/')).toEqual([['reports/a b/file.csv.gz', second]]);
      // Gone, and an upload id under the wrong key is no upload either.
      await expect(client.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'reports/a b/file.csv.gz', UploadId: first }))).rejects.toMatchObject({
        name: 'NoSuchUpload',
      });
      await expect(client.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'other/x', UploadId: other }))).rejects.toMatchObject({
        name: 'NoSuchUpload',
      });
      expect(await list()).toHaveLength(2);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});
