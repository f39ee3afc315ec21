import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseConfig } from '@cdr-reports/config';
import { createLogger } from '@cdr-reports/logging';
import { createS3Client, openReportStorage } from '@cdr-reports/object-store';
import { tryConnect } from '@cdr-reports/testing';
import { embeddedS3Arguments, startEmbeddedS3Process, type EmbeddedS3Process } from '../src';
import { parseEmbeddedS3Arguments } from '../src/embedded-s3-process';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the embedded S3 server in a process of its own', () => {
  const root = join(tmpdir(), `cdr-embedded-s3-process-${randomBytes(5).toString('hex')}`);
  let server: EmbeddedS3Process | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('serves S3, pages listings (its own process carries the DES patch) and exits on close', async () => {
    server = await startEmbeddedS3Process({ port: 0, directory: join(root, 'served') });
    expect(server.pid).not.toBe(process.pid);
    const client = createS3Client({ endpoint: server.endpoint, credentials: server.credentials });
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'paging' }));
      for (const key of ['k1', 'k2', 'k3']) await client.send(new PutObjectCommand({ Bucket: 'paging', Key: key, Body: key }));
      const first = await client.send(new ListObjectsV2Command({ Bucket: 'paging', MaxKeys: 2 }));
      const second = await client.send(new ListObjectsV2Command({ Bucket: 'paging', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }));
      expect([...(first.Contents ?? []), ...(second.Contents ?? [])].map((object) => object.Key)).toEqual(['k1', 'k2', 'k3']);
    } finally {
      client.destroy();
    }

    const { pid, endpoint } = server;
    await server.close();
    await server.close();
    expect(processAlive(pid)).toBe(false);
    expect(await tryConnect(endpoint)).toBe('ECONNREFUSED');
  });

  it('comes back on the same port over the same files', async () => {
    const directory = join(root, 'restarted');
    server = await startEmbeddedS3Process({ port: 0, directory });
    const port = Number(new URL(server.endpoint).port);
    let client = createS3Client({ endpoint: server.endpoint, credentials: server.credentials });
    await client.send(new CreateBucketCommand({ Bucket: 'kept' }));
    client.destroy();
    await server.close();

    server = await startEmbeddedS3Process({ port, directory });
    expect(server.endpoint).toBe(`http://127.0.0.1:${port}`);
    client = createS3Client({ endpoint: server.endpoint, credentials: server.credentials });
    try {
      await expect(client.send(new HeadBucketCommand({ Bucket: 'kept' }))).resolves.toBeDefined();
    } finally {
      client.destroy();
    }
  });

  it('is what the apps find when S3_ENDPOINT is unset: their local default endpoint and key', async () => {
    server = await startEmbeddedS3Process({ port: 0, directory: join(root, 'local-default') });
    const config = parseConfig({ EMBEDDED_S3_PORT: new URL(server.endpoint).port, S3_BUCKET: 'local-default', LOG_LEVEL: 'silent' });
    const storage = await openReportStorage(config, createLogger({ app: 'test', level: 'silent' }));
    try {
      expect(await storage.store.head('missing')).toBeUndefined();
    } finally {
      storage.close();
    }
  });

  it('fails to start, with its output, when the port is taken', async () => {
    server = await startEmbeddedS3Process({ port: 0, directory: join(root, 'first') });
    const port = Number(new URL(server.endpoint).port);
    await expect(startEmbeddedS3Process({ port, directory: join(root, 'second') })).rejects.toThrow(/exited \(code 1.*\n[\s\S]*EADDRINUSE/);
  });
});

describe('the arguments of its entry point', () => {
  it('round-trip from options, the folder made absolute', () => {
    const args = embeddedS3Arguments({ port: 4569, directory: '.data/s3', host: '0.0.0.0', logLevel: 'warn' });
    expect(parseEmbeddedS3Arguments(args)).toEqual({ port: 4569, directory: join(process.cwd(), '.data/s3'), host: '0.0.0.0', logLevel: 'warn' });
  });

  it('are refused when the port or the folder is missing or wrong', () => {
    expect(() => parseEmbeddedS3Arguments(['--directory', '/tmp/x'])).toThrow(/--port/);
    expect(() => parseEmbeddedS3Arguments(['--port', '70000', '--directory', '/tmp/x'])).toThrow(/--port/);
    expect(() => parseEmbeddedS3Arguments(['--port', '0'])).toThrow(/--directory/);
    expect(() => parseEmbeddedS3Arguments(['--port', '0', '--directory', '/tmp/x', '--bogus'])).toThrow();
  });
});
