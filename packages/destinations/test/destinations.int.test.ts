import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { EMBEDDED_S3_CREDENTIALS } from '@cdr-reports/embedded-s3';
import { freePort, startSftpServer, startTestS3, waitFor, type TestS3, type TestSftpServer } from '@cdr-reports/testing';
import { utils } from 'ssh2';
import { openDestination, testDestination, type DestinationConnection, type S3DestinationConfig, type SftpDestinationConfig } from '../src';
import { itBehavesLikeADestination, keysUnder, LOOPBACK_POLICY, stallingSource, textOf } from './destination.contract';

const options = { policy: LOOPBACK_POLICY, connectTimeoutMs: 5_000 };
const text = (value: string) => Readable.from([Buffer.from(value)]);

describe('S3 destination on the embedded S3 server', () => {
  let s3: TestS3;
  let downPort: number;
  const prefix = `customer-${randomBytes(4).toString('hex')}`;
  const missingBucket = `missing-${randomBytes(4).toString('hex')}`;

  const connection = (overrides: Partial<S3DestinationConfig> = {}): DestinationConnection => ({
    type: 's3',
    s3: {
      endpoint: s3.endpoint,
      region: 'us-east-1',
      bucket: s3.bucket,
      prefix: `${prefix}/`,
      force_path_style: true,
      access_key_id: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      secret_access_key: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
      ...overrides,
    },
  });

  beforeAll(async () => {
    s3 = await startTestS3();
    // A loopback port nothing listens on: every connection is refused.
    downPort = await freePort();
  });

  afterAll(async () => {
    await s3?.close();
  });

  itBehavesLikeADestination({
    connection: () => connection(),
    expectedLocation: (key) => `${prefix}/${key}`,
    async abandonWrite(key) {
      const started = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${prefix}/${key}` }));
      await s3.client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: `${prefix}/${key}`, UploadId: started.UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 1) }));
    },
    async abandonedWrites(folder) {
      const listed = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `${prefix}/${folder.replace(/\/$/, '')}/` }));
      return (listed.Uploads ?? []).length;
    },
    failing: {
      // s3rver checks that the key id exists but not the SigV4 signature, so a wrong secret cannot be shown here.
      'the access key id is unknown': () => ({ connection: connection({ access_key_id: 'NOT-A-KEY' }), step: 'authenticate', retryable: false, error: /refused the credentials/ }),
      'the bucket does not exist': () => ({ connection: connection({ bucket: missingBucket }), step: 'write', retryable: false, error: new RegExp(`bucket ${missingBucket} does not exist`) }),
      'the server is down': () => ({ connection: connection({ endpoint: `http://127.0.0.1:${downPort}` }), step: 'connect', retryable: true, error: /could not reach S3.*ECONNREFUSED/ }),
    },
    refusedByDefaultPolicy: {
      'the endpoint is an IP literal': () => connection(),
      'the endpoint is a name that resolves to loopback': () => connection({ endpoint: s3.endpoint.replace('127.0.0.1', 'localhost') }),
    },
  });

  it('stores the object under the prefix with its content type, whatever slashes the prefix has', async () => {
    const session = await openDestination(connection({ prefix: `/${prefix}/slashes//` }), options);
    try {
      const { location } = await session.write('r/report.csv.gz', text('gzip bytes'), { contentType: 'application/gzip' });
      expect(location).toBe(`${prefix}/slashes/r/report.csv.gz`);
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: location }));
      expect(head).toMatchObject({ ContentType: 'application/gzip', ContentLength: 10 });
    } finally {
      await session.close();
    }
  });

  it('writes at the bucket root when the prefix is empty', async () => {
    const session = await openDestination(connection({ prefix: '' }), options);
    try {
      expect(session.location('a/b.csv')).toBe('a/b.csv');
    } finally {
      await session.close();
    }
  });

  it('reaches an endpoint by name through the addresses the policy allows (localhost: 127.0.0.1, not ::1)', async () => {
    const byName = connection({ endpoint: s3.endpoint.replace('127.0.0.1', 'localhost') });
    expect(await testDestination(byName, options)).toEqual({ ok: true });
  });
});

describe('SFTP destination on OpenSSH', () => {
  let server: TestSftpServer;
  let downPort: number;
  /** A key the server has never heard of. */
  const strangerKey = utils.generateKeyPairSync('ed25519').private;
  const otherHostKey = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;

  const connection = (overrides: Partial<SftpDestinationConfig> = {}): DestinationConnection => ({
    type: 'sftp',
    sftp: {
      host: server.host,
      port: server.port,
      username: server.username,
      private_key: server.privateKey,
      host_key_sha256: server.hostKeySha256,
      directory: server.directory,
      ...overrides,
    },
  });

  beforeAll(async () => {
    server = await startSftpServer();
    downPort = await freePort();
  });

  afterAll(async () => {
    await server?.stop();
  });

  itBehavesLikeADestination({
    connection: () => connection(),
    expectedLocation: (key) => `${server.directory}/${key}`,
    async abandonWrite(key) {
      // The adapter's temporary name: hidden, next to its target, random suffix.
      const target = join(server.directory, key);
      await mkdir(join(target, '..'), { recursive: true });
      await writeFile(join(target, '..', `.${key.split('/').pop()}.${randomBytes(6).toString('hex')}.partial`), 'half a file');
    },
    async abandonedWrites(folder) {
      const names = await readdir(join(server.directory, folder)).catch(() => [] as string[]);
      return names.filter((name) => name.endsWith('.partial')).length;
    },
    failing: {
      'the password is wrong': () => ({
        connection: connection({ private_key: undefined, password: 'not-the-password' }),
        step: 'authenticate',
        retryable: false,
        error: /refused the credentials/,
      }),
      'the private key is not authorized': () => ({ connection: connection({ private_key: strangerKey }), step: 'authenticate', retryable: false, error: /refused the credentials/ }),
      'the host key does not match': () => ({
        connection: connection({ host_key_sha256: otherHostKey }),
        step: 'connect',
        retryable: false,
        error: new RegExp(`host key does not match: expected ${escape(otherHostKey)}, the server at .* presented ${escape(server.hostKeySha256)}`),
      }),
      'the server is down': () => ({ connection: connection({ port: downPort }), step: 'connect', retryable: true, error: /could not connect .*ECONNREFUSED/ }),
    },
    refusedByDefaultPolicy: {
      'the host is an IP literal': () => connection(),
      'the host is a name that resolves to loopback': () => connection({ host: 'localhost' }),
    },
  });

  it('writes the file at directory/key on the server', async () => {
    const session = await openDestination(connection(), options);
    try {
      const { location } = await session.write('on-disk/a.csv', text('a,b\n'), { contentType: 'text/csv' });
      expect(location).toBe(join(server.directory, 'on-disk/a.csv'));
      expect(await readFile(location, 'utf8')).toBe('a,b\n');
    } finally {
      await session.close();
    }
  });

  it('never shows a half-written file: the bytes go to a hidden name that is renamed over the target', async () => {
    const session = await openDestination(connection(), options);
    const folder = join(server.directory, 'atomic');
    try {
      await session.write('atomic/report.csv', text('old version\n'), { contentType: 'text/csv' });
      const source = new Readable({ read() {} });
      const writing = session.write('atomic/report.csv', source, { contentType: 'text/csv' });
      source.push(Buffer.from('new version, first half\n'));
      const partial = await waitFor(async () => (await readdir(folder)).find((name) => name !== 'report.csv'), { what: 'the partial file to appear' });
      await waitFor(async () => (await readFile(join(folder, partial), 'utf8')).length > 0, { what: 'bytes in the partial file' });

      expect(partial).toMatch(/^\.report\.csv\.[0-9a-f]{12}\.partial$/);
      expect(await readFile(join(folder, 'report.csv'), 'utf8')).toBe('old version\n');
      expect(await textOf(session, 'atomic/report.csv')).toBe('old version\n');
      expect(await keysUnder(session, 'atomic')).toEqual(['atomic/report.csv']);

      source.push(Buffer.from('second half\n'));
      source.push(null);
      await writing;
      expect(await readFile(join(folder, 'report.csv'), 'utf8')).toBe('new version, first half\nsecond half\n');
      expect(await readdir(folder)).toEqual(['report.csv']);
    } finally {
      await session.close();
    }
  });

  it('keeps the previous version when a replacing write is aborted', async () => {
    const session = await openDestination(connection(), options);
    try {
      await session.write('kept/report.csv', text('previous\n'), { contentType: 'text/csv' });
      const source = stallingSource(1024 * 1024);
      const controller = new AbortController();
      const writing = session.write('kept/report.csv', source.stream, { contentType: 'text/csv', signal: controller.signal });
      await waitFor(() => source.produced() >= 1024 * 1024, { what: 'the write to read the source' });
      controller.abort();
      await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
      expect(await readdir(join(server.directory, 'kept'))).toEqual(['report.csv']);
      expect(await textOf(session, 'kept/report.csv')).toBe('previous\n');
    } finally {
      await session.close();
    }
  });

  it('fails a write whose folder is a file, not retryable', async () => {
    await writeFile(join(server.directory, 'plain-file'), 'x');
    const session = await openDestination(connection(), options);
    try {
      await expect(session.write('plain-file/report.csv', text('x'), { contentType: 'text/csv' })).rejects.toMatchObject({
        name: 'DestinationError',
        step: 'write',
        retryable: false,
      });
    } finally {
      await session.close();
    }
  });

  it('accepts the host key fingerprint with or without the SHA256: prefix and padding', async () => {
    const digest = server.hostKeySha256.replace(/^SHA256:/, '');
    expect(await testDestination(connection({ host_key_sha256: digest }), options)).toEqual({ ok: true });
    expect(await testDestination(connection({ host_key_sha256: `SHA256:${digest}=` }), options)).toEqual({ ok: true });
  });

  it('refuses a host key setting that is not a SHA-256 fingerprint', async () => {
    expect(await testDestination(connection({ host_key_sha256: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' }), options)).toMatchObject({
      ok: false,
      step: 'connect',
      retryable: false,
      error: expect.stringMatching(/SHA-256 fingerprint/),
    });
  });

  it('offers a password alone when no key is given, and needs one of the two', async () => {
    // The fixture's user has no password sshd would accept (a successful password login is not shown here): a
    // password alone must still be offered and refused as credentials, not fail for a missing key.
    expect(await testDestination(connection({ private_key: undefined, password: 'nope' }), options)).toMatchObject({ ok: false, step: 'authenticate' });
    expect(await testDestination(connection({ private_key: undefined }), options)).toMatchObject({ ok: false, step: 'authenticate', error: expect.stringMatching(/neither a password nor a private key/) });
  });

  it('resolves a relative directory against the home directory', async () => {
    const session = await openDestination(connection({ directory: 'exports/cdr/' }), options);
    try {
      expect(session.location('a.csv')).toBe(join(homedir(), 'exports/cdr/a.csv'));
    } finally {
      await session.close();
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
