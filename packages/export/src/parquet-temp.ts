import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'cdr-reports-parquet-';

let root: string | undefined;

/**
 * The process's own folder for Parquet's temporary files (DuckDB's spill folder, each file's FIFOs or spool),
 * `cdr-reports-parquet-{host}-{pid}` in the system's temporary folder, removed when the process exits. A worker
 * killed outright (kill -9, out of memory) cannot remove its own, which may hold gigabytes of DuckDB's spill:
 * the first Parquet file of a later process on the same host removes the folders of processes that are gone.
 */
export function parquetTempRoot(): string {
  if (root) return root;
  const own = `${PREFIX}${hostname()}-`;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(own)) continue;
    const pid = Number(name.slice(own.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  const folder = join(tmpdir(), `${own}${process.pid}`);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  root = folder;
  return folder;
}

/** Whether process `pid` exists (one of another user's counts: it cannot be signalled, but it runs). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
