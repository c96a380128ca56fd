// Reads CPU time and memory of server processes from procfs (Linux). The servers are black
// boxes to the bench, so their own counters are not available; /proc is.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for the utime/stime fields of /proc/<pid>/stat (100 on Linux). */
export const CLK_TCK = readClockTicks();

function readClockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // the process is gone
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime field 14, stime field 15.
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** The pid and all its live descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const stat = readStat(child);
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(child);
    children.set(stat.ppid, list);
  }
  const tree: number[] = [];
  const queue = [pid];
  // A process tree cannot be deeper than the number of processes: bound the walk by it.
  for (let i = 0; i < queue.length && i < 100_000; i++) {
    const p = queue[i]!;
    tree.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

/** CPU time (user + system) of the pid's process tree, in microseconds. */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += readStat(p)?.ticks ?? 0;
  return (ticks * 1e6) / CLK_TCK;
}

function statusField(pid: number, field: string): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Resident set size of the tree, in bytes. */
export function treeRssBytes(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) sum += statusField(p, 'VmRSS');
  return sum;
}

/** Peak resident set size of the process itself (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Busy and total ticks of one core from /proc/stat, to see what else ran on it. */
export function coreTicks(core: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) return { busy: 0, total: 0 };
  // user nice system idle iowait irq softirq steal; guest time is already counted in user.
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  // idle (4th) and iowait (5th) are the not-busy fields.
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
}
