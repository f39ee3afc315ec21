/** What the benchmarks measure around the apps: a process group's peak memory and CPU time, PostgreSQL's CPU time, a shell pipeline's wall time. */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * The highest peak RSS (VmHWM, in bytes) among the live processes of a process group: AppProcess starts an app as
 * one node process in a group of its own (a group, should it ever start more).
 */
export function peakRssOfGroup(pgid: number): number {
  let peak = 0;
  for (const pid of groupPids(pgid)) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
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

/** Clock ticks per second of /proc's CPU times (CLK_TCK: 100 on every Linux this runs on; asked once). */
let clockTicks: number | undefined;
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** The fields of /proc/PID/stat after the command (which may hold spaces), from the state on; undefined once the process is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user and system) used so far by the processes of process group `pgid` that are still running. */
export function cpuSecondsOfGroup(pgid: number): number {
  return groupPids(pgid).reduce((total, pid) => total + cpuSecondsOf(pid), 0);
}

/** The live processes of process group `pgid`. */
function groupPids(pgid: number): number[] {
  // state ppid pgrp ...: the group is the third field.
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(statFields(entry)?.[2]) === pgid)
    .map(Number);
}

/** CPU seconds (user and system) of one process so far, or 0 once it has ended. */
export function cpuSecondsOf(pid: number): number {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / ticksPerSecond() : 0;
}

/**
 * CPU seconds used so far by the local PostgreSQL server: every running `postgres` process (the postmaster, its
 * background processes and the backends), plus what the postmaster has collected of the backends that have ended
 * (cutime and cstime: a pipeline's backend ends with its psql). The difference of two readings is what the
 * server spent in between (a backend that started before and ended within counts its earlier time again: the
 * runs here open their own connections). NaN when /proc does not show the server's processes (another user's,
 * without the right to read them).
 */
export function postgresCpuSeconds(): number {
  let ticks = 0;
  let found = false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (command !== 'postgres') continue;
    const fields = statFields(entry);
    if (!fields) continue;
    found = true;
    ticks += Number(fields[11]) + Number(fields[12]);
    let parent = '';
    try {
      parent = readFileSync(`/proc/${fields[1]}/comm`, 'utf8').trim();
    } catch {
      // its parent has ended: not a backend's postmaster
    }
    // The postmaster (its parent is not a postgres process) also holds what its ended children used.
    if (parent !== 'postgres') ticks += Number(fields[13]) + Number(fields[14]);
  }
  return found ? ticks / ticksPerSecond() : Number.NaN;
}
