// Running the real `gatehouse` command in child processes, as an operator does.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = `${root}src/cli/main.ts`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `gatehouse ...args` with `input` on stdin (closed after it); resolves when it exits. */
export function gatehouse(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? root,
    env: options.env ?? { PATH: process.env['PATH'] },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.join(' ')} did not exit; stderr:\n${stderr}`));
    }, 15_000);
    // 'close', not 'exit': it comes once the process has exited and its output is all read.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningGateway {
  child: ChildProcess;
  /** The root MCP endpoint, e.g. http://127.0.0.1:41234/mcp */
  url: string;
  /** Everything the gateway has written to stderr so far. */
  stderr(): string;
}

/** `gatehouse start --config file` as a child process; resolves once it prints its URL. */
export async function startGatehouse(file: string, env: NodeJS.ProcessEnv): Promise<RunningGateway> {
  const child = spawn(process.execPath, [MAIN, 'start', '--config', file], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr:\n${stderr}`)), 15_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Gatehouse is listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)\n/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited early (${code}); stderr:\n${stderr}`));
    });
  });
  return { child, url, stderr: () => stderr };
}
