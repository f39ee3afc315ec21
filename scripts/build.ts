/**
 * `npm run build`: the processes' entry points as plain JavaScript, in dist/, which every launcher runs with
 * plain node (npm start, the demo, the tests' AppProcess, the benchmarks, the Docker image):
 * - dist/cli.js: the CLI, which also runs the api, the worker and the notifier (`cli start <app>`, what the
 *   launchers use);
 * - dist/api.js, dist/worker.js, dist/notifier.js: each app's own main.ts, for a process manager that starts an
 *   app without the CLI;
 * - dist/embedded-s3.js: the embedded S3 server's own process.
 * esbuild bundles this project's TypeScript (the @cdr-reports/* workspaces) into each file and leaves every npm
 * package to node's require from node_modules, as it is. Why not run the source through tsx's loader, as before:
 * the loader and its compile cache cost every process about 40 MiB resident, a third of a worker at rest
 * (measured in the README's design notes). Type checking is tsc's job (npm run typecheck), not this one's.
 *
 * Also Jest's globalSetup: every test run starts from entry points built from the source it tests. Files are
 * replaced atomically and only when changed, so a run never starts a half-written file of another.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import type { BuiltEntryName } from '@cdr-reports/config';

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

/** dist/<name>.js from each source (the names launchers ask builtEntry for). */
const ENTRIES: Record<BuiltEntryName, string> = {
  cli: path.join(ROOT, 'apps', 'cli', 'src', 'main.ts'),
  api: path.join(ROOT, 'apps', 'api', 'src', 'main.ts'),
  worker: path.join(ROOT, 'apps', 'worker', 'src', 'main.ts'),
  notifier: path.join(ROOT, 'apps', 'notifier', 'src', 'main.ts'),
  'embedded-s3': path.join(ROOT, 'packages', 'embedded-s3', 'src', 'main.ts'),
};

/** Bare imports of anything but this project's workspaces stay require()s of node_modules. */
const npmPackagesExternal: Plugin = {
  name: 'npm-packages-external',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@cdr-reports/') ? undefined : { path: args.path, external: true }));
  },
};

export async function buildApps(): Promise<void> {
  const result = await build({
    entryPoints: ENTRIES,
    outdir: DIST,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // NODE_OPTIONS=--enable-source-maps makes stack traces name the TypeScript source (about 2 MiB more resident).
    sourcemap: 'linked',
    sourcesContent: false,
    plugins: [npmPackagesExternal],
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(DIST, { recursive: true });
  for (const file of result.outputFiles) {
    if (existsSync(file.path) && readFileSync(file.path).equals(file.contents)) continue;
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

export default buildApps;

if (require.main === module) {
  buildApps().catch((error: unknown) => {
    process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
