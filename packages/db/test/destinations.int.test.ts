import { randomBytes, randomUUID } from 'node:crypto';
import { AccountsRepository, DestinationsRepository } from '@cdr-reports/db';
import { SecretBox } from '@cdr-reports/destinations';
import type { DestinationInput } from '@cdr-reports/domain';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

/**
 * Destinations as stored in PostgreSQL, with their secrets sealed by a real SecretBox: what the columns hold, and key
 * rotation (a ring with a new sealing key still opens what the old key sealed, and re-seals it on the next save).
 */
describe('destinations repository', () => {
  let db: TestDatabase;
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };
  const k3 = { id: 'k3', key: randomBytes(32) };
  const ring = (...keys: Array<{ id: string; key: Buffer }>) => new DestinationsRepository(db.pool, new SecretBox(keys));

  const S3_SECRET = `s3-secret-${randomBytes(12).toString('hex')}`;
  const PASSWORD = `sftp-password-${randomBytes(12).toString('hex')}`;
  const PRIVATE_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
  const s3: DestinationInput = {
    name: 'finance bucket',
    type: 's3',
    key_template: '{account_id}/{request_id}/',
    s3: { endpoint: 'https://s3.example.com', region: 'eu-west-1', bucket: 'finance', prefix: 'cdrs/', force_path_style: true, access_key_id: 'AKIAEXAMPLE', secret_access_key: S3_SECRET },
  };
  const sftp: DestinationInput = {
    name: 'sftp drop',
    type: 'sftp',
    key_template: '{account_id}/{product}/',
    sftp: { host: 'sftp.example.com', port: 22, username: 'cdr', password: PASSWORD, private_key: PRIVATE_KEY, host_key_sha256: `SHA256:${randomBytes(32).toString('base64')}`, directory: '/in' },
  };
  const stored = async (id: string) => (await db.pool.query<{ settings: unknown; secrets: string }>('SELECT settings, secrets FROM destinations WHERE id = $1', [id])).rows[0]!;
  /** Every form a secret could take in a column when it is not really sealed: as is, in base64, in base64url, in hex. */
  const plainForms = (secret: string) => [secret, ...(['base64', 'base64url', 'hex'] as const).map((encoding) => Buffer.from(secret).toString(encoding))];

  beforeAll(async () => {
    db = await createTestDatabase();
    await new AccountsRepository(db.pool).create({ id: 'acme', name: 'Acme' });
  });
  afterAll(() => db.drop());

  it('keeps secrets out of the settings column and only sealed in the secrets column; opens them for connecting', async () => {
    const repository = ring(k1);
    const s3Id = (await repository.create(randomUUID(), 'acme', s3)).id;
    const sftpRecord = await repository.create(randomUUID(), 'acme', sftp);

    for (const [id, secrets] of [
      [s3Id, [S3_SECRET]],
      [sftpRecord.id, [PASSWORD, PRIVATE_KEY, PRIVATE_KEY.split('\n')[1]!]],
    ] as const) {
      const row = await stored(id);
      const settings = JSON.stringify(row.settings);
      for (const secret of secrets) {
        for (const form of plainForms(secret)) {
          expect({ id, inSettings: settings.includes(form), inSecrets: row.secrets.includes(form) }).toEqual({ id, inSettings: false, inSecrets: false });
        }
      }
      expect(row.secrets).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    }
    // The settings column holds everything else, as given.
    expect((await stored(s3Id)).settings).toEqual({ type: 's3', s3: { endpoint: 'https://s3.example.com', region: 'eu-west-1', bucket: 'finance', prefix: 'cdrs/', force_path_style: true, access_key_id: 'AKIAEXAMPLE' } });

    // What the API shows: which secrets are set, never their values.
    expect(sftpRecord.secretFields.sort()).toEqual(['password', 'private_key']);
    expect(JSON.stringify(sftpRecord)).not.toContain(PASSWORD);
    expect(JSON.stringify(await repository.find(s3Id))).not.toContain(S3_SECRET);
    // What the delivery connects with: the secrets opened again.
    expect(await repository.connection(s3Id)).toMatchObject({ type: 's3', s3: { secret_access_key: S3_SECRET, access_key_id: 'AKIAEXAMPLE' } });
    expect(await repository.connection(sftpRecord.id)).toMatchObject({ type: 'sftp', sftp: { password: PASSWORD, private_key: PRIVATE_KEY } });

    // Sealed with a fresh nonce each time: the same secret saved twice is stored differently.
    const again = await repository.create(randomUUID(), 'acme', s3);
    expect((await stored(again.id)).secrets).not.toBe((await stored(s3Id)).secrets);
  });

  it('rotation: saved under [k1], opens under [k2, k1]; saved again under [k2, k1], it is sealed with k2 and no longer needs k1', async () => {
    const id = (await ring(k1).create(randomUUID(), 'acme', s3)).id;
    expect((await stored(id)).secrets).toMatch(/^v1\.k1\./);

    const rotated = ring(k2, k1);
    expect(await rotated.connection(id)).toMatchObject({ s3: { secret_access_key: S3_SECRET } });
    expect((await rotated.find(id))?.secretFields).toEqual(['secret_access_key']);
    // Reading does not re-seal: still k1 until the destination is saved.
    expect((await stored(id)).secrets).toMatch(/^v1\.k1\./);

    const current = (await rotated.connection(id))!;
    const updated = await rotated.update(id, { ...current, name: 'finance bucket (rotated)' });
    expect(updated).toMatchObject({ name: 'finance bucket (rotated)', secretFields: ['secret_access_key'] });
    expect((await stored(id)).secrets).toMatch(/^v1\.k2\./);
    for (const form of plainForms(S3_SECRET)) expect((await stored(id)).secrets).not.toContain(form);

    // k1 can now be dropped from the ring.
    expect(await ring(k2).connection(id)).toMatchObject({ name: 'finance bucket (rotated)', s3: { secret_access_key: S3_SECRET } });
  });

  it('fails with a clear error, naming the missing key, when the ring lacks the key the secret was sealed with', async () => {
    const id = (await ring(k1).create(randomUUID(), 'acme', sftp)).id;
    const withoutK1 = ring(k3, k2);
    await expect(withoutK1.connection(id)).rejects.toThrow(/sealed with key k1, which is not in the key ring \(k3, k2\)/);
    // Showing and listing open no seal: a destination sealed under a retired key still lists (only connecting fails).
    expect(await withoutK1.find(id)).toMatchObject({ id, secretFields: ['password', 'private_key'] });
    expect((await withoutK1.list(['acme'], 100)).map((d) => d.id)).toContain(id);
  });

  it('refuses a sealed secret that was altered, or relabelled as sealed by another key of the ring', async () => {
    const id = (await ring(k1).create(randomUUID(), 'acme', s3)).id;
    const sealed = (await stored(id)).secrets;
    const [version, , iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string, string];
    const flipped = `${ciphertext.slice(0, -2)}${ciphertext.at(-2) === 'A' ? 'B' : 'A'}${ciphertext.at(-1)}`;

    await db.pool.query('UPDATE destinations SET secrets = $2 WHERE id = $1', [id, [version, 'k1', iv, tag, flipped].join('.')]);
    await expect(ring(k1).connection(id)).rejects.toThrow(/sealed with key k1 failed authentication/);
    // The key id is authenticated too: the same bytes claimed by k2 do not open, even with both keys in the ring.
    await db.pool.query('UPDATE destinations SET secrets = $2 WHERE id = $1', [id, [version, 'k2', iv, tag, ciphertext].join('.')]);
    await expect(ring(k2, k1).connection(id)).rejects.toThrow(/failed authentication/);
    // Put back as it was, it opens again.
    await db.pool.query('UPDATE destinations SET secrets = $2 WHERE id = $1', [id, sealed]);
    expect(await ring(k2, k1).connection(id)).toMatchObject({ s3: { secret_access_key: S3_SECRET } });
  });
});
