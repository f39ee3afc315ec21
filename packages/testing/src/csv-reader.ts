/**
 * Reads a report file back the way a customer would, with standard tools and not with the project's own
 * code: gunzip or unzip to decompress, Python's csv module to parse. A test that reads its files through
 * these cannot agree with a bug in the exporter by sharing its parser.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ReportFileContent {
  /** The CSV exactly as the file holds it, decompressed. */
  csv: Buffer;
  /** For a zip file: the names of its entries, in archive order; for gzip: empty. */
  entries: string[];
  /** The first row: the column names. */
  header: string[];
  /** The data rows, each as parsed by Python's csv module. */
  rows: string[][];
}

/** Runs `command` with `input` on its standard input; resolves with its standard output, rejects on a non-zero exit. */
function run(command: string, args: readonly string[], input?: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 2000)}`));
    });
    // A child that exits early (bad input) closes its stdin: that error is the exit code's to report.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Decompresses a .csv.gz with the gunzip command (which also checks the CRC and length of every member). */
export function gunzip(file: Buffer): Promise<Buffer> {
  return run('gunzip', ['-c'], file);
}

/** The entry names and the concatenated contents of a zip file, with the unzip command (CRCs tested first). */
export async function unzip(file: Buffer): Promise<{ entries: string[]; content: Buffer }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'cdr-test-zip-'));
  try {
    const archive = path.join(directory, 'report.zip');
    await writeFile(archive, file);
    await run('unzip', ['-tqq', archive]);
    const listing = (await run('unzip', ['-Z1', archive])).toString('utf8');
    const entries = listing.split('\n').filter((line) => line.length > 0);
    const content = await run('unzip', ['-p', archive]);
    return { entries, content };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

// strict=True makes malformed quoting an error instead of a guess; newline='' hands line ends inside quoted
// fields through untouched, as the csv module's documentation requires.
const PYTHON_CSV = [
  'import csv, io, json, sys',
  "text = io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', errors='strict', newline='')",
  'json.dump(list(csv.reader(text, strict=True)), sys.stdout)',
].join('\n');

/** Parses CSV bytes (UTF-8) with Python's csv module: every row, the header included. */
export async function parseCsv(csv: Buffer | string): Promise<string[][]> {
  return JSON.parse((await run('python3', ['-c', PYTHON_CSV], csv)).toString('utf8')) as string[][];
}

/** Decompresses a report file with gunzip or unzip and parses its CSV with Python. */
export async function readReportFile(file: Buffer, compression: 'gzip' | 'zip'): Promise<ReportFileContent> {
  let csv: Buffer;
  let entries: string[] = [];
  if (compression === 'gzip') csv = await gunzip(file);
  else ({ entries, content: csv } = await unzip(file));
  const [header = [], ...rows] = await parseCsv(csv);
  return { csv, entries, header, rows };
}

/** The rows as objects keyed by the header's column names. */
export function rowObjects(content: Pick<ReportFileContent, 'header' | 'rows'>): Record<string, string>[] {
  return content.rows.map((row) => Object.fromEntries(content.header.map((name, i) => [name, row[i] ?? ''])));
}
