import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { builtEntry, PROJECT_ROOT } from '@cdr-reports/config';

/** Runs a built entry point (dist/) with `env` added to a clean environment; resolves with its exit code and output. */
async function run(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
      cwd: PROJECT_ROOT,
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
    ['cli', ['start', 'api'], { PORT: 'eighty' }, /PORT: must be a port number/],
    ['cli', ['start', 'worker'], { REPORT_TTL: 'three days' }, /REPORT_TTL: must be a duration/],
    ['cli', ['start', 'notifier'], { REDIS_URL: 'http://nope' }, /REDIS_URL: must be a redis: or rediss: URL/],
    ['cli', ['start', 'api'], { CDR_RETENTION: 'forever', LOG_LEVEL: 'loud' }, /CDR_RETENTION: .*\n.*LOG_LEVEL: /],
    ['cli', ['report', 'list'], { DATABASE_URL: 'mysql://nope' }, /DATABASE_URL: /],
    ['api', [], { PORT: 'eighty' }, /PORT: must be a port number/],
    ['worker', [], { REPORT_TTL: 'three days' }, /REPORT_TTL: must be a duration/],
    ['notifier', [], { REDIS_URL: 'http://nope' }, /REDIS_URL: must be a redis: or rediss: URL/],
  ] as const)('dist/%s.js %j with %j', async (entry, args, env, message) => {
    const result = await run([builtEntry(entry), ...args], env);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/Invalid configuration/);
    expect(result.stderr).toMatch(message);
  });
});
