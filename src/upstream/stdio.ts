// stdio upstream: a child process speaking newline-delimited JSON-RPC on stdin/stdout.
// Shutdown follows the spec: close stdin, wait, SIGTERM, wait, SIGKILL. Every child is also
// tracked in `liveChildren` so an exiting gateway never leaves one behind.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Message } from '../jsonrpc.ts';
import { toMessage } from '../jsonrpc.ts';
import type { UpstreamTransport } from './transport.ts';

/** What a child inherits from the gateway's environment; everything else must be configured. */
const INHERITED_ENV = ['PATH', 'HOME', 'LOGNAME', 'SHELL', 'TERM', 'USER', 'LANG', 'TMPDIR', 'NODE_OPTIONS'];
const GRACE_MS = 2000;
const MAX_LINE = 64 * 1024 * 1024;

export const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export interface StdioOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Receives the child's stderr, line by line (servers log there). */
  onStderr?: (line: string) => void;
}

export function createStdioTransport(options: StdioOptions): UpstreamTransport & { readonly pid?: number } {
  let child: ChildProcess | undefined;
  let closed = false;
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, options.env);

  const transport: UpstreamTransport & { pid?: number } = {
    start() {
      return new Promise((resolve, reject) => {
        const proc = spawn(options.command, options.args, {
          cwd: options.cwd,
          env,
          stdio: ['pipe', 'pipe', 'pipe'],
          windowsHide: true,
        });
        child = proc;
        liveChildren.add(proc);
        proc.once('spawn', () => {
          transport.pid = proc.pid;
          resolve();
        });
        proc.once('error', (err) => {
          liveChildren.delete(proc);
          if (transport.pid === undefined) reject(err);
          else finish(`process error: ${err.message}`);
        });
        proc.once('exit', (code, signal) => {
          liveChildren.delete(proc);
          finish(`process exited (${signal ?? `code ${code}`})`);
        });
        proc.stdin?.on('error', () => {}); // EPIPE after exit is reported by 'exit'.
        readLines(proc.stdout!, (line) => {
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            options.onStderr?.(`[stdout, not JSON-RPC] ${line.slice(0, 200)}`);
            return;
          }
          const message = toMessage(value);
          if (typeof message === 'string') options.onStderr?.(`[stdout, invalid message] ${message}`);
          else transport.onmessage?.(message);
        });
        readLines(proc.stderr!, (line) => options.onStderr?.(line));
      });
    },
    send(message: Message) {
      const stdin = child?.stdin;
      if (!stdin || stdin.destroyed || closed)
        return Promise.reject(new Error('upstream process is not running'));
      stdin.write(`${JSON.stringify(message)}\n`);
      return Promise.resolve();
    },
    async close() {
      if (!child || closed) return;
      closed = true;
      await stopChild(child);
    },
  };

  let finished = false;
  function finish(reason: string) {
    if (finished) return;
    finished = true;
    closed = true;
    transport.onclose?.(reason);
  }
  return transport;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const within = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(r, ms, false).unref())]);
  child.stdin?.end();
  if (await within(GRACE_MS)) return;
  child.kill('SIGTERM');
  if (await within(GRACE_MS)) return;
  child.kill('SIGKILL');
  await exited;
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line.trim() !== '') onLine(line);
      nl = buffer.indexOf('\n');
    }
    // A peer that never sends a newline must not grow our memory without bound.
    if (buffer.length > MAX_LINE) buffer = '';
  });
}
