import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, tryConnect } from './free-port';
import { waitFor } from './wait';

const run = promisify(execFile);

/** An OpenSSH server with SFTP on a loopback port that belongs to one test suite. */
export interface TestSftpServer {
  host: '127.0.0.1';
  port: number;
  /** The current user, who logs in with `privateKey`. */
  username: string;
  /** An OpenSSH private key (unencrypted) that the server accepts for `username`. */
  privateKey: string;
  /** The server's host key fingerprint as `ssh-keygen -lf` prints it: `SHA256:<base64>`. */
  hostKeySha256: string;
  /** An empty folder (absolute path) for the suite's files. */
  directory: string;
  /** The end of what sshd printed, for failure messages. */
  readonly log: string;
  /** Stops sshd and deletes its keys, configuration and files. Safe to call twice. */
  stop(): Promise<void>;
}

const STARTUP_ATTEMPTS = 3;

/**
 * Starts `sshd -D -e` (OpenSSH, the server customers run most) on a free loopback port with a fresh ed25519 host
 * key and a fresh client key pair, `internal-sftp`, and public-key login for the current user (password login is
 * enabled too, so a wrong password is refused the way it would be in production). Everything lives in a temporary
 * folder. Needs `sshd` and `ssh-keygen` (scripts/ensure-environment.sh installs them as root); as root it creates
 * sshd's privilege separation directory (/run/sshd) when missing.
 */
export async function startSftpServer(): Promise<TestSftpServer> {
  const sshd = await findSshd();
  const root = await mkdtemp(join(tmpdir(), 'cdr-test-sftp-'));
  try {
    await ensurePrivilegeSeparationDirectory();
    const hostKey = join(root, 'host_ed25519');
    const clientKey = join(root, 'client_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cdr-test-sftp-host', '-f', hostKey]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cdr-test-sftp-client', '-f', clientKey]);
    await writeFile(join(root, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
    const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]);
    const hostKeySha256 = /SHA256:[A-Za-z0-9+/]+/.exec(stdout)?.[0];
    if (!hostKeySha256) throw new Error(`ssh-keygen printed no SHA256 fingerprint: ${stdout}`);
    const directory = join(root, 'files');
    await mkdir(directory);
    // sshd reads its own key only when it is private to its owner.
    await chmod(hostKey, 0o600);

    const { child, port, output } = await startOnFreePort(sshd, root, hostKey, await sshdVersion(sshd));
    let stopping: Promise<void> | undefined;
    return {
      host: '127.0.0.1',
      port,
      username: userInfo().username,
      privateKey: await readFile(clientKey, 'utf8'),
      hostKeySha256,
      directory,
      get log() {
        return output().slice(-4000);
      },
      stop() {
        stopping ??= stopProcess(child).then(() => rm(root, { recursive: true, force: true }));
        return stopping;
      },
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

async function findSshd(): Promise<string> {
  for (const candidate of ['/usr/sbin/sshd', '/usr/local/sbin/sshd']) if (existsSync(candidate)) return candidate;
  const found = await run('sh', ['-c', 'command -v sshd']).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  );
  if (found === '') throw new Error('sshd not found: install OpenSSH (apt-get install openssh-server openssh-client, or run scripts/ensure-environment.sh as root)');
  return found;
}

/** sshd refuses to start without it; a package install normally leaves it to systemd, which these machines do not run. */
async function ensurePrivilegeSeparationDirectory(): Promise<void> {
  if (existsSync('/run/sshd') || process.getuid?.() !== 0) return;
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await chmod('/run/sshd', 0o755);
}

async function sshdVersion(sshd: string): Promise<[number, number]> {
  // `sshd -V` prints the version and exits non-zero on older releases (an unknown option); its stderr says it either way.
  const text = await run(sshd, ['-V']).then(
    ({ stdout, stderr }) => stdout + stderr,
    (error: { stderr?: string }) => error.stderr ?? '',
  );
  const match = /OpenSSH_(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

function sshdConfig(root: string, hostKey: string, port: number, [major, minor]: [number, number]): string {
  const lines = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(root, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(root, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    // The temporary folder's owner and modes are not what sshd insists on for a home directory.
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    'LogLevel INFO',
  ];
  if (process.getuid?.() === 0) lines.push('PermitRootLogin yes');
  // OpenSSH 9.8 and later penalise addresses that fail logins; the suites fail logins on purpose, all from 127.0.0.1.
  if (major > 9 || (major === 9 && minor >= 8)) lines.push('PerSourcePenalties no');
  return `${lines.join('\n')}\n`;
}

async function startOnFreePort(
  sshd: string,
  root: string,
  hostKey: string,
  version: [number, number],
): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  let lastError: unknown;
  // freePort's port may be taken by someone else before sshd binds it: then sshd exits and another port is tried.
  for (let attempt = 1; attempt <= STARTUP_ATTEMPTS; attempt += 1) {
    const port = await freePort();
    const config = join(root, 'sshd_config');
    await writeFile(config, sshdConfig(root, hostKey, port, version));
    const child = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-16_000));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('error', (error) => collect(Buffer.from(`\nspawn failed: ${error.message}`)));
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}): ${output}`);
          return (await tryConnect(`tcp://127.0.0.1:${port}`)) === 'connected';
        },
        { timeoutMs: 15_000, intervalMs: 50, what: `sshd on 127.0.0.1:${port} to accept connections` },
      );
      return { child, port, output: () => output };
    } catch (error) {
      lastError = error;
      await stopProcess(child);
    }
  }
  throw lastError;
}

/** SIGTERM, SIGKILL after 5 s; resolves once the process has exited and its output pipes are closed. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(kill);
  }
  // A per-connection sshd child of a session the suite left open would hold the pipes: they are not waited for.
  child.stdout?.destroy();
  child.stderr?.destroy();
}
