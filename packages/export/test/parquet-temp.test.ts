import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetTempRoot } from '../src/parquet-temp';

const folderOf = (host: string, pid: number) => join(tmpdir(), `cdr-reports-parquet-${host}-${pid}`);

/** A folder as a worker leaves it, with a spilled file inside. */
function leftBehind(folder: string): string {
  mkdirSync(join(folder, 'duckdb'), { recursive: true });
  writeFileSync(join(folder, 'duckdb', 'spill.tmp'), 'spilled rows');
  return folder;
}

describe('parquetTempRoot', () => {
  it("removes the folders of this host's processes that are gone, and only those", async () => {
    const ended = spawn(process.execPath, ['-e', '']);
    await once(ended, 'exit');
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const folders = {
      gone: leftBehind(folderOf(hostname(), ended.pid!)),
      running: leftBehind(folderOf(hostname(), running.pid!)),
      otherHost: leftBehind(folderOf(`not-${hostname()}`, ended.pid!)),
    };
    try {
      const root = parquetTempRoot();
      expect(root).toBe(folderOf(hostname(), process.pid));
      expect(statSync(root).mode & 0o777).toBe(0o700);
      expect(parquetTempRoot()).toBe(root);
      expect(existsSync(folders.gone)).toBe(false);
      expect(existsSync(join(folders.running, 'duckdb', 'spill.tmp'))).toBe(true);
      expect(existsSync(join(folders.otherHost, 'duckdb', 'spill.tmp'))).toBe(true);
    } finally {
      running.kill();
      for (const folder of Object.values(folders)) rmSync(folder, { recursive: true, force: true });
    }
  });
});
