// `gatehouse start` as an operator runs it: a real child process, a config file on disk,
// reloads by file change and SIGHUP, and a clean stop on SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { servers } from '../helpers/gateway.ts';
import { openSession, toolNames } from '../helpers/mcp-http.ts';
import { alive, childrenOf, waitFor } from '../helpers/processes.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MEMORY_SCRIPT = 'server-memory/dist/index.js';

const configText = (upstreamName: string, separator = '__') => `listen:
  port: 0
auth:
  anonymous: true
naming:
  separator: "${separator}"
upstreams:
  ${upstreamName}:
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(servers.memory)}]
    env:
      MEMORY_FILE_PATH: ${JSON.stringify(join(tmpdir(), `gatehouse-reload-${process.pid}.jsonl`))}
audit:
  store: { type: sqlite, file: ${JSON.stringify(join(tmpdir(), `gatehouse-reload-${process.pid}-audit.db`))} }
  spoolFile: ${JSON.stringify(join(tmpdir(), `gatehouse-reload-${process.pid}-audit.spool`))}
`;

describe('gatehouse start: reload and stop', () => {
  let dir: string;
  let file: string;
  let child: ChildProcess;
  let url: string;
  let stderr = '';

  /** Resolves when stderr has grown to contain `text` after `from`, or fails after `ms`. */
  const stderrShows = async (text: string, from: number, ms = 8000) => {
    const seen = await waitFor(() => stderr.indexOf(text, from) >= 0, ms);
    assert.ok(seen, `expected stderr to say ${JSON.stringify(text)}; it said:\n${stderr.slice(from)}`);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-reload-'));
    file = join(dir, 'gatehouse.yaml');
    await writeFile(file, configText('memory'));
    child = spawn(process.execPath, ['src/cli/main.ts', 'start', '--config', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    url = await new Promise<string>((resolve, reject) => {
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
      child.once('exit', (code) => reject(new Error(`exited early (${code}); stderr:\n${stderr}`)));
    });
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('serves the tools of the configured upstream', async () => {
    const names = await toolNames(url);
    assert.ok(names.includes('memory__read_graph'), names.join(', '));
  });

  test('keeps serving the running config when the file becomes invalid, and says why on stderr', async () => {
    const from = stderr.length;
    await writeFile(file, `${configText('memory')}  - not: [valid\n`);
    await stderrShows('config NOT reloaded (file changed); keeping the running config', from);
    await stderrShows(`${file}: not valid YAML`, from);
    const names = await toolNames(url);
    assert.ok(names.includes('memory__read_graph'), names.join(', '));
  });

  test('keeps serving when SIGHUP finds a file with an unknown key, naming its path', async () => {
    const from = stderr.length;
    await writeFile(file, configText('memory').replace('listen:\n', 'listen:\n  hots: x\n'));
    child.kill('SIGHUP');
    await stderrShows('config NOT reloaded (SIGHUP)', from);
    await stderrShows('listen: unknown key(s) hots', from);
    assert.ok((await toolNames(url)).includes('memory__read_graph'));
  });

  test('applies a good changed file on SIGHUP to new sessions', async () => {
    const from = stderr.length;
    await writeFile(file, configText('mem', '.'));
    child.kill('SIGHUP');
    await stderrShows('config reloaded (SIGHUP)', from);
    const names = await toolNames(url);
    assert.ok(names.includes('mem.read_graph'), names.join(', '));
    assert.ok(!names.includes('memory__read_graph'));
  });

  test('notices a file replaced by rename, as editors and config maps do, more than once', async () => {
    for (const [upstream, expected] of [
      ['renamed1', 'renamed1.read_graph'],
      ['renamed2', 'renamed2.read_graph'],
    ] as const) {
      const from = stderr.length;
      const temp = join(dir, `.gatehouse.yaml.${upstream}`);
      await writeFile(temp, configText(upstream, '.'));
      await rename(temp, file);
      await stderrShows('config reloaded (file changed)', from);
      const names = await toolNames(url);
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
  });

  test('exits 0 on SIGTERM and leaves no child process behind', async () => {
    // Sessions (never ended by the client) whose upstream processes run when the signal arrives.
    await Promise.all([openSession(url), openSession(url)]);
    const pid = child.pid!;
    const upstreams = childrenOf(pid, MEMORY_SCRIPT);
    assert.equal(upstreams.length, 2, 'one upstream process per session');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(r, 15_000, 'timeout').unref()),
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGTERM: draining calls in flight, then stopping/);
    // The gateway waits for its children before exiting, so they are gone already.
    for (const p of upstreams) assert.ok(!alive(p.pid), `upstream pid ${p.pid} outlived the gateway`);
    assert.deepEqual(childrenOf(pid, ''), []);
  });
});
