import { parseArgs } from 'node:util';
import { dropExpiredPartitions, listPartitions, retentionCutoff } from '@cdr-reports/cdr-store';
import { printJson, type CliContext } from '../context';
import type { Command } from './command';

/** The same work as the worker's daily cdr-retention job, on demand. */
export const cdrRetentionCommand: Command = {
  summary: 'drop CDR partitions older than CDR_RETENTION',
  usage: `cli cdr retention [--dry-run]
    drops every monthly partition that lies wholly before now minus CDR_RETENTION;
    --dry-run prints what would be dropped`,
  async run(argv: string[], ctx: CliContext) {
    const { values } = parseArgs({ args: argv, options: { 'dry-run': { type: 'boolean' } } });
    const pool = await ctx.db();
    const now = new Date();
    const cutoff = retentionCutoff(now, ctx.config.cdrRetention);
    const dropped = values['dry-run']
      ? (await listPartitions(pool)).filter((p) => p.to.getTime() <= cutoff.getTime())
      : await dropExpiredPartitions(pool, now, ctx.config.cdrRetention);
    printJson({ cutoff: cutoff.toISOString(), dry_run: Boolean(values['dry-run']), dropped: dropped.map((p) => p.name) });
    return 0;
  },
};
