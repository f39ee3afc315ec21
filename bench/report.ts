import { cpus, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One measured figure, printed beside the baseline it is compared to (measured in the same run). */
export interface Figure {
  benchmark: string;
  figure: string;
  value: number;
  unit: string;
  /** What the figure is compared to, and its value in this run. */
  baseline?: { name: string; value: number };
  /** The target, in words (e.g. ">= 1000/s"), and whether this run met it. */
  target?: { text: string; met: boolean };
}

/**
 * How each benchmark's baselines are computed, in words a user can repeat: written under the table of RESULTS.md
 * for every benchmark of the run. A baseline is what a user would otherwise run, typed the way they would type it.
 */
const BASELINES: Record<string, string> = {
  export:
    'The plain pipeline a DBA types, on the same rows (one account, product and month), after a warming pass of each: ' +
    '`psql -c "\\copy (SELECT <the stored columns> FROM cdrs WHERE account_id = ... AND product = ... AND start_time >= ... AND start_time < ... ' +
    'ORDER BY start_time, id) TO STDOUT WITH CSV HEADER" | gzip -6 > file`, PostgreSQL\'s default text output; three runs of it interleaved ' +
    'with three of the report, medians compared. Its CPU seconds: psql\'s and gzip\'s from the shell\'s `times`, PostgreSQL\'s from /proc ' +
    '(every postgres process, and what the postmaster collected of backends that ended).',
  fairness: 'The same 1,000-row report of another account, submitted to the same worker while it is idle.',
  'fan-out':
    'The same 12-month report (8 segments) built by 1 worker process instead of 2. CPU seconds are read from /proc for the ' +
    'worker processes, every PostgreSQL process and the S3 server, over the run; per million rows of the report.',
  formats: 'The CSV (gzip) report of the same rows in the same run, each format by a fresh worker process.',
  import: 'On the same generated file into the same emptied table: `psql -c "\\copy cdrs (<columns>) FROM \'file.csv\' WITH CSV HEADER"`.',
  callbacks: 'Plain POSTs with undici to the same local receiver at the same concurrency: no queue, no signature, no bookkeeping.',
  intake: 'A bare Fastify route answering 202 with a small JSON body, in a process of its own, under the same autocannon load (50 connections, 10 s).',
  records: 'The same keyset query (the page after the cursor, 1,000 rows) sent straight through a pg client, without HTTP or JSON.',
  'account-tree':
    'The same request over the same rows held by one account (the same generator, seed and times, account_id set to one account), ' +
    'in a database of its own; for the 13-month request, the month\'s request over the tree.',
};

const format = (value: number) => (Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(value < 10 ? 2 : 1));

/**
 * Prints the table and writes bench/results/latest.json and bench/RESULTS.md (a quick run: bench/results/quick.json;
 * some benchmarks alone: bench/results/only-NAMES.json).
 */
export async function writeResults(figures: Figure[], options: { quick: boolean; command: string; only?: readonly string[] }): Promise<void> {
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version };
  const rows = figures.map((f) => ({
    benchmark: f.benchmark,
    figure: f.figure,
    value: `${format(f.value)} ${f.unit}`,
    baseline: f.baseline ? `${format(f.baseline.value)} ${f.unit} (${f.baseline.name})` : '',
    ratio: f.baseline && f.baseline.value !== 0 ? (f.value / f.baseline.value).toFixed(2) : '',
    target: f.target ? `${f.target.text} ${f.target.met ? 'met' : 'NOT met'}` : '',
  }));
  console.table(rows);
  const date = new Date().toISOString();
  const dir = path.join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  const json = `${JSON.stringify({ date, command: options.command, quick: options.quick, machine, figures }, null, 2)}\n`;
  // A quick run is a smoke test whose figures mean nothing: it never replaces the results of a full one.
  if (options.quick) {
    await writeFile(path.join(dir, 'quick.json'), json);
    return;
  }
  // Some benchmarks alone (BENCH_ONLY): their own file; the full run's results stay as they were.
  if (options.only) {
    await writeFile(path.join(dir, `only-${options.only.join('+')}.json`), json);
    return;
  }
  await writeFile(path.join(dir, 'latest.json'), json);
  const header = '| benchmark | figure | value | baseline (same run) | ratio | target |\n|---|---|---|---|---|---|\n';
  const table = rows.map((r) => `| ${r.benchmark} | ${r.figure} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} |`).join('\n');
  const benchmarks = [...new Set(figures.map((f) => f.benchmark))].filter((name) => BASELINES[name]);
  const baselines = benchmarks.map((name) => `- **${name}**: ${BASELINES[name]}`).join('\n');
  const markdown =
    `# Benchmark results\n\nMeasured ${date} with \`${options.command}\`${options.quick ? ' (quick: small sizes, figures not meaningful)' : ''}\non ${machine.cpus} x ${machine.cpu}, ${machine.memory_gib} GiB, Node ${machine.node}, against the local Redis, PostgreSQL and the embedded S3 server.\n\n${header}${table}\n` +
    `\n## How each baseline is computed\n\n${baselines}\n`;
  await writeFile(path.join(__dirname, 'RESULTS.md'), markdown);
}

/** The p-th percentile (0-100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}
