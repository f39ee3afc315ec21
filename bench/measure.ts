/** What the benchmarks measure around the apps: a process group's peak memory, a shell pipeline's wall time. */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * The highest peak RSS (VmHWM, in bytes) among the live processes of a process group: an app started by
 * AppProcess is a tsx launcher and the node process that runs the app, in one group.
 */
export function peakRssOfGroup(pgid: number): number {
  let peak = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start at the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (match) peak = Math.max(peak, Number(match[1]) * 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}

/** Runs a shell command line; resolves with its wall time and what it printed, rejects on a non-zero exit. */
export function timeShell(command: string, env: Record<string, string> = {}, cwd?: string): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve({ ms: performance.now() - started, stdout }) : reject(new Error(`${command.slice(0, 200)} exited with ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

/** The machine's CPU time so far, busy and in all, in clock ticks (/proc/stat): for how many cores a stretch kept busy. */
export function machineCpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: idle and iowait are the idle ones.
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return { busy: total - fields[3]! - fields[4]!, total };
}

/** Cores kept busy on average between two readings of machineCpuTicks. */
export function coresBusy(before: { busy: number; total: number }, after: { busy: number; total: number }, cores: number): number {
  return ((after.busy - before.busy) / (after.total - before.total)) * cores;
}
