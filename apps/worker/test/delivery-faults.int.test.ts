/**
 * Faults during a delivery into the customer's own storage, staged on real parts: the customer's S3 server down for
 * a minute when the report finishes, the worker killed with SIGKILL in the middle of a delivery into SFTP, and Redis
 * losing the delivery's job. Each time the delivery must end DELIVERED exactly once, with every file and the
 * manifest in place (sha256 with node:crypto over the bytes read back, compared with the manifest), and exactly one
 * report.completed callback must reach the receiver.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { EMBEDDED_S3_CREDENTIALS } from '@cdr-reports/embedded-s3';
import {
  cdrFactory,
  openReportRunner,
  receivedForReport,
  startRestartableS3,
  startSftpServer,
  startTestS3,
  useReportCluster,
  verifyWebhook,
  waitFor,
  webhookSecret,
  yesterdayAtUtc,
  type ReportClusterFixture,
  type ReportResource,
  type RestartableS3,
  type TestS3,
  type TestSftpServer,
  type WebhookReceiver,
} from '@cdr-reports/testing';

const HOUR = 3_600_000;
const KEYS = `k1:${Buffer.alloc(32, 9).toString('base64')}`;
/** What every app of these suites runs with (a spawned worker is given it again: spawn() starts from the services' env). */
const ENV = {
  CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8',
  DESTINATION_ALLOWED_NETWORKS: '127.0.0.0/8',
  CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms',
  DESTINATION_SECRET_KEYS: KEYS,
};

interface Manifest {
  report_id: string;
  account_id: string;
  rows: number;
  files: Array<{ key: string; rows: number; size_bytes: number; sha256: string }>;
}
type Delivered = ReportResource & {
  delivery?: { state: string; error: unknown; manifest_key?: string; file_keys?: string[]; destination_id?: string };
  files: Array<{ name: string; rows: number; size_bytes: number; sha256: string }>;
};

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** What every suite here needs of its cluster: an account with records, a receiver, and reading a report back. */
function deliverySuite(cluster: ReportClusterFixture, rows: number) {
  const windowStart = yesterdayAtUtc(6);
  const state = { key: '', receiver: undefined as unknown as WebhookReceiver };
  return {
    state,
    async setUp() {
      state.receiver = await cluster.receiver();
      state.key = await cluster.account('acme');
      const sms = cdrFactory({ startTime: (n) => new Date(windowStart + Math.floor((n * HOUR) / (rows + 1))).toISOString(), endAfterMs: 4_500 });
      await cluster.load(Array.from({ length: rows }, () => sms()));
    },
    report: (extra: Record<string, unknown>) => ({
      product: 'SMS',
      date_start: new Date(windowStart).toISOString(),
      date_end: new Date(windowStart + HOUR).toISOString(),
      callback_url: state.receiver.url('/cdr-events'),
      ...extra,
    }),
    async createDestination(body: unknown): Promise<string> {
      const created = await cluster.request('POST', '/v1/destinations', state.key, body);
      expect(created.status).toBe(201);
      return (created.body as { destination_id: string }).destination_id;
    },
    get: async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, state.key)).body as Delivered,
    /**
     * The callbacks the receiver got for a report, once at least one came and then `quietMs` passed without another.
     * The quiet window is a fixed wait on purpose: it checks that a second callback does NOT come, and the retry
     * schedule (0s, 200ms, 200ms) would have sent any duplicate well within it.
     */
    async callbacksOf(id: string, quietMs = 3_000) {
      await waitFor(() => receivedForReport(state.receiver.received, id).length > 0, { timeoutMs: 30_000, what: `a callback for report ${id}` });
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      const secret = await webhookSecret(cluster.services.db.pool, 'acme');
      return receivedForReport(state.receiver.received, id).map((webhook) => verifyWebhook(secret, webhook) as unknown as { type: string; data: Delivered });
    },
    /** The callback events recorded for a report (the outbox), by type and delivery run. */
    async recordedEvents(id: string) {
      const result = await cluster.services.db.pool.query<{ type: string; delivery_run: number }>(
        'SELECT type, delivery_run FROM callback_events WHERE report_id = $1 ORDER BY created_at',
        [id],
      );
      return result.rows;
    },
  };
}

/** Every file of a delivered report matches its manifest entry and the report's own record of it. */
function expectFilesMatchManifest(done: Delivered, manifest: Manifest, folder: string, bytesOf: Map<string, Buffer>, totalRows: number): void {
  expect(manifest.report_id).toBe(done.request_id);
  expect(manifest.files.map((f) => f.key)).toEqual(done.files.map((f) => `${folder}${f.name}`));
  expect(done.delivery!.file_keys).toEqual(manifest.files.map((f) => f.key));
  for (const [index, entry] of manifest.files.entries()) {
    const bytes = bytesOf.get(entry.key);
    expect({ key: entry.key, present: bytes !== undefined }).toEqual({ key: entry.key, present: true });
    expect({ key: entry.key, size: bytes!.length, sha256: sha256(bytes!) }).toEqual({ key: entry.key, size: entry.size_bytes, sha256: entry.sha256 });
    expect({ sha256: done.files[index]!.sha256, rows: done.files[index]!.rows }).toEqual({ sha256: entry.sha256, rows: entry.rows });
  }
  expect(manifest.rows).toBe(totalRows);
  expect(manifest.files.reduce((total, f) => total + f.rows, 0)).toBe(totalRows);
}

async function s3Keys(s3: TestS3, prefix: string): Promise<string[]> {
  const listing = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (listing.Contents ?? []).map((o) => o.Key!).sort();
}

async function s3Object(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

/** The S3 destination body for a customer bucket on one of the test's S3 servers. */
function s3Destination(s3: TestS3) {
  return {
    name: 'finance bucket',
    type: 's3',
    s3: {
      endpoint: s3.endpoint,
      region: 'us-east-1',
      bucket: s3.bucket,
      prefix: 'cdrs/',
      force_path_style: true,
      access_key_id: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      secret_access_key: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    },
  };
}

/** Reads a delivered report's manifest and files back from an S3 bucket and checks them against each other. */
async function expectDeliveredToS3(s3: TestS3, done: Delivered, rows: number): Promise<void> {
  const folder = `cdrs/acme/${done.request_id}/`;
  expect(done.delivery).toMatchObject({ state: 'DELIVERED', error: null, manifest_key: `${folder}manifest.json` });
  // Exactly the report's files and the manifest: nothing of a failed attempt left beside them.
  expect(await s3Keys(s3, folder)).toEqual([...done.files.map((f) => `${folder}${f.name}`), `${folder}manifest.json`].sort());
  const manifest = JSON.parse((await s3Object(s3.client, s3.bucket, `${folder}manifest.json`)).toString('utf8')) as Manifest;
  const bytes = new Map<string, Buffer>();
  for (const entry of manifest.files) bytes.set(entry.key, await s3Object(s3.client, s3.bucket, entry.key));
  expectFilesMatchManifest(done, manifest, folder, bytes, rows);
}

describe('fault: the customer S3 bucket is down for a minute when the report finishes', () => {
  const ROWS = 2_000;
  const OUTAGE_MS = 60_000;
  const lines: string[] = [];
  const env = { ...ENV, DELIVERY_RETRY_BASE: '2s' };
  const cluster = useReportCluster({ notifier: true, env, logDestination: { write: (line: string) => void lines.push(line) } });
  const suite = deliverySuite(cluster, ROWS);
  let customer: RestartableS3;

  beforeAll(async () => {
    await suite.setUp();
    customer = await startRestartableS3();
    cluster.onTeardown(() => customer.close());
  }, 120_000);

  it('retries while it is down (SUCCESS, delivery PENDING, no callback), then ends DELIVERED once with every file; one report.completed', async () => {
    const destinationId = await suite.createDestination(s3Destination(customer));
    expect((await cluster.request('POST', `/v1/destinations/${destinationId}/test`, suite.state.key)).body).toEqual({ ok: true });

    await customer.stop();
    const downAt = Date.now();
    const id = (await cluster.createReport(suite.state.key, suite.report({ destination_id: destinationId, max_file_rows: 450 }))).request_id;
    const retried = (): string[] => lines.filter((line) => line.includes(id) && line.includes('delivery attempt failed; it will be retried'));

    // The report is built (our own bucket is up), its delivery fails and is retried.
    await waitFor(() => retried().length >= 2, { timeoutMs: 30_000, what: 'two failed delivery attempts' });
    // For the rest of the outage, every look finds the same: the file is ready, the delivery waits, no callback yet.
    // (A window of fixed length on purpose: it is the outage, checked throughout.)
    while (Date.now() - downAt < OUTAGE_MS) {
      const current = await suite.get(id);
      expect({ status: current.request_status, delivery: current.delivery?.state, callbacks: receivedForReport(suite.state.receiver.received, id).length }).toEqual({
        status: 'SUCCESS',
        delivery: 'PENDING',
        callbacks: 0,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const failedAttempts = retried();
    await customer.start();

    const done = await waitFor(
      async () => {
        const current = await suite.get(id);
        return ['DELIVERED', 'FAILED'].includes(current.delivery?.state ?? '') ? current : undefined;
      },
      // Retries 2s, 4s, 8s, 16s, 32s, 64s after the first attempt: the one after the outage at the latest ~130 s in.
      { timeoutMs: 150_000, intervalMs: 250, what: `the delivery of report ${id} once S3 is back` },
    );
    expect(done.request_status).toBe('SUCCESS');
    expect(done.files).toHaveLength(5);
    await expectDeliveredToS3(customer, done, ROWS);

    // The attempts failed connecting (retryable), not for any reason that would have ended it FAILED.
    expect(failedAttempts.length).toBeGreaterThanOrEqual(4);
    for (const line of failedAttempts) expect(JSON.parse(line)).toMatchObject({ step: 'connect' });

    const callbacks = await suite.callbacksOf(id);
    expect(callbacks.map((c) => c.type)).toEqual(['report.completed']);
    expect(callbacks[0]!.data.delivery).toMatchObject({ state: 'DELIVERED', manifest_key: `cdrs/acme/${id}/manifest.json` });
    expect(await suite.recordedEvents(id)).toEqual([{ type: 'report.completed', delivery_run: 1 }]);
  }, 300_000);
});

describe('fault: the worker is killed (SIGKILL) in the middle of a delivery into SFTP', () => {
  const ROWS = 3_000;
  const FILE_ROWS = 10;
  const env = { ...ENV, JOB_LOCK_DURATION: '2s', DELIVERY_RETRY_BASE: '1s' };
  const cluster = useReportCluster({ worker: false, notifier: true, env });
  const suite = deliverySuite(cluster, ROWS);
  let sftp: TestSftpServer;

  beforeAll(async () => {
    await suite.setUp();
    sftp = await startSftpServer();
    cluster.onTeardown(() => sftp.stop());
  }, 120_000);

  it('another worker takes the delivery over: DELIVERED once, the folder holds exactly the files and the manifest, one report.completed', async () => {
    const deliveries = cluster.reportQueue('deliveries').queue;
    const destinationId = await suite.createDestination({
      name: 'sftp drop',
      type: 'sftp',
      sftp: { host: sftp.host, port: sftp.port, username: sftp.username, private_key: sftp.privateKey, host_key_sha256: sftp.hostKeySha256, directory: sftp.directory },
    });
    const first = cluster.spawn('worker', env);
    await first.ready();

    const id = (await cluster.createReport(suite.state.key, suite.report({ destination_id: destinationId, max_file_rows: FILE_ROWS }))).request_id;
    const folder = join(sftp.directory, 'acme', id);
    const visible = async () => (await readdir(folder).catch(() => [] as string[])).filter((name) => !name.startsWith('.'));
    const expectedFiles = ROWS / FILE_ROWS;

    // In flight: the job is active, some files are written, the manifest (written last) is not, and a file is being
    // written (its hidden temporary file is there). The worker is frozen (SIGSTOP) to make sure the write is still
    // unfinished when it is killed; if it finished meanwhile, the worker goes on (SIGCONT) and the next one is caught.
    const partials = async () => (await readdir(folder).catch(() => [] as string[])).filter((name) => name.endsWith('.partial'));
    let inFlight = false;
    const caught = await waitFor(
      async () => {
        const names = await visible();
        if (names.includes('manifest.json')) throw new Error('the delivery finished before the worker could be killed');
        if (names.length < 20) return undefined;
        inFlight ||= (await (await deliveries.getJob(`${id}.1`))?.getState()) === 'active';
        if (!inFlight || (await partials()).length === 0) return undefined;
        process.kill(-first.child.pid!, 'SIGSTOP');
        // A fixed short wait on purpose: a request the worker sent before it froze (the rename) lands within it, and
        // nothing else can change the folder while it is frozen.
        await new Promise((resolve) => setTimeout(resolve, 100));
        if ((await partials()).length > 0) return names.length;
        process.kill(-first.child.pid!, 'SIGCONT');
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2, what: 'the delivery to be in flight, in the middle of writing a file' },
    );
    await first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');

    const afterKill = await suite.get(id);
    expect({ status: afterKill.request_status, delivery: afterKill.delivery?.state }).toEqual({ status: 'SUCCESS', delivery: 'PENDING' });
    const leftByKill = await visible();
    expect(leftByKill).not.toContain('manifest.json');
    expect(leftByKill.length).toBeGreaterThanOrEqual(caught);
    expect(leftByKill.length).toBeLessThan(expectedFiles);
    // The write cut off by the kill left its hidden temporary file.
    const hiddenAfterKill = (await readdir(folder)).filter((name) => name.startsWith('.'));
    expect(hiddenAfterKill).toEqual([expect.stringMatching(/^\.SMS_.+_part\d{5}\.csv\.gz\.[0-9a-f]{12}\.partial$/)]);

    const second = cluster.spawn('worker', env);
    await second.ready();
    const done = await waitFor(
      async () => {
        const current = await suite.get(id);
        return ['DELIVERED', 'FAILED'].includes(current.delivery?.state ?? '') ? current : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100, what: `the delivery of report ${id} by the second worker` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nsecond worker:\n${second.log}`);
    });
    expect(done.request_status).toBe('SUCCESS');
    expect(done.delivery).toMatchObject({ state: 'DELIVERED', error: null, manifest_key: join(folder, 'manifest.json') });
    expect(done.files).toHaveLength(expectedFiles);

    // The folder on disk: exactly the report's files and the manifest, each whole.
    const names = done.files.map((f) => f.name);
    expect(await visible()).toEqual([...names, 'manifest.json'].sort());
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as Manifest;
    const bytes = new Map<string, Buffer>();
    for (const name of names) bytes.set(join(folder, name), await readFile(join(folder, name)));
    expectFilesMatchManifest(done, manifest, `${folder}/`, bytes, ROWS);
    // Nor the temporary file of the write the kill cut off: the second run, writing that file whole, removed it.
    expect((await readdir(folder)).filter((name) => name.startsWith('.'))).toEqual([]);

    const callbacks = await suite.callbacksOf(id);
    expect(callbacks.map((c) => c.type)).toEqual(['report.completed']);
    expect(await suite.recordedEvents(id)).toEqual([{ type: 'report.completed', delivery_run: 1 }]);
    expect(second.alive).toBe(true);
  }, 240_000);
});

describe('fault: Redis loses the delivery job; the report sweeper enqueues it again', () => {
  const ROWS = 600;
  const env = { ...ENV, DELIVERY_RETRY_BASE: '1s' };
  const cluster = useReportCluster({ notifier: true, env });
  const suite = deliverySuite(cluster, ROWS);
  let customer: TestS3;

  beforeAll(async () => {
    await suite.setUp();
    customer = await startTestS3();
    cluster.onTeardown(() => customer.close());
  }, 120_000);

  it('a PENDING delivery without a job is enqueued by the sweeper once stale, and ends DELIVERED once; one report.completed', async () => {
    const probe = cluster.reportQueue('deliveries');
    const deliveries = probe.queue;
    const sweeper = await openReportRunner(cluster, probe.redis, env);
    // Before the probe's own teardown: it shares the probe's connection, which closing the probe quits.
    cluster.onTeardown(() => sweeper.close());
    const destinationId = await suite.createDestination(s3Destination(customer));

    // Deliveries held back (the queue paused) so the report's delivery stays PENDING with its job waiting.
    await deliveries.pause();
    const id = (await cluster.createReport(suite.state.key, suite.report({ destination_id: destinationId, max_file_rows: 250 }))).request_id;
    const jobId = `${id}.1`;
    await waitFor(async () => (await suite.get(id)).request_status === 'SUCCESS' && (await deliveries.getJob(jobId)) !== undefined, {
      timeoutMs: 30_000,
      what: 'the report to finish with its delivery job waiting',
    });
    await cluster.stopWorker();

    // Redis loses it: the deliveries queue is gone, job and all.
    await deliveries.obliterate({ force: true });
    await deliveries.resume();
    expect(await deliveries.getJob(jobId)).toBeUndefined();
    expect((await suite.get(id)).delivery).toMatchObject({ state: 'PENDING' });

    // A delivery touched recently is not stale yet: the sweeper leaves it be.
    expect(await sweeper.runner.sweep()).toMatchObject({ requeued: 0 });
    expect(await deliveries.getJob(jobId)).toBeUndefined();
    // Untouched for longer than the sweeper's threshold (2 minutes): it is enqueued again, once.
    await cluster.services.db.pool.query(`UPDATE reports SET delivery_updated_at = now() - interval '3 minutes' WHERE id = $1`, [id]);
    expect(await sweeper.runner.sweep()).toMatchObject({ requeued: 1 });
    expect(await deliveries.getJob(jobId)).toBeDefined();

    await cluster.startWorker();
    const done = await waitFor(
      async () => {
        const current = await suite.get(id);
        return ['DELIVERED', 'FAILED'].includes(current.delivery?.state ?? '') ? current : undefined;
      },
      { timeoutMs: 60_000, what: `the delivery of report ${id}` },
    );
    expect(done.request_status).toBe('SUCCESS');
    expect(done.files).toHaveLength(3);
    await expectDeliveredToS3(customer, done, ROWS);

    const callbacks = await suite.callbacksOf(id);
    expect(callbacks.map((c) => c.type)).toEqual(['report.completed']);
    expect(await suite.recordedEvents(id)).toEqual([{ type: 'report.completed', delivery_run: 1 }]);

    // Ended: a later sweep, even long after, finds nothing to recover.
    await cluster.services.db.pool.query(`UPDATE reports SET delivery_updated_at = now() - interval '3 minutes' WHERE id = $1`, [id]);
    expect(await sweeper.runner.sweep()).toMatchObject({ requeued: 0, failed: 0 });
    expect((await suite.get(id)).delivery).toMatchObject({ state: 'DELIVERED' });
  }, 120_000);
});
