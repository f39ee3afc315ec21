import { createProducerConnection, upsertSchedules } from '@cdr-reports/jobs';
import { migrate } from '@cdr-reports/db';
import { printJson, type CliContext } from '../context';
import type { Command } from './command';

/** Creates the database if needed, applies pending migrations and upserts the job schedulers. Idempotent. */
export const migrateCommand: Command = {
  summary: 'create the database if missing, apply migrations, register job schedules',
  usage: 'cli migrate',
  async run(_argv: string[], ctx: CliContext) {
    const pool = await ctx.db();
    // ctx.db() has migrated already; running it again reports nothing pending, which proves idempotence to the user.
    const applied = await migrate(pool);
    const redis = createProducerConnection(ctx.config.redisUrl, { enableOfflineQueue: true });
    try {
      const schedules = await upsertSchedules(redis, ctx.config.queuePrefix);
      printJson({ database: 'ready', pending_migrations_applied: applied, schedules });
    } finally {
      redis.disconnect();
    }
    return 0;
  },
};
