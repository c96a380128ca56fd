// Instructions per tools/call, counted by callgrind: the CPU-time bench's ratios swing with the
// machine (on shared VMs a core's speed drifts by 2× over minutes), while instruction counts
// do not. Each variant's gateway runs under `valgrind --tool=callgrind` with instrumentation
// off; after a warm-up (so V8 has optimized the hot path), counting is switched on for a fixed
// number of calls, then off, and the total (all threads: the audit worker too) ÷ calls is the
// figure. Counts still vary by about ±10% from run to run (JIT and GC timing change under
// valgrind), so small differences are not resolved. A script, not part of `npm run bench`:
//
//   node bench/instructions.ts [--variants plain,governed,observed,audit,tracing,metrics]
//                              [--warmup 5000] [--calls 3000]
//
// Needs valgrind (callgrind_control). Upstream and load run as in bench/run.ts (loopback).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { callBody, findEchoTool, mcpHeaders, openSession } from './mcp-client.ts';
import { type ServerProcess, startServer } from './servers.ts';
import { REPO } from './settings.ts';
import { governance, OBSERVERS_OFF, observability, PLAIN, startCollector } from './variants.ts';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'plain,governed,observed' },
    warmup: { type: 'string', default: '5000' },
    calls: { type: 'string', default: '3000' },
  },
});
const WARMUP = Number(values.warmup);
const CALLS = Number(values.calls);
const CONNECTIONS = 4;
const dir = mkdtempSync(join(os.tmpdir(), 'gatehouse-instructions-'));
const collector = await startCollector();
const observed = observability(dir, collector.url);

function variant(name: string): { lines: string[]; authorization?: string } {
  const [auth, audit, metrics, tracing] = observed as [string, string, string, string];
  switch (name) {
    case 'plain':
      return { lines: PLAIN };
    case 'governed': {
      const { lines, authorization } = governance(dir);
      return { lines, authorization };
    }
    case 'observed':
      return { lines: observed };
    case 'audit':
      return { lines: [auth, audit, 'metrics: { enabled: false }'] };
    case 'metrics':
      return { lines: [auth, 'audit: { enabled: false }', metrics] };
    case 'tracing':
      return { lines: [auth, ...OBSERVERS_OFF, tracing] };
    default:
      throw new Error(`unknown variant ${name}`);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function call(url: URL, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        text.includes('"hello"') && !text.includes('"error"') ? resolve() : reject(new Error(text)),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function drive(url: URL, headers: Record<string, string>, tool: string, count: number, from: number) {
  let sent = 0;
  const loop = async () => {
    while (sent < count) await call(url, headers, callBody(from + sent++, tool));
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
}

/** Starts the gateway under callgrind (instrumentation off) and waits for its URL. */
async function startCounted(name: string, config: string) {
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${join(dir, `cg-${name}`)}.%p`,
      process.execPath,
      join(REPO, 'src/cli/main.ts'),
      'start',
      '--config',
      config,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  for (let i = 0; i < 1200; i++) {
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(output)?.[0];
    if (url) return { child, url };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${name}: the gateway did not start under valgrind:\n${output.slice(-2000)}`);
}

async function count(name: string, run: number, upstream: ServerProcess): Promise<number> {
  const { lines, authorization } = variant(name);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      ...lines,
      'upstreams:',
      `  bench: { transport: http, url: "${upstream.url}/mcp" }`,
      '',
    ].join('\n'),
  );
  const { child, url } = await startCounted(`${run}-${name}`, config);
  try {
    const session = await openSession(`${url}/mcp`, 1, authorization);
    const tool = await findEchoTool(session);
    const headers = mcpHeaders(session.sessionId, authorization);
    const endpoint = new URL(session.endpoint);
    await drive(endpoint, headers, tool, WARMUP, 10);
    const pid = String(child.pid);
    execFileSync('callgrind_control', ['-i', 'on', pid], { stdio: 'ignore' });
    await drive(endpoint, headers, tool, CALLS, 10 + WARMUP);
    execFileSync('callgrind_control', ['-i', 'off', pid], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' });
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  // The dump holds the counted part ("totals"); the file written at exit holds nothing counted.
  const totals = readdirSync(dir)
    .filter((f) => f.startsWith(`cg-${run}-${name}.`))
    .map((f) => Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? 0));
  return Math.max(...totals) / CALLS;
}

const upstream = await startServer({
  name: 'upstream',
  args: ['bench/upstream.ts'],
  cpus: undefined,
  cwd: REPO,
  logDir: dir,
  readyTimeoutMs: 20_000,
});
if (!upstream.ok) throw new Error(`upstream: ${upstream.reason}`);
try {
  // A variant may be named twice (`plain,governed,plain,governed`) to see the spread.
  const results: [string, number][] = [];
  for (const [run, name] of values.variants.split(',').entries()) {
    const perCall = await count(name, run, upstream.server);
    results.push([name, perCall]);
    console.log(`${name.padEnd(9)} ${(perCall / 1000).toFixed(1).padStart(8)} k instructions per call`);
  }
  const base = results[0]![1];
  for (const [name, perCall] of results)
    console.log(`${name.padEnd(9)} ${(perCall / base).toFixed(3)}× the first`);
} finally {
  await upstream.server.stop();
  collector.close();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
