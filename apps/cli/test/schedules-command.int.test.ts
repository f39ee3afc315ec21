import { parseConfig } from '@cdr-reports/config';
import { AccountsRepository } from '@cdr-reports/db';
import { ScheduleQueue, createProducerConnection } from '@cdr-reports/jobs';
import { TEST_REDIS_URL, createTestDatabase, uniqueQueuePrefix, type TestDatabase } from '@cdr-reports/testing';
import type { Redis } from 'ioredis';
import { schedulesCommand } from '../src/commands/schedules.command';
import { CliContext } from '../src/context';

/** cli schedules create|list|pause|resume|run|delete, against real PostgreSQL and Redis. */
describe('cli schedules', () => {
  let db: TestDatabase;
  let redis: Redis;
  let queue: ScheduleQueue;
  const prefix = uniqueQueuePrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    await new AccountsRepository(db.pool).create({ id: 'acme', name: 'Acme' });
    redis = createProducerConnection(TEST_REDIS_URL);
    queue = new ScheduleQueue(redis, prefix);
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await db.drop();
  });

  async function run(argv: string[]): Promise<{ code: number; out: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- printed JSON
    const ctx = new CliContext(parseConfig({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent' }));
    let stdout = '';
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    });
    try {
      const code = await schedulesCommand.run(argv, ctx);
      return { code, out: stdout ? JSON.parse(stdout) : undefined };
    } finally {
      write.mockRestore();
      await ctx.close();
    }
  }

  it('creates, lists, pauses, resumes, runs and deletes a schedule', async () => {
    const created = await run(['create', '--account', 'acme', '--name', 'Finance', '--product', 'SMS', '--timezone', 'Europe/Paris', '--report', '{"compression":"zip"}']);
    expect(created.code).toBe(0);
    expect(created.out).toMatchObject({ name: 'Finance', account_id: 'acme', timezone: 'Europe/Paris', report: { product: 'SMS', compression: 'zip' } });
    const id = created.out.id as string;
    expect(await queue.find(id)).toEqual({ pattern: '0 2 1 * *', tz: 'Europe/Paris' });

    expect((await run(['list'])).out.map((s: { id: string }) => s.id)).toEqual([id]);
    expect((await run(['pause', id])).out.paused).toBe(true);
    expect(await queue.find(id)).toBeUndefined();
    expect((await run(['resume', id])).out.paused).toBe(false);
    expect(await queue.find(id)).toBeDefined();

    const ran = await run(['run', id, '--period-start', '2026-03-10']);
    expect(ran.out).toMatchObject({ created: true, report: { schedule_id: id, date_start: '2026-03-01T00:00:00+01:00', date_end: '2026-04-01T00:00:00+02:00' } });
    expect((await run(['run', id, '--period-start', '2026-03-31'])).out).toMatchObject({ created: false, report: { request_id: ran.out.report.request_id } });

    expect((await run(['delete', id])).out).toMatchObject({ id, deleted: true });
    expect(await run(['list'])).toEqual({ code: 0, out: [] });
    expect(await queue.find(id)).toBeUndefined();
  });

  it('explains what is wrong with a schedule', async () => {
    await expect(run(['create', '--account', 'acme', '--name', 'x', '--product', 'FAX'])).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(run(['create', '--name', 'x', '--product', 'SMS'])).rejects.toMatchObject({ name: 'UsageError' });
    await expect(run(['pause', '00000000-0000-4000-8000-000000000000'])).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
