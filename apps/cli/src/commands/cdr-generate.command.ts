import { randomInt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { defaultGenerationRange, generateCdrs, importCdrRecords, writeCdrs, type CdrFileFormat } from '@cdr-reports/cdr-store';
import { isCdrAccountId, parseRfc3339 } from '@cdr-reports/domain';
import { printJson, UsageError, type CliContext } from '../context';
import type { Command } from './command';
import { importSummaryJson } from './cdr-import.command';

const USAGE = `cli cdr generate --rows N --accounts A,B,C [--from TIME] [--to TIME] [--seed N]
                 [--format csv|ndjson] [--gzip] [--out FILE | --load]
    makes N realistic synthetic CDRs (voice, SMS and messages, every direction and status) for the accounts,
    with start times in [--from, --to) (default: the 30 days before now; TIME is RFC 3339 or YYYY-MM-DD);
    the same --seed gives the same records (default: a random seed, printed in the summary).
    --out FILE writes CSV (or --format ndjson), gzip with --gzip or a .gz name; --load inserts the records
    into the CDR store through the import path; with neither, the file goes to standard output`;

function parseTime(option: string, text: string): Date {
  const instant = /^\d{4}-\d{2}-\d{2}$/.test(text) ? parseRfc3339(`${text}T00:00:00Z`) : parseRfc3339(text);
  if (!instant) throw new UsageError(`--${option} must be an RFC 3339 time like 2026-03-01T00:00:00Z or a date like 2026-03-01`);
  return new Date(instant.epochMs);
}

function parseWhole(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`--${option} must be a whole number from ${min} to ${max}`);
  return value;
}

export const cdrGenerateCommand: Command = {
  summary: 'generate realistic synthetic CDRs into a file, standard output or the CDR store',
  usage: USAGE,
  async run(argv: string[], ctx: CliContext) {
    const { values } = parseArgs({
      args: argv,
      options: {
        rows: { type: 'string' },
        accounts: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        seed: { type: 'string' },
        format: { type: 'string' },
        gzip: { type: 'boolean' },
        out: { type: 'string' },
        load: { type: 'boolean' },
      },
    });
    if (values.rows === undefined) throw new UsageError('--rows is required');
    const rows = parseWhole('rows', values.rows, 1, Number.MAX_SAFE_INTEGER);
    const accounts = (values.accounts ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
    if (accounts.length === 0) throw new UsageError('--accounts is required: a comma-separated list of account ids');
    const badAccount = accounts.find((a) => !isCdrAccountId(a));
    if (badAccount !== undefined) throw new UsageError(`--accounts: "${badAccount}" is not a valid account id`);
    const format = (values.format ?? 'csv') as CdrFileFormat;
    if (format !== 'csv' && format !== 'ndjson') throw new UsageError('--format must be csv or ndjson');
    if (values.load && values.out !== undefined) throw new UsageError('--out and --load exclude each other');
    if (values.load && (values.gzip || values.format !== undefined)) throw new UsageError('--format and --gzip are for files, not --load');
    const defaults = defaultGenerationRange(values.to === undefined ? new Date() : parseTime('to', values.to));
    const from = values.from === undefined ? defaults.from : parseTime('from', values.from);
    const to = defaults.to;
    if (to.getTime() <= from.getTime()) throw new UsageError('--to must be after --from');
    const seed = values.seed === undefined ? randomInt(0, 2 ** 32) : parseWhole('seed', values.seed, 0, 2 ** 32 - 1);
    const generate = () => generateCdrs({ rows, accounts, from, to, seed });
    const about = { rows, accounts, seed, from: from.toISOString(), to: to.toISOString() };

    if (values.load) {
      const summary = await importCdrRecords(await ctx.db(), generate);
      printJson({ ...about, ...importSummaryJson(summary) });
      return summary.status === 'loaded' ? 0 : 1;
    }
    const started = performance.now();
    const gzip = Boolean(values.gzip) || (values.out?.endsWith('.gz') ?? false);
    if (values.out === undefined) {
      await writeCdrs(generate(), process.stdout, { format, gzip, end: false });
      // Standard output carries the data: the summary goes to the log (standard error).
      ctx.log().info({ ...about, format, gzip }, 'generated CDRs');
      return 0;
    }
    // A deep write buffer lets the disk write one chunk while the next is generated.
    await writeCdrs(generate(), createWriteStream(values.out, { highWaterMark: 4 * 1024 * 1024 }), { format, gzip });
    const elapsedMs = Math.round(performance.now() - started);
    printJson({ ...about, format, gzip, out: values.out, elapsed_ms: elapsedMs, rows_per_second: Math.round((rows * 1000) / Math.max(elapsedMs, 1)) });
    return 0;
  },
};
