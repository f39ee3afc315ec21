import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The project's folder: the one holding its package.json. Found from where this code runs, which is either its
 * TypeScript source (tests, scripts) or a bundle in dist/ (every app process, see scripts/build.ts): a path
 * written relative to a module's own __dirname would hold in one and not the other.
 */
function findProjectRoot(from: string): string {
  for (let folder = from; ; folder = path.dirname(folder)) {
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'cdr-reports') return folder;
    if (path.dirname(folder) === folder) throw new Error(`no cdr-reports package.json in ${from} or any folder above it`);
  }
}

export const PROJECT_ROOT = findProjectRoot(__dirname);

/** The project's version (its package.json's). */
export const PROJECT_VERSION = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The built entry points (`npm run build`: dist/<name>.js), which every launcher runs with plain node. */
export type BuiltEntryName = 'cli' | 'api' | 'worker' | 'notifier' | 'embedded-s3';

/** The path of a built entry point; throws, saying what to run, when it has not been built. */
export function builtEntry(name: BuiltEntryName): string {
  const file = path.join(PROJECT_ROOT, 'dist', `${name}.js`);
  if (!existsSync(file)) throw new Error(`${path.relative(PROJECT_ROOT, file)} does not exist: run \`npm run build\` first`);
  return file;
}
