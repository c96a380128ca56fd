// `node bench/tracing.ts [--baseline <checkout>] [--rounds 5] [--duration 5] [--rate N]`: what tracing
// costs per forwarded `tools/call`, as the gateway's CPU time per call, with everything else
// switched off (no audit, no metrics, anonymous, no policy). Targets, each a gateway process with
// its own upstream, pinned to core 0 while this runner (and its load) runs on core 1:
//
//   baseline      a gateway from another checkout (`--baseline`, e.g. the commit before tracing)
//   base+trace    the same, every call carrying a client traceparent
//   off           tracing off (the default), the client sends no trace
//   off+trace     tracing off, every call carries a client traceparent (propagated upstream)
//   on            tracing on, every call a new sampled trace, exported to a discarding collector
//   on+trace      tracing on, every call inside the client's sampled trace
//   on, ratio 0   tracing on with sampleRatio 0: spans made but not recorded or exported
//
// Rounds are interleaved and the target order rotates, so drift on the machine spreads over all
// targets; the figure reported is the median over rounds. As fast as answers come (the main
// bench's way), added work lowers throughput and so also the batching of socket writes, which
// raises CPU per call beyond the work itself; `--rate` runs every target at the same rate,
// which shows the work alone. The bench informs; it never fails.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { coreTicks, treeCpuMicros } from './cpu.ts';
import { runLoad } from './load.ts';
import { checkCall, findEchoTool, openSession, type Session } from './mcp-client.ts';
import { median } from './report.ts';
import { type ServerProcess, startServer } from './servers.ts';
import { ensurePinned, REPO, SERVER_CORE } from './settings.ts';

ensurePinned();
const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    /** Calls/s for every target (fixed rate), instead of as fast as each answers. */
    rate: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const durationS = Number(args.duration);
const connections = Number(args.connections);
const rate = args.rate ? Number(args.rate) : undefined;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const logDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-tracing-'));
const running: ServerProcess[] = [];

/** An OTLP receiver that accepts and discards, in this process (on the load core). */
const collector = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
const collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}/v1/traces`;

interface Target {
  label: string;
  /** Where the gateway's code comes from. */
  repo: string;
  tracing?: string;
  headers?: Record<string, string>;
  server?: ServerProcess;
  session?: Session;
  tool?: string;
  cpuUsPerCall: number[];
  callsPerSec: number[];
}

const on = `{ enabled: true, otlp: { url: "${collectorUrl}" } }`;
const targets: Target[] = [
  ...(args.baseline
    ? [
        { label: 'baseline', repo: resolve(args.baseline) },
        { label: 'base+trace', repo: resolve(args.baseline), headers: { traceparent: TRACEPARENT } },
      ]
    : []),
  { label: 'off', repo: REPO },
  { label: 'off+trace', repo: REPO, headers: { traceparent: TRACEPARENT } },
  { label: 'on', repo: REPO, tracing: on },
  { label: 'on+trace', repo: REPO, tracing: on, headers: { traceparent: TRACEPARENT } },
  {
    label: 'on, ratio 0',
    repo: REPO,
    tracing: `{ enabled: true, sampleRatio: 0, otlp: { url: "${collectorUrl}" } }`,
  },
].map((t) => ({ ...t, cpuUsPerCall: [], callsPerSec: [] }));

async function start(name: string, cwd: string, scriptArgs: string[]): Promise<ServerProcess> {
  const result = await startServer({
    name,
    args: scriptArgs,
    cpus: String(SERVER_CORE),
    cwd,
    logDir,
    readyTimeoutMs: 20_000,
  });
  if (!result.ok) throw new Error(`${name} did not start: ${result.reason}\n${result.log}`);
  running.push(result.server);
  return result.server;
}

let nextId = 1_000;
try {
  for (const [i, t] of targets.entries()) {
    const upstream = await start(`upstream-${i}`, REPO, [join(REPO, 'bench', 'upstream.ts')]);
    const config = join(logDir, `gateway-${i}.yaml`);
    writeFileSync(
      config,
      [
        'listen: { host: 127.0.0.1, port: 0 }',
        'auth: { anonymous: true }',
        'audit: { enabled: false }',
        'metrics: { enabled: false }',
        ...(t.tracing ? [`tracing: ${t.tracing}`] : []),
        'upstreams:',
        `  bench: { transport: http, url: "${upstream.url}/mcp" }`,
        '',
      ].join('\n'),
    );
    t.server = await start(`gateway-${i}`, t.repo, [
      join(t.repo, 'src', 'cli', 'main.ts'),
      'start',
      '--config',
      config,
    ]);
    t.session = await openSession(`${t.server.url}/mcp`);
    t.tool = await findEchoTool(t.session);
    await checkCall(t.session, t.tool, nextId++);
  }
  console.log(
    `bench: tracing cost, ${rounds} round(s) × ${durationS} s at c=${connections}` +
      `${rate ? `, ${rate} calls/s` : ', as fast as answers come'} per target; node ${process.version}`,
  );
  for (let round = 1; round <= rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
    for (const t of order) {
      const spec = {
        endpoint: t.session!.endpoint,
        sessionId: t.session!.sessionId,
        tool: t.tool!,
        headers: t.headers,
        connections,
        rate,
        firstId: nextId,
      };
      const warm = await runLoad({ ...spec, durationS: 1 });
      nextId = warm.lastId + 1;
      const core0 = coreTicks(SERVER_CORE);
      const before = treeCpuMicros(t.server!.pid);
      const load = await runLoad({ ...spec, durationS, firstId: nextId });
      nextId = load.lastId + 1;
      const us = (treeCpuMicros(t.server!.pid) - before) / Math.max(load.calls, 1);
      const after = coreTicks(SERVER_CORE);
      const bad = load.non2xx + load.errors + load.timeouts + load.wrongBodies;
      t.cpuUsPerCall.push(us);
      t.callsPerSec.push(load.callsPerSec);
      console.log(
        `  round ${round} ${t.label.padEnd(12)} ${load.callsPerSec.toFixed(0).padStart(6)} calls/s  ` +
          `CPU ${us.toFixed(1)} µs/call  core0 busy ${((100 * (after.busy - core0.busy)) / Math.max(after.total - core0.total, 1)).toFixed(0)}%  bad ${bad}`,
      );
    }
  }
  const reference = targets.find((t) => t.label === 'off')!;
  const ref = median(reference.cpuUsPerCall);
  console.log('\ntarget        CPU µs/call (median)  × off   calls/s (median)');
  for (const t of targets) {
    const us = median(t.cpuUsPerCall);
    console.log(
      `${t.label.padEnd(13)} ${us.toFixed(1).padStart(10)}           ${(us / ref).toFixed(3)}  ${median(t.callsPerSec).toFixed(0).padStart(8)}`,
    );
  }
} finally {
  await Promise.all(running.map((s) => s.stop()));
  collector.close();
  rmSync(logDir, { recursive: true, force: true });
}
process.exit();
