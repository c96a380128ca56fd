// Reading the process table from /proc, to prove the gateway leaves no child process behind.
import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  args: string;
}

/** Every process visible in /proc (those that vanish while being read are skipped). */
export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) may contain spaces and parentheses: split after the last ")".
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(entry), ppid: Number(fields[1]), state: fields[0] ?? '?', args });
    } catch {}
  }
  return out;
}

/** Live (not zombie) children of `ppid` whose command line contains `match`. */
export function childrenOf(ppid: number, match: string): Proc[] {
  return processes().filter((p) => p.ppid === ppid && p.state !== 'Z' && p.args.includes(match));
}

/** Whether `pid` is still a live (not zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` every 50 ms until it is true or `ms` pass; returns its last value. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
