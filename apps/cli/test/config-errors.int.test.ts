import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** Runs an app's entry point with `env` added to a clean environment; resolves with its exit code and output. */
async function run(script: string, args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('a bad setting stops start-up with a message naming the variable', () => {
  it.each([
    ['apps/api/src/main.ts', [], { PORT: 'eighty' }, /PORT: must be a port number/],
    ['apps/worker/src/main.ts', [], { REPORT_TTL: 'three days' }, /REPORT_TTL: must be a duration/],
    ['apps/notifier/src/main.ts', [], { REDIS_URL: 'http://nope' }, /REDIS_URL: must be a redis: or rediss: URL/],
    ['apps/cli/src/main.ts', ['start', 'api'], { CDR_RETENTION: 'forever', LOG_LEVEL: 'loud' }, /CDR_RETENTION: .*\n.*LOG_LEVEL: /],
  ])('%s %j with %j', async (script, args, env, message) => {
    const result = await run(script, args, env);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/Invalid configuration/);
    expect(result.stderr).toMatch(message);
  });
});
