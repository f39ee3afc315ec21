/**
 * npm run bench [-- --quick]: every benchmark in one run on the local services; each figure is printed beside
 * its baseline measured in the same run. --quick uses small sizes (a smoke run; its timings mean nothing).
 */
import { createPool } from '@cdr-reports/db';
import { TEST_DATABASE_SERVER } from '@cdr-reports/testing';
import { benchAccountTree } from './account-tree.bench';
import { benchCallbacks } from './callbacks.bench';
import { benchExport } from './export.bench';
import { benchFormats } from './formats.bench';
import { benchImport } from './import.bench';
import { benchIntake } from './intake.bench';
import { benchRecords } from './records.bench';
import { benchSmallReports } from './small-reports.bench';
import { writeResults, type Figure } from './report';
import { buildApps } from '../scripts/build';

async function main(): Promise<void> {
  // The apps' entry points (dist/), which every benchmark's processes run, built from the source measured.
  await buildApps();
  const quick = process.argv.includes('--quick');
  // BENCH_ONLY=export,callbacks runs some of them (exploring); a full run is every one.
  const only = process.env.BENCH_ONLY?.split(',');
  const benchmarks: Array<[string, (options: { quick: boolean }) => Promise<Figure[]>]> = [
    // The light ones first: the heavy loads leave PostgreSQL with writes and vacuuming to catch up on.
    ['callbacks', benchCallbacks],
    ['intake', benchIntake],
    ['small-reports', benchSmallReports],
    ['records', benchRecords],
    ['export', benchExport],
    ['formats', benchFormats],
    ['import', benchImport],
    ['account-tree', benchAccountTree],
  ];
  const figures: Figure[] = [];
  for (const [name, run] of benchmarks) {
    if (only && !only.includes(name)) continue;
    console.log(`bench: ${name}`);
    figures.push(...(await run({ quick })));
    await settle();
  }
  // The command as run, with the BENCH_* settings that changed it.
  const settings = Object.entries(process.env)
    .filter(([name]) => name.startsWith('BENCH_') && name !== 'BENCH_NODE_OPTIONS')
    .map(([name, value]) => `${name}=${value} `)
    .join('');
  await writeResults(figures, { quick, command: `${settings}npm run bench${quick ? ' -- --quick' : ''}`, ...(only && { only }) });
}

/** Lets PostgreSQL write out what a benchmark left dirty, so that the next one starts on a quiet machine. */
async function settle(): Promise<void> {
  const pool = createPool({ connectionString: TEST_DATABASE_SERVER, max: 1 });
  try {
    await pool.query('CHECKPOINT');
  } catch {
    // CHECKPOINT needs a superuser; without one the pause below is all there is.
  } finally {
    await pool.end();
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
