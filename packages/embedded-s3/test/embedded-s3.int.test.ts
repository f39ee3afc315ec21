import { createHash, randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '@cdr-reports/object-store';
import { startEmbeddedS3 } from '../src';

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

  describe('multipart completion, checked as S3 checks it, and UploadPartCopy (s3rver itself has neither)', () => {
    const MIB = 1024 * 1024;
    let server: Awaited<ReturnType<typeof startEmbeddedS3>>;
    let client: S3Client;
    const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

    beforeAll(async () => {
      server = await startEmbeddedS3({ port: 0, directory: join(root, 'complete') });
      client = createS3Client({ endpoint: server.endpoint, credentials: server.credentials });
      await client.send(new CreateBucketCommand({ Bucket: 'parts' }));
    });
    afterAll(async () => {
      client.destroy();
      await server.close();
    });

    async function upload(key: string, parts: Buffer[]) {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: key, ContentType: 'application/gzip' }));
      const etags = [];
      for (const [index, body] of parts.entries()) {
        etags.push((await client.send(new UploadPartCommand({ Bucket: 'parts', Key: key, UploadId, PartNumber: index + 1, Body: body }))).ETag!);
      }
      return { uploadId: UploadId!, etags };
    }
    const complete = (key: string, uploadId: string, parts: Array<{ PartNumber: number; ETag: string }>) =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: 'parts', Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    const read = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: 'parts', Key: key }))).Body!.transformToByteArray());

    it('joins the parts in order under the multipart ETag, keeps the metadata and removes the upload', async () => {
      const parts = [randomBytes(5 * MIB), randomBytes(5 * MIB + 7), randomBytes(1234)];
      const { uploadId, etags } = await upload('joined.gz', parts);
      expect(etags).toEqual(parts.map((part) => `"${md5(part)}"`));
      const done = await complete('joined.gz', uploadId, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })));

      const expectedEtag = `"${createHash('md5').update(Buffer.concat(parts.map((part) => Buffer.from(md5(part), 'hex')))).digest('hex')}-3"`;
      expect(done.ETag).toBe(expectedEtag);
      expect((await read('joined.gz')).equals(Buffer.concat(parts))).toBe(true);
      const head = await client.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'joined.gz' }));
      expect(head).toMatchObject({ ContentLength: 10 * MIB + 7 + 1234, ContentType: 'application/gzip', ETag: expectedEtag });
      expect((await client.send(new ListMultipartUploadsCommand({ Bucket: 'parts' }))).Uploads ?? []).toEqual([]);
    });

    it('refuses what S3 refuses: a part too small, out of order, missing or with another ETag, and an unknown upload', async () => {
      const { uploadId, etags } = await upload('refused.gz', [randomBytes(5 * MIB), Buffer.from('small middle'), Buffer.from('last')]);
      const all = etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }));
      await expect(complete('refused.gz', uploadId, all)).rejects.toMatchObject({ name: 'EntityTooSmall' });
      await expect(complete('refused.gz', uploadId, [all[1]!, all[0]!])).rejects.toMatchObject({ name: 'InvalidPartOrder' });
      await expect(complete('refused.gz', uploadId, [all[0]!, { PartNumber: 4, ETag: etags[2]! }])).rejects.toMatchObject({ name: 'InvalidPart' });
      await expect(complete('refused.gz', uploadId, [{ PartNumber: 1, ETag: etags[1]! }])).rejects.toMatchObject({ name: 'InvalidPart' });
      await expect(complete('other.gz', uploadId, [all[0]!])).rejects.toMatchObject({ name: 'NoSuchUpload' });
      // Nothing was stored by the refusals; the upload is still there to complete properly.
      await expect(read('refused.gz')).rejects.toMatchObject({ name: 'NoSuchKey' });
      await complete('refused.gz', uploadId, [all[0]!, all[2]!]);
      expect((await read('refused.gz')).length).toBe(5 * MIB + 4);
    });

    it('copies whole objects into parts (UploadPartCopy) and joins them', async () => {
      const sources = { 'seg/1.gz': randomBytes(5 * MIB + 1), 'seg/2 b.gz': randomBytes(999) };
      for (const [key, body] of Object.entries(sources)) await client.send(new PutObjectCommand({ Bucket: 'parts', Key: key, Body: body }));
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'copied.gz' }));
      const parts = [];
      for (const [index, key] of Object.keys(sources).entries()) {
        const copied = await client.send(
          new UploadPartCopyCommand({ Bucket: 'parts', Key: 'copied.gz', UploadId, PartNumber: index + 1, CopySource: `parts/${key.split('/').map(encodeURIComponent).join('/')}` }),
        );
        expect(copied.CopyPartResult?.ETag).toBe(`"${md5(Object.values(sources)[index]!)}"`);
        parts.push({ PartNumber: index + 1, ETag: copied.CopyPartResult!.ETag! });
      }
      await complete('copied.gz', UploadId!, parts);
      expect((await read('copied.gz')).equals(Buffer.concat(Object.values(sources)))).toBe(true);

      await expect(
        client.send(new UploadPartCopyCommand({ Bucket: 'parts', Key: 'copied.gz', UploadId: 'none', PartNumber: 1, CopySource: 'parts/seg/1.gz' })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      const { UploadId: another } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'x.gz' }));
      await expect(client.send(new UploadPartCopyCommand({ Bucket: 'parts', Key: 'x.gz', UploadId: another, PartNumber: 1, CopySource: 'parts/missing' }))).rejects.toMatchObject({
        name: 'NoSuchKey',
      });
      // A byte range of the source: all of the first segment but its first byte.
      const ranged = await client.send(
        new UploadPartCopyCommand({ Bucket: 'parts', Key: 'x.gz', UploadId: another, PartNumber: 1, CopySource: 'parts/seg/1.gz', CopySourceRange: `bytes=1-${5 * MIB}` }),
      );
      const slice = sources['seg/1.gz'].subarray(1, 5 * MIB + 1);
      expect(ranged.CopyPartResult?.ETag).toBe(`"${md5(slice)}"`);
      await complete('x.gz', another!, [{ PartNumber: 1, ETag: ranged.CopyPartResult!.ETag! }]);
      expect((await read('x.gz')).equals(slice)).toBe(true);
      const { UploadId: third } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'y.gz' }));
      await expect(
        client.send(new UploadPartCopyCommand({ Bucket: 'parts', Key: 'y.gz', UploadId: third, PartNumber: 1, CopySource: 'parts/seg/1.gz', CopySourceRange: `bytes=0-${6 * MIB}` })),
      ).rejects.toMatchObject({ name: 'InvalidArgument' });
    });
  });
});
