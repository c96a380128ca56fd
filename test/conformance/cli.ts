// Runs the official conformance CLI as a child process and captures what it says.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

/** Kill the CLI if a run wedges; a full `--suite all` run takes ~2 s on loopback. */
const CLI_TIMEOUT_MS = 5 * 60_000;

/** Path of the CLI script of an installed conformance package (stable or an npm alias). */
export function cliPath(packageName: string): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve(`${packageName}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: Record<string, string> };
  const bin = manifest.bin?.['conformance'];
  if (!bin) throw new Error(`${packageName} has no "conformance" bin`);
  return join(dirname(manifestPath), bin);
}

export interface CliRun {
  exitCode: number;
  /** stdout + stderr, ANSI colours stripped. */
  output: string;
}

export async function runCli(
  cli: string,
  args: string[],
  options: { logFile: string; echo: boolean },
): Promise<CliRun> {
  // process.execPath, not the `#!/usr/bin/env node` shebang: the CLI needs Node >= 22 and the
  // system node may be older.
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(options.logFile);
  const chunks: Buffer[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      log.write(chunk);
      if (options.echo) process.stdout.write(chunk);
    });
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  log.end();
  const output = stripVTControlCharacters(Buffer.concat(chunks).toString('utf8'));
  if (signal) return { exitCode: 1, output: `${output}\n[conformance CLI killed by ${signal}]` };
  return { exitCode: code ?? 1, output };
}
