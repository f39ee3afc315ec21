import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from '@cdr-reports/config';
import { SecretBox } from '@cdr-reports/destinations';

/**
 * The key ring that seals destination secrets: DESTINATION_SECRET_KEYS when set (production requires it: the
 * config refuses to start without), else a local key in DESTINATION_SECRET_KEY_FILE, created on first use so
 * `npm start` and the demo work on a fresh machine. Every local process (API, worker) reads the same file.
 */
export async function openSecretBox(config: Pick<Config, 'destinationSecretKeys' | 'destinationSecretKeyFile'>): Promise<SecretBox> {
  if (config.destinationSecretKeys) return new SecretBox(config.destinationSecretKeys);
  return new SecretBox([{ id: 'local', key: await localKey(config.destinationSecretKeyFile) }]);
}

async function localKey(file: string): Promise<Buffer> {
  await mkdir(dirname(file), { recursive: true });
  try {
    // 'wx': exactly one of several processes starting at once creates it; the others read it.
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A racing creator may not have written its bytes yet: read until the key is whole.
  for (let tries = 0; ; tries++) {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length === 32) return key;
    if (tries >= 50) throw new Error(`${file} does not hold a 32-byte base64 key; delete it to have a new one made (destinations saved with the old key can then no longer be opened)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
