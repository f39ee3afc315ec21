import { access } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { importCdrFile, type CdrImportSummary } from '@cdr-reports/cdr-store';
import { printJson, UsageError, type CliContext } from '../context';
import type { Command } from './command';

const USAGE = `cli cdr import FILE... [--skip-invalid] [--rejects PATH] [--batch-rows N]
    loads CSV or NDJSON files of CDRs (gzip or plain, recognised by content), each in one transaction,
    and prints a JSON summary per file; re-importing a record loads nothing new. A file with an invalid
    row is rejected whole (exit code 1) with the first 20 bad lines and reasons; --skip-invalid loads the
    valid rows and writes the invalid ones to --rejects (default FILE.rejects.ndjson)`;

/** The summary as the CLI prints it (without the source): snake_case like every other JSON the product emits. */
export function importSummaryJson(summary: CdrImportSummary): Record<string, unknown> {
  return {
    format: summary.format,
    gzip: summary.gzip,
    status: summary.status,
    load_mode: summary.loadMode,
    rows_read: summary.rowsRead,
    inserted: summary.inserted,
    already_present: summary.alreadyPresent,
    rejected: summary.rejected,
    rejects_file: summary.rejectsFile,
    partitions_created: summary.partitionsCreated,
    errors: summary.errors,
    elapsed_ms: summary.elapsedMs,
    rows_per_second: summary.elapsedMs > 0 ? Math.round((summary.rowsRead * 1000) / summary.elapsedMs) : null,
  };
}

export const cdrImportCommand: Command = {
  summary: 'load CDR files (CSV or NDJSON, gzip or plain) into the CDR store',
  usage: USAGE,
  async run(argv: string[], ctx: CliContext) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'skip-invalid': { type: 'boolean' }, rejects: { type: 'string' }, 'batch-rows': { type: 'string' } },
    });
    if (positionals.length === 0) throw new UsageError('name at least one file to import');
    if (values.rejects !== undefined && !values['skip-invalid']) throw new UsageError('--rejects goes with --skip-invalid');
    if (values.rejects !== undefined && positionals.length > 1) throw new UsageError('--rejects names one file: import one file at a time');
    const batchRows = values['batch-rows'] === undefined ? undefined : Number(values['batch-rows']);
    if (batchRows !== undefined && !(Number.isSafeInteger(batchRows) && batchRows > 0)) throw new UsageError('--batch-rows must be a whole number above 0');
    for (const file of positionals) {
      await access(file).catch(() => {
        throw new UsageError(`cannot read ${file}`);
      });
    }
    const pool = await ctx.db();
    let exitCode = 0;
    for (const file of positionals) {
      const summary = await importCdrFile(pool, file, {
        skipInvalid: values['skip-invalid'] ?? false,
        rejectsPath: values.rejects,
        batchRows,
      });
      printJson({ file, ...importSummaryJson(summary) });
      if (summary.status === 'rejected') exitCode = 1;
    }
    return exitCode;
  },
};
