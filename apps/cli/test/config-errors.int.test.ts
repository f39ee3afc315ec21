import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { builtEntry, PROJECT_ROOT } from '@cdr-reports/config';

/** Runs the built CLI (as deployments do) with `env` added to a clean environment; resolves with its exit code and output. */
async function run(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [builtEntry('cli'), ...args], {
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
    [['start', 'api'], { PORT: 'eighty' }, /PORT: must be a port number/],
    [['start', 'worker'], { REPORT_TTL: 'three days' }, /REPORT_TTL: must be a duration/],
    [['start', 'notifier'], { REDIS_URL: 'http://nope' }, /REDIS_URL: must be a redis: or rediss: URL/],
    [['start', 'api'], { CDR_RETENTION: 'forever', LOG_LEVEL: 'loud' }, /CDR_RETENTION: .*\n.*LOG_LEVEL: /],
    [['report', 'list'], { DATABASE_URL: 'mysql://nope' }, /DATABASE_URL: /],
  ])('cli %j with %j', async (args, env, message) => {
    const result = await run(args, env);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/Invalid configuration/);
    expect(result.stderr).toMatch(message);
  });
});
