import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parseConfig } from '@cdr-reports/config';
import { AccountsRepository } from '@cdr-reports/db';
import { EMBEDDED_S3_CREDENTIALS } from '@cdr-reports/embedded-s3';
import { TEST_REDIS_URL, captureOutput, createTestDatabase, startTestS3, uniqueQueuePrefix, type TestDatabase, type TestS3 } from '@cdr-reports/testing';
import { destinationsCommand } from '../src/commands/destinations.command';
import { CliContext } from '../src/context';

/** cli destinations create|list|show|test|delete, against real PostgreSQL, Redis and an S3 server of the customer. */
describe('cli destinations', () => {
  let db: TestDatabase;
  let s3: TestS3;
  const prefix = uniqueQueuePrefix();
  // The embedded server checks the access key id but not SigV4 secrets: any secret works, and one unlike every
  // other value shows whether it leaks.
  const SECRET = 'cli-customer-secret-Qm48vTz2';
  const KEYS = `k1:${Buffer.alloc(32, 5).toString('base64')}`;

  const body = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      name: 'finance bucket',
      type: 's3',
      s3: {
        endpoint: s3.endpoint,
        region: 'us-east-1',
        bucket: s3.bucket,
        prefix: 'cdrs/',
        force_path_style: true,
        access_key_id: EMBEDDED_S3_CREDENTIALS.accessKeyId,
        secret_access_key: SECRET,
        ...overrides,
      },
    });

  /** Runs the command as `cli destinations ...` would, with debug logging (to see that no secret is logged). */
  async function run(argv: string[]): Promise<{ code: number; out: any; stdout: string; stderr: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- printed JSON
    const ctx = new CliContext(
      parseConfig({
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'debug',
        DESTINATION_SECRET_KEYS: KEYS,
        DESTINATION_ALLOWED_NETWORKS: '127.0.0.0/8',
      }),
    );
    try {
      const { result: code, stdout, stderr } = await captureOutput(() => destinationsCommand.run(argv, ctx));
      expect({ argv, secretPrinted: `${stdout}${stderr}`.includes(SECRET) }).toEqual({ argv, secretPrinted: false });
      return { code, out: stdout ? JSON.parse(stdout) : undefined, stdout, stderr };
    } finally {
      await ctx.close();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startTestS3();
    const accounts = new AccountsRepository(db.pool);
    await accounts.create({ id: 'acme', name: 'Acme' });
    await accounts.create({ id: 'globex', name: 'Globex' });
  });
  afterAll(async () => {
    await s3?.close();
    await db?.drop();
  });

  it('creates (printing the destination without its secret), lists, tests and deletes a destination', async () => {
    const created = await run(['create', '--account', 'acme', '--json', body()]);
    expect(created.code).toBe(0);
    expect(created.out).toMatchObject({
      account_id: 'acme',
      name: 'finance bucket',
      type: 's3',
      s3: { endpoint: s3.endpoint, bucket: s3.bucket, prefix: 'cdrs/', access_key_id: EMBEDDED_S3_CREDENTIALS.accessKeyId },
      secrets_set: ['secret_access_key'],
      key_template: '{account_id}/{request_id}/',
    });
    expect(created.out.s3).not.toHaveProperty('secret_access_key');
    const id = created.out.destination_id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // Stored sealed.
    const stored = await db.pool.query<{ settings: unknown; secrets: string }>('SELECT settings, secrets FROM destinations WHERE id = $1', [id]);
    expect(JSON.stringify(stored.rows[0])).not.toContain(SECRET);
    expect(stored.rows[0]!.secrets).toMatch(/^v1\.k1\./);

    const listed = await run(['list', '--account', 'acme']);
    expect(listed.code).toBe(0);
    expect(listed.out.items.map((d: { destination_id: string }) => d.destination_id)).toEqual([id]);
    expect((await run(['show', id, '--account', 'acme'])).out).toMatchObject({ destination_id: id, secrets_set: ['secret_access_key'] });
    // Another account neither sees nor touches it.
    expect((await run(['list', '--account', 'globex'])).out).toEqual({ items: [] });
    await expect(run(['show', id, '--account', 'globex'])).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(run(['delete', id, '--account', 'globex'])).rejects.toMatchObject({ name: 'NotFoundError' });

    const tested = await run(['test', id, '--account', 'acme']);
    expect({ code: tested.code, out: tested.out }).toEqual({ code: 0, out: { ok: true } });
    // The probe it wrote, read back and deleted is gone from the customer's bucket.
    const left = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    expect(left.Contents ?? []).toEqual([]);

    const deleted = await run(['delete', id, '--account', 'acme']);
    expect(deleted.code).toBe(0);
    expect((await run(['list', '--account', 'acme'])).out).toEqual({ items: [] });
    await expect(run(['show', id, '--account', 'acme'])).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(run(['test', id, '--account', 'acme'])).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('test exits 1 and names the authenticate step when the access key id is wrong', async () => {
    const created = await run(['create', '--account', 'acme', '--json', body({ access_key_id: 'NOT-A-KEY' })]);
    expect(created.code).toBe(0);
    const tested = await run(['test', created.out.destination_id, '--account', 'acme']);
    expect(tested.code).toBe(1);
    expect(tested.out).toMatchObject({ ok: false, step: 'authenticate', retryable: false, error: expect.stringMatching(/credentials/) });
    await run(['delete', created.out.destination_id, '--account', 'acme']);
  });

  it('explains what is wrong: no account, a body that is not JSON, a bad field, a private address, an unknown action', async () => {
    await expect(run(['list'])).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/--account/) });
    await expect(run(['create', '--account', 'acme', '--json', '{not json'])).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/--json/) });
    await expect(run(['create', '--account', 'acme', '--json', body({ bucket: undefined })])).rejects.toMatchObject({
      name: 'ValidationError',
      invalidParams: expect.arrayContaining([expect.objectContaining({ name: 's3.bucket' })]),
    });
    // Not in DESTINATION_ALLOWED_NETWORKS (127.0.0.0/8 only): refused when saved.
    await expect(run(['create', '--account', 'acme', '--json', body({ endpoint: 'http://10.1.2.3:9000' })])).rejects.toMatchObject({
      name: 'ValidationError',
      invalidParams: [expect.objectContaining({ name: 's3.endpoint' })],
    });
    await expect(run(['test', '--account', 'acme'])).rejects.toMatchObject({ name: 'UsageError' });
    await expect(run(['rename', '--account', 'acme'])).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/unknown action/) });
    expect((await run(['list', '--account', 'acme'])).out).toEqual({ items: [] });
  });
});
