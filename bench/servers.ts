// Starts server processes pinned to one core, waits for the URL they print, and stops them
// (each pid of the tree by id, TERM then KILL).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './cpu.ts';

const URL_PATTERN = /http:\/\/127\.0\.0\.1:\d+/;

export interface ServerProcess {
  name: string;
  pid: number;
  /** The first `http://127.0.0.1:PORT` the process printed. */
  url: string;
  logPath: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** Arguments after the node binary. */
  args: string[];
  /** Core list for `taskset -c`; undefined runs the process unpinned. */
  cpus: string | undefined;
  cwd: string;
  logDir: string;
  readyTimeoutMs: number;
}

export type StartResult = { ok: true; server: ServerProcess } | { ok: false; reason: string; log: string };

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals each process of the tree by its pid, children first. */
function signalTree(pids: number[], signal: NodeJS.Signals) {
  for (const pid of [...pids].reverse()) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function stopTree(pid: number): Promise<void> {
  const pids = processTree(pid);
  signalTree(pids, 'SIGTERM');
  for (let i = 0; i < 60 && pids.some(alive); i++) await sleep(50);
  signalTree(pids.filter(alive), 'SIGKILL');
  for (let i = 0; i < 40 && pids.some(alive); i++) await sleep(50);
}

/**
 * Output goes to a log file, not a pipe: a server that logs every request must never block on
 * a full pipe, and the bench's load generator must not spend its core reading logs.
 */
export async function startServer(opts: StartOptions): Promise<StartResult> {
  const logPath = join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(logPath, 'w');
  const [command, args] = opts.cpus
    ? ['taskset', ['-c', opts.cpus, process.execPath, ...opts.args]]
    : [process.execPath, opts.args];
  const child = spawn(command, args as string[], { cwd: opts.cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: string | undefined;
  let spawnError: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.on('error', (err) => {
    spawnError = err.message;
  });
  const pid = child.pid;
  const deadline = Date.now() + opts.readyTimeoutMs;
  while (Date.now() < deadline && !exited && !spawnError && pid !== undefined) {
    const match = URL_PATTERN.exec(readFileSync(logPath, 'utf8'));
    if (match) {
      const server: ServerProcess = {
        name: opts.name,
        pid,
        url: match[0],
        logPath,
        stop: () => (exited ? Promise.resolve() : stopTree(pid)),
      };
      return { ok: true, server };
    }
    await sleep(50);
  }
  const reason = spawnError ?? exited ?? `printed no http://127.0.0.1:PORT within ${opts.readyTimeoutMs} ms`;
  if (pid !== undefined && !exited) await stopTree(pid);
  return { ok: false, reason, log: tail(logPath) };
}
