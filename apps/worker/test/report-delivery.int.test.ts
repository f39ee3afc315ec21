/**
 * Delivery into the customer's own storage, end to end through the API, a worker and the notifier: destinations
 * managed over the API, reports split into files, the manifest written last, files and manifest copied into a
 * second S3 server (not the cluster's) and into OpenSSH's SFTP server, callbacks once the delivery ends.
 * Files are checked against an independent computation: sha256 with node:crypto over the bytes read back from the
 * destination, rows with the system's gunzip and Python's csv module.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { EMBEDDED_S3_CREDENTIALS } from '@cdr-reports/embedded-s3';
import {
  cdrFactory,
  gunzip,
  parseCsv,
  receivedForReport,
  startSftpServer,
  startTestS3,
  useReportCluster,
  waitFor,
  yesterdayAtUtc,
  type ReportResource,
  type TestS3,
  type TestSftpServer,
  type WebhookReceiver,
} from '@cdr-reports/testing';

const HOUR = 3_600_000;
const SECRET = 'customer-secret-9f3kQ2vX7mZp';
const ROWS = 2_500;

interface Manifest {
  manifest_version: number;
  report_id: string;
  account_id: string;
  files: Array<{ key: string; rows: number; size_bytes: number; sha256: string }>;
  rows: number;
  columns: Array<{ name: string; type: string }>;
  summary: { records: number };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('delivery into the customer storage: destinations, split files, the manifest', () => {
  const lines: string[] = [];
  const cluster = useReportCluster({
    logDestination: { write: (line: string) => void lines.push(line) },
    notifier: true,
    env: {
      CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8',
      DESTINATION_ALLOWED_NETWORKS: '127.0.0.0/8',
      CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms',
      DELIVERY_RETRY_BASE: '200ms',
      DESTINATION_SECRET_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    },
  });
  let customerS3: TestS3;
  let sftp: TestSftpServer;
  let receiver: WebhookReceiver;
  let key: string;
  const windowStart = yesterdayAtUtc(6);

  const s3Destination = (extra: Record<string, unknown> = {}) => ({
    name: 'finance bucket',
    type: 's3',
    s3: {
      endpoint: customerS3.endpoint,
      region: 'us-east-1',
      bucket: customerS3.bucket,
      prefix: 'cdrs/',
      force_path_style: true,
      access_key_id: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      // The embedded server checks the access key id but not SigV4 secrets: any secret works, and one unlike
      // every other value shows whether it leaks.
      secret_access_key: SECRET,
      ...(extra.s3 as object),
    },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 's3')),
  });
  const sftpDestination = (extra: Record<string, unknown> = {}) => ({
    name: 'sftp drop',
    type: 'sftp',
    sftp: { host: sftp.host, port: sftp.port, username: sftp.username, private_key: sftp.privateKey, host_key_sha256: sftp.hostKeySha256, directory: sftp.directory },
    ...extra,
  });
  const report = (extra: Record<string, unknown> = {}) => ({
    product: 'SMS',
    date_start: new Date(windowStart).toISOString(),
    date_end: new Date(windowStart + HOUR).toISOString(),
    callback_url: receiver.url('/cdr-events'),
    ...extra,
  });
  const createDestination = async (body: unknown): Promise<string> => {
    const created = await cluster.request('POST', '/v1/destinations', key, body);
    expect(created.status).toBe(201);
    return (created.body as { destination_id: string }).destination_id;
  };
  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource & { delivery?: Record<string, unknown>; files: Array<Record<string, unknown>> };
  const waitForDelivery = (id: string, states = ['DELIVERED', 'FAILED']) =>
    waitFor(
      async () => {
        const current = await get(id);
        const state = current.delivery?.state as string | undefined;
        return state && states.includes(state) ? current : undefined;
      },
      { timeoutMs: 60_000, what: `the delivery of report ${id}` },
    );
  const s3Object = async (objectKey: string): Promise<Buffer> => {
    const answer = await customerS3.client.send(new GetObjectCommand({ Bucket: customerS3.bucket, Key: objectKey }));
    return Buffer.from(await answer.Body!.transformToByteArray());
  };
  const s3Keys = async (prefix: string): Promise<string[]> =>
    ((await customerS3.client.send(new ListObjectsV2Command({ Bucket: customerS3.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
  /** Data rows of a gzip CSV file (header dropped), with the header, read by gunzip and Python's csv module. */
  const csvOf = async (file: Buffer) => {
    const [header, ...rows] = await parseCsv(await gunzip(file));
    return { header: header!, rows };
  };

  beforeAll(async () => {
    customerS3 = await startTestS3();
    cluster.onTeardown(() => customerS3.close());
    sftp = await startSftpServer();
    cluster.onTeardown(() => sftp.stop());
    receiver = await cluster.receiver();
    key = await cluster.account('acme');
    const sms = cdrFactory({ startTime: (n) => new Date(windowStart + Math.floor((n * HOUR) / (ROWS + 1))).toISOString(), endAfterMs: 4_500 });
    await cluster.load(Array.from({ length: ROWS }, () => sms()));
  }, 120_000);

  it('manages destinations: 201 with an id, secrets never returned, listed, tested, changed, deleted', async () => {
    const id = await createDestination(s3Destination());
    const shown = (await cluster.request('GET', `/v1/destinations/${id}`, key)).body as Record<string, unknown>;
    expect(shown).toMatchObject({ destination_id: id, type: 's3', name: 'finance bucket', secrets_set: ['secret_access_key'], key_template: '{account_id}/{request_id}/' });
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    const stored = await cluster.services.db.pool.query<{ settings: unknown; secrets: string }>('SELECT settings, secrets FROM destinations WHERE id = $1', [id]);
    expect(JSON.stringify(stored.rows[0])).not.toContain(SECRET);

    const listed = (await cluster.request('GET', '/v1/destinations', key)).body as { items: Array<{ destination_id: string }> };
    expect(listed.items.map((d) => d.destination_id)).toContain(id);
    expect((await cluster.request('POST', `/v1/destinations/${id}/test`, key)).body).toEqual({ ok: true });

    const patched = await cluster.request('PATCH', `/v1/destinations/${id}`, key, { name: 'renamed', s3: { prefix: 'other/' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'renamed', s3: { prefix: 'other/', bucket: customerS3.bucket }, secrets_set: ['secret_access_key'] });
    // The secret was kept: the destination still works.
    expect((await cluster.request('POST', `/v1/destinations/${id}/test`, key)).body).toEqual({ ok: true });

    const other = await cluster.account('globex');
    expect((await cluster.request('GET', `/v1/destinations/${id}`, other)).status).toBe(404);
    expect((await cluster.request('DELETE', `/v1/destinations/${id}`, other)).status).toBe(404);
    expect((await cluster.request('DELETE', `/v1/destinations/${id}`, key)).status).toBe(204);
    expect((await cluster.request('GET', `/v1/destinations/${id}`, key)).status).toBe(404);
  });

  it('delivers a split report into an S3 bucket: every file, then the manifest; report.completed once delivered', async () => {
    const destinationId = await createDestination(s3Destination());
    const created = await cluster.createReport(key, report({ destination_id: destinationId, max_file_rows: 1_000 }));
    const done = await waitForDelivery(created.request_id);
    expect(done.request_status).toBe('SUCCESS');
    expect(done.delivery).toMatchObject({ destination_id: destinationId, state: 'DELIVERED', error: null });
    expect(done.files.map((f) => f.rows)).toEqual([1_000, 1_000, 500]);
    expect(done.file).toBeNull();

    const folder = `cdrs/acme/${created.request_id}/`;
    const names = done.files.map((f) => f.name as string);
    expect(names).toEqual([1, 2, 3].map((n) => `SMS_${created.request_id}_part0000${n}.csv.gz`));
    expect(await s3Keys(folder)).toEqual([...names.map((n) => `${folder}${n}`), `${folder}manifest.json`].sort());

    const manifest = JSON.parse((await s3Object(`${folder}manifest.json`)).toString('utf8')) as Manifest;
    expect(manifest).toMatchObject({ manifest_version: 1, report_id: created.request_id, account_id: 'acme', rows: ROWS, summary: { records: ROWS } });
    expect(manifest.files.map((f) => f.key)).toEqual(names.map((n) => `${folder}${n}`));
    expect(done.delivery!.manifest_key).toBe(`${folder}manifest.json`);
    expect(done.delivery!.file_keys).toEqual(manifest.files.map((f) => f.key));
    const ids: string[] = [];
    for (const [index, entry] of manifest.files.entries()) {
      const bytes = await s3Object(entry.key);
      expect({ key: entry.key, size: bytes.length, sha256: sha256(bytes) }).toEqual({ key: entry.key, size: entry.size_bytes, sha256: entry.sha256 });
      expect(done.files[index]).toMatchObject({ sha256: entry.sha256, size_bytes: entry.size_bytes });
      const { header, rows } = await csvOf(bytes);
      expect(header[0]).toBe('id');
      expect(rows).toHaveLength(entry.rows);
      ids.push(...rows.map((row) => row[0]!));
    }
    expect(manifest.files.reduce((total, f) => total + f.rows, 0)).toBe(ROWS);
    expect(new Set(ids).size).toBe(ROWS);

    // The manifest in our bucket lists our keys; GET .../manifest answers it.
    const ours = (await cluster.request('GET', `/v1/reports/${created.request_id}/manifest`, key)).body as Manifest;
    expect(ours.files.map((f) => f.key)).toEqual(names.map((n) => `reports/acme/${created.request_id}/${n}`));
    expect(ours.files.map((f) => f.sha256)).toEqual(manifest.files.map((f) => f.sha256));

    // One callback, report.completed, sent after the delivery: it shows the delivery.
    const events = await waitFor(async () => {
      const got = receivedForReport(receiver.received, created.request_id);
      return got.length > 0 ? got : undefined;
    }, { timeoutMs: 30_000, what: 'the callback' });
    expect(events).toHaveLength(1);
    const event = JSON.parse(events[0]!.body) as { type: string; data: { delivery: Record<string, unknown> } };
    expect(event.type).toBe('report.completed');
    expect(event.data.delivery).toMatchObject({ state: 'DELIVERED', manifest_key: `${folder}manifest.json` });
  });

  it('split files concatenate (minus repeated headers) to exactly the unsplit report; each file downloads on its own', async () => {
    const whole = await cluster.createReport(key, report({}));
    const split = await cluster.createReport(key, report({ max_file_rows: 700 }));
    const [wholeDone, splitDone] = [await cluster.waitForStatus(key, whole.request_id, ['SUCCESS']), await get((await cluster.waitForStatus(key, split.request_id, ['SUCCESS'])).request_id)];
    const wholeCsv = (await gunzip(await cluster.download(wholeDone))).toString('utf8');
    const parts: string[] = [];
    for (let n = 1; n <= splitDone.files.length; n++) {
      const answer = await cluster.request('GET', `/v1/reports/${split.request_id}/files/${n}/download`, key);
      expect(answer.status).toBe(302);
      const bytes = Buffer.from(await (await fetch(answer.headers.location as string)).arrayBuffer());
      expect(sha256(bytes)).toBe(splitDone.files[n - 1]!.sha256);
      const text = (await gunzip(bytes)).toString('utf8');
      parts.push(n === 1 ? text : text.slice(text.indexOf('\n') + 1));
    }
    expect(parts.join('')).toBe(wholeCsv);
    expect((await cluster.request('GET', `/v1/reports/${split.request_id}/files/99/download`, key)).status).toBe(404);
    // A split report has no one file to download.
    expect((await cluster.request('GET', `/v1/reports/${split.request_id}/download`, key)).status).toBe(409);
  });

  it('delivers into an SFTP server under a key template; a later run for the same period replaces the earlier files', async () => {
    const destinationId = await createDestination(sftpDestination({ key_template: '{account_id}/{product}/{period_start:YYYY-MM}/' }));
    expect((await cluster.request('POST', `/v1/destinations/${destinationId}/test`, key)).body).toEqual({ ok: true });
    const month = new Date(windowStart).toISOString().slice(0, 7);
    const folder = join(sftp.directory, 'acme', 'SMS', month);

    const first = await cluster.createReport(key, report({ destination_id: destinationId, max_file_rows: 600 }));
    const firstDone = await waitForDelivery(first.request_id);
    expect(firstDone.delivery).toMatchObject({ state: 'DELIVERED' });
    expect((await readdir(folder)).sort()).toEqual([...firstDone.files.map((f) => f.name as string), 'manifest.json'].sort());
    expect(firstDone.files).toHaveLength(5);

    // A customer's own file in the folder is never touched.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(folder, 'README.txt'), 'ours\n');

    const second = await cluster.createReport(key, report({ destination_id: destinationId, max_file_rows: 1_500 }));
    const secondDone = await waitForDelivery(second.request_id);
    expect(secondDone.delivery).toMatchObject({ state: 'DELIVERED' });
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.report_id).toBe(second.request_id);
    expect(manifest.files.map((f) => f.key)).toEqual(secondDone.files.map((f) => join(folder, f.name as string)));
    expect((await readdir(folder)).sort()).toEqual([...secondDone.files.map((f) => f.name as string), 'README.txt', 'manifest.json'].sort());
    for (const entry of manifest.files) {
      const bytes = await readFile(entry.key);
      expect({ sha256: sha256(bytes), rows: (await csvOf(bytes)).rows.length }).toEqual({ sha256: entry.sha256, rows: entry.rows });
    }
  });

  it('refuses bad input with the field named: unknown or foreign destination_id, private and metadata addresses, limits below their minimum', async () => {
    const missing = await cluster.request('POST', '/v1/reports', key, report({ destination_id: '00000000-0000-4000-8000-000000000000' }));
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('destination_id');

    const other = await cluster.account('initech');
    const foreign = await cluster.request('POST', '/v1/destinations', other, s3Destination());
    const foreignId = (foreign.body as { destination_id: string }).destination_id;
    const refused = await cluster.request('POST', '/v1/reports', key, report({ destination_id: foreignId }));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('destination_id');

    const metadata = await cluster.request('POST', '/v1/destinations', key, s3Destination({ s3: { endpoint: 'http://169.254.169.254/' } }));
    expect(metadata.status).toBe(400);
    expect(JSON.stringify(metadata.body)).toContain('s3.endpoint');
    const privateHost = await cluster.request('POST', '/v1/destinations', key, sftpDestination({ sftp: { host: '10.1.2.3', username: 'x', password: 'y', host_key_sha256: sftp.hostKeySha256 } }));
    expect(privateHost.status).toBe(400);
    expect(JSON.stringify(privateHost.body)).toContain('sftp.host');

    const noFingerprint = await cluster.request('POST', '/v1/destinations', key, { name: 'x', type: 'sftp', sftp: { host: sftp.host, port: sftp.port, username: 'x', password: 'y' } });
    expect(noFingerprint.status).toBe(400);
    expect(JSON.stringify(noFingerprint.body)).toContain('sftp.host_key_sha256');

    for (const [field, value] of [['max_file_rows', 0], ['max_file_bytes', 1024], ['max_file_rows', 1.5]] as const) {
      const answer = await cluster.request('POST', '/v1/reports', key, report({ [field]: value }));
      expect({ field, status: answer.status }).toEqual({ field, status: 400 });
      expect(JSON.stringify(answer.body)).toContain(field);
    }
  });

  it('a wrong secret: the test endpoint names authenticate, and a delivery ends FAILED at once with report.delivery_failed; redeliver after fixing it', async () => {
    const destinationId = await createDestination(s3Destination({ s3: { access_key_id: 'NOT-A-KEY' } }));
    const probe = (await cluster.request('POST', `/v1/destinations/${destinationId}/test`, key)).body as { ok: boolean; step?: string };
    expect(probe).toMatchObject({ ok: false, step: 'authenticate' });

    const created = await cluster.createReport(key, report({ destination_id: destinationId }));
    const failed = await waitForDelivery(created.request_id);
    expect(failed.request_status).toBe('SUCCESS');
    expect(failed.delivery).toMatchObject({ state: 'FAILED', error: { step: 'authenticate' } });
    const events = await waitFor(async () => {
      const got = receivedForReport(receiver.received, created.request_id);
      return got.length > 0 ? got : undefined;
    }, { timeoutMs: 30_000, what: 'the callback' });
    expect(events.map((e) => (JSON.parse(e.body) as { type: string }).type)).toEqual(['report.delivery_failed']);

    await cluster.request('PATCH', `/v1/destinations/${destinationId}`, key, { s3: { access_key_id: EMBEDDED_S3_CREDENTIALS.accessKeyId } });
    const again = await cluster.request('POST', `/v1/reports/${created.request_id}/redeliver`, key);
    expect(again.status).toBe(202);
    const delivered = await waitForDelivery(created.request_id, ['DELIVERED']);
    expect(delivered.delivery).toMatchObject({ state: 'DELIVERED', error: null });
    await waitFor(async () => (receivedForReport(receiver.received, created.request_id).length === 2 ? true : undefined), { timeoutMs: 30_000, what: 'the second callback' });
    expect(receivedForReport(receiver.received, created.request_id).map((e) => (JSON.parse(e.body) as { type: string }).type)).toEqual(['report.delivery_failed', 'report.completed']);
    expect(await s3Keys(`cdrs/acme/${created.request_id}/`)).toHaveLength(2);
  });

  it('SFTP: a wrong password names authenticate; a host key that does not match is refused at connect', async () => {
    const wrongPassword = await createDestination(sftpDestination({ sftp: { host: sftp.host, port: sftp.port, username: sftp.username, password: 'wrong-password-7Yq', host_key_sha256: sftp.hostKeySha256, directory: sftp.directory } }));
    expect((await cluster.request('POST', `/v1/destinations/${wrongPassword}/test`, key)).body).toMatchObject({ ok: false, step: 'authenticate' });
    const otherHost = `SHA256:${Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')}`;
    const wrongHostKey = await createDestination(sftpDestination({ sftp: { ...sftpDestination().sftp, host_key_sha256: otherHost } }));
    const probe = (await cluster.request('POST', `/v1/destinations/${wrongHostKey}/test`, key)).body as { ok: boolean; step?: string; error?: string };
    expect(probe).toMatchObject({ ok: false, step: 'connect' });
    expect(probe.error).toMatch(/host key/i);
  });

  it('a bucket that does not exist: the test endpoint says so, not retried', async () => {
    const destinationId = await createDestination(s3Destination({ s3: { bucket: 'no-such-bucket-here' } }));
    const probe = (await cluster.request('POST', `/v1/destinations/${destinationId}/test`, key)).body as { ok: boolean; step?: string; error?: string };
    expect(probe.ok).toBe(false);
    expect(probe.error).toMatch(/bucket/i);
  });

  it('refuses deleting a destination a schedule delivers into', async () => {
    const destinationId = await createDestination(s3Destination());
    const schedule = await cluster.request('POST', '/v1/schedules', key, { name: 'monthly', report: { product: 'SMS', destination_id: destinationId } });
    expect(schedule.status).toBe(201);
    expect((await cluster.request('DELETE', `/v1/destinations/${destinationId}`, key)).status).toBe(409);
    await cluster.request('DELETE', `/v1/schedules/${(schedule.body as { id: string }).id}`, key);
    expect((await cluster.request('DELETE', `/v1/destinations/${destinationId}`, key)).status).toBe(204);
  });

  it('logs no destination secret: not the S3 secret key, the SFTP private key or a password', async () => {
    // Every test above ran with debug logging of the API, the worker and the notifier.
    expect(lines.length).toBeGreaterThan(100);
    const keyBody = sftp.privateKey.split('\n')[1]!;
    for (const secret of [SECRET, keyBody, 'wrong-password-7Yq']) {
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
