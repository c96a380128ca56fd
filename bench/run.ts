// `npm run bench`: tools/call load against the upstream directly, through a byte pipe (the
// floor) and through Gatehouse, side by side on this machine; then 1,000 idle sessions against
// a fresh gateway. Servers run pinned to core 0, this runner (and the load it generates) on
// core 1. The bench informs; it never fails the build. Method: docs/performance.md.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLK_TCK, coreTicks, peakRssBytes, treeCpuMicros, treeRssBytes } from './cpu.ts';
import { type LoadResult, runLoad } from './load.ts';
import { checkCall, findEchoTool, openSession, type Session } from './mcp-client.ts';
import {
  median,
  type RunSample,
  renderText,
  type SessionsSummary,
  summarize,
  TARGET_LABELS,
  type TargetKey,
  type TargetSummary,
  verdicts,
  writeResults,
} from './report.ts';
import { type ServerProcess, type StartResult, startServer } from './servers.ts';
import { openIdleSessions } from './sessions.ts';
import { ensurePinned, LOAD_CORE, machine, REPO, readSettings, SERVER_CORE } from './settings.ts';
import { governance, observability, PLAIN, startCollector } from './variants.ts';

ensurePinned();
const { settings, out, skipGateway } = readSettings();
const WATCHDOG_MS = 10 * 60_000;

const logDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-'));
const running = new Set<ServerProcess>();

/** The observed gateway's OTLP peer, when started. */
let collector: { url: string; close(): void } | undefined;

async function cleanup(): Promise<void> {
  collector?.close();
  const servers = [...running];
  running.clear();
  await Promise.all(servers.map((s) => s.stop()));
}

async function abort(why: string): Promise<never> {
  console.error(`bench: ${why}; stopping servers`);
  await cleanup();
  rmSync(logDir, { recursive: true, force: true });
  process.exit(1);
}

process.once('SIGINT', () => void abort('interrupted'));
process.once('SIGTERM', () => void abort('terminated'));
setTimeout(
  () => void abort(`watchdog: still running after ${WATCHDOG_MS / 60_000} min`),
  WATCHDOG_MS,
).unref();

async function start(name: string, scriptArgs: string[]): Promise<StartResult> {
  const result = await startServer({
    name,
    args: scriptArgs,
    cpus: String(SERVER_CORE),
    cwd: REPO,
    logDir,
    readyTimeoutMs: 20_000,
  });
  if (result.ok) running.add(result.server);
  return result;
}

async function mustStart(name: string, scriptArgs: string[]): Promise<ServerProcess> {
  const result = await start(name, scriptArgs);
  if (!result.ok) return abort(`${name} did not start: ${result.reason}\n${result.log}`);
  return result.server;
}

async function stop(server: ServerProcess): Promise<void> {
  running.delete(server);
  await server.stop();
}

/** Starts a gateway in front of `upstream`; undefined (with the reason printed) when it cannot. */
async function startGateway(
  name: string,
  upstream: ServerProcess,
  extra: string[] = PLAIN,
): Promise<ServerProcess | undefined> {
  const cli = join(REPO, 'src', 'cli', 'main.ts');
  const configPath = join(logDir, `${name}.yaml`);
  writeFileSync(
    configPath,
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      ...extra,
      'upstreams:',
      `  bench: { transport: http, url: "${upstream.url}/mcp" }`,
      '',
    ].join('\n'),
  );
  const result = await start(name, [cli, 'start', '--config', configPath]);
  if (result.ok) return result.server;
  console.warn(`bench: SKIP gateway — \`node src/cli/main.ts start --config …\` ${result.reason}`);
  if (result.log) console.warn(result.log.replace(/^/gm, '  | '));
  return undefined;
}

interface Target {
  key: TargetKey;
  /** The process under test: the upstream for `direct`, else the proxy. */
  server: ServerProcess;
  upstream: ServerProcess;
  session: Session;
  tool: string;
  warmups: LoadResult[];
  idleRssBytes: number;
}

let nextId = 1_000;

async function prepare(
  key: TargetKey,
  server: ServerProcess,
  upstream: ServerProcess,
  authorization?: string,
): Promise<Target | string> {
  try {
    const session = await openSession(`${server.url}/mcp`, 1, authorization);
    const tool = await findEchoTool(session);
    await checkCall(session, tool, nextId++);
    return { key, server, upstream, session, tool, warmups: [], idleRssBytes: treeRssBytes(server.pid) };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function cpuOf(pids: number[]): number {
  return pids.reduce((a, pid) => a + treeCpuMicros(pid), 0);
}

async function measure(target: Target, round: number, kind: RunSample['kind']): Promise<RunSample> {
  const all = [...running].map((s) => s.pid);
  const core0Before = coreTicks(SERVER_CORE);
  const oursBefore = cpuOf(all);
  const serverBefore = treeCpuMicros(target.server.pid);
  const upstreamBefore = treeCpuMicros(target.upstream.pid);
  const load = await runLoad({
    endpoint: target.session.endpoint,
    sessionId: target.session.sessionId,
    authorization: target.session.authorization,
    tool: target.tool,
    connections: kind === 'c1' ? 1 : settings.connections,
    durationS:
      kind === 'c10'
        ? settings.durationS
        : kind === 'c1'
          ? settings.latencyDurationS
          : settings.pairDurationS,
    firstId: nextId,
  });
  nextId = load.lastId + 1;
  const serverUs = treeCpuMicros(target.server.pid) - serverBefore;
  const upstreamUs = treeCpuMicros(target.upstream.pid) - upstreamBefore;
  const core0After = coreTicks(SERVER_CORE);
  const oursTicks = ((cpuOf(all) - oursBefore) * CLK_TCK) / 1e6;
  const core0Total = core0After.total - core0Before.total;
  const otherTicks = core0After.busy - core0Before.busy - oursTicks;
  const calls = Math.max(load.calls, 1);
  return {
    target: target.key,
    round,
    kind,
    load,
    serverCpuUsPerCall: serverUs / calls,
    upstreamCpuUsPerCall: upstreamUs / calls,
    core0OtherPct: core0Total > 0 ? Math.max(0, (100 * otherTicks) / core0Total) : Number.NaN,
    rssAfterBytes: treeRssBytes(target.server.pid),
  };
}

async function fetchUpstreamSessions(upstream: ServerProcess): Promise<number | undefined> {
  try {
    const res = await fetch(`${upstream.url}/_stats`, { signal: AbortSignal.timeout(5_000) });
    return ((await res.json()) as { sessions?: number }).sessions;
  } catch {
    return undefined;
  }
}

/** A fresh upstream + gateway pair: RSS before and after `settings.sessions` idle sessions. */
async function measureSessions(): Promise<SessionsSummary | string> {
  const upstream = await mustStart('sessions-upstream', ['bench/upstream.ts']);
  const gateway = await startGateway('sessions-gateway', upstream);
  if (!gateway) {
    await stop(upstream);
    return 'gateway did not start';
  }
  try {
    // One full session first, so that lazily built state (upstream connection, tool list) is
    // in "before" and only the per-session cost is in the difference.
    const first = await prepare('gateway', gateway, upstream);
    if (typeof first === 'string') return first;
    await sleep(1_000);
    const rssBeforeBytes = treeRssBytes(gateway.pid);
    const outcome = await openIdleSessions(`${gateway.url}/mcp`, settings.sessions, 10, 60_000);
    await sleep(2_000);
    const rssAfterBytes = treeRssBytes(gateway.pid);
    await checkCall(first.session, first.tool, nextId++);
    return {
      requested: settings.sessions,
      ...outcome,
      rssBeforeBytes,
      rssAfterBytes,
      perSessionBytes: outcome.opened ? (rssAfterBytes - rssBeforeBytes) / outcome.opened : Number.NaN,
      upstreamSessions: await fetchUpstreamSessions(upstream),
    };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await stop(gateway);
    await stop(upstream);
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const host = machine();
  console.log(
    `bench: ${host.cores} cores (${host.cpuModel}), node ${host.node}, load average ${host.loadAverageAtStart.join(' ')}`,
  );
  console.log(
    `bench: ${settings.rounds} round(s) × [${settings.warmupS} s warm-up, ${settings.durationS} s at c=${settings.connections}, ` +
      `${settings.latencyDurationS} s at c=1]; servers on core ${SERVER_CORE}, load on core ${LOAD_CORE}`,
  );

  const upDirect = await mustStart('upstream-direct', ['bench/upstream.ts']);
  const upPipe = await mustStart('upstream-pipe', ['bench/upstream.ts']);
  const pipe = await mustStart('byte-pipe', ['bench/byte-pipe.ts', upPipe.url]);
  const notes: string[] = [];
  const targets: Target[] = [];
  for (const [key, server, upstream] of [
    ['direct', upDirect, upDirect],
    ['pipe', pipe, upPipe],
  ] as const) {
    const t = await prepare(key, server, upstream);
    if (typeof t === 'string') return abort(`${TARGET_LABELS[key]}: ${t}`);
    targets.push(t);
  }
  if (skipGateway) {
    notes.push('gateway skipped (--skip-gateway)');
  } else {
    const upGateway = await mustStart('upstream-gateway', ['bench/upstream.ts']);
    const gateway = await startGateway('gateway', upGateway);
    const t = gateway ? await prepare('gateway', gateway, upGateway) : 'it did not start';
    if (typeof t === 'string') {
      notes.push(`gateway skipped: ${t}`);
      if (gateway) console.warn(`bench: SKIP gateway — ${t}`);
    } else {
      targets.push(t);
    }
    const upGoverned = await mustStart('upstream-governed', ['bench/upstream.ts']);
    const governed = governance(logDir);
    const gov = await startGateway('governed', upGoverned, governed.lines);
    const g = gov ? await prepare('governed', gov, upGoverned, governed.authorization) : 'it did not start';
    if (typeof g === 'string') notes.push(`governed gateway skipped: ${g}`);
    else targets.push(g);
    const upObserved = await mustStart('upstream-observed', ['bench/upstream.ts']);
    collector = await startCollector();
    const obs = await startGateway('observed', upObserved, observability(logDir, collector.url));
    const o = obs ? await prepare('observed', obs, upObserved) : 'it did not start';
    if (typeof o === 'string') notes.push(`observed gateway skipped: ${o}`);
    else targets.push(o);
  }

  const samples: RunSample[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    // Rotate the order each round so that no target always runs first or last.
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
    for (const target of order) {
      const warm = await runLoad({
        endpoint: target.session.endpoint,
        sessionId: target.session.sessionId,
        authorization: target.session.authorization,
        tool: target.tool,
        connections: settings.connections,
        durationS: settings.warmupS,
        firstId: nextId,
      });
      nextId = warm.lastId + 1;
      target.warmups.push(warm);
      for (const kind of ['c10', 'c1'] as const) {
        const s = await measure(target, round, kind);
        samples.push(s);
        console.log(
          `  round ${round} ${TARGET_LABELS[target.key].padEnd(22)} ${kind.padEnd(3)} ` +
            `${s.load.callsPerSec.toFixed(0).padStart(6)} calls/s  p50 ${s.load.p50ExactMs.toFixed(3)} ms  ` +
            `CPU ${s.serverCpuUsPerCall.toFixed(0)} µs/call (upstream ${s.upstreamCpuUsPerCall.toFixed(0)})  ` +
            `RSS ${(s.rssAfterBytes / 2 ** 20).toFixed(0)} MB  core0 other ${s.core0OtherPct.toFixed(0)}%  bad ${s.load.non2xx + s.load.errors + s.load.timeouts + s.load.wrongBodies}`,
        );
      }
    }
  }

  // The paired phase: short slices, the targets one after another within each slice, so that a
  // ratio compares runs a few seconds apart; the machine's speed drifts more slowly than that.
  const paired = targets.filter((t) => t.key !== 'direct');
  if (paired.length > 1) {
    console.log(
      `bench: paired phase, ${settings.pairs} slices × ${paired.length} targets × ${settings.pairDurationS} s`,
    );
    for (let slice = 1; slice <= settings.pairs; slice++) {
      const order = paired.map((_, i) => paired[(i + slice - 1) % paired.length]!);
      const line: string[] = [];
      for (const target of order) {
        const s = await measure(target, slice, 'pair');
        samples.push(s);
        line.push(`${target.key} ${s.serverCpuUsPerCall.toFixed(0)}`);
      }
      console.log(`  slice ${String(slice).padStart(2)}  CPU µs/call: ${line.join('  ')}`);
    }
  }

  const summaries: TargetSummary[] = [];
  for (const target of targets) {
    try {
      await checkCall(target.session, target.tool, nextId++);
    } catch (err) {
      notes.push(
        `${target.key}: call after load failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    summaries.push(
      summarize(target.key, samples, target.warmups, {
        idleRssBytes: target.idleRssBytes,
        rssBytes: treeRssBytes(target.server.pid),
        peakRssBytes: peakRssBytes(target.server.pid),
        upstreamRssBytes: treeRssBytes(target.upstream.pid),
      }),
    );
  }
  await cleanup();

  let sessions: SessionsSummary | undefined;
  if (targets.some((t) => t.key === 'gateway')) {
    console.log(`bench: opening ${settings.sessions} idle sessions against a fresh gateway`);
    const outcome = await measureSessions();
    if (typeof outcome === 'string') notes.push(`sessions: ${outcome}`);
    else sessions = outcome;
  }

  const byTarget = Object.fromEntries(summaries.map((s) => [s.target, s]));
  const checks = verdicts(byTarget, sessions, samples);
  const result = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...host, loadAverageAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))) },
    settings,
    core0OtherPctMedian: median(samples.map((s) => s.core0OtherPct)),
    targets: summaries,
    sessions,
    verdicts: checks,
    notes,
    samples,
  };
  const file = writeResults(out, result);
  console.log('');
  console.log(renderText(summaries, sessions, checks));
  for (const note of notes) console.log(`note: ${note}`);
  console.log(
    `\nload average ${host.loadAverageAtStart.join(' ')} → ${result.machine.loadAverageAtEnd.join(' ')}; ` +
      `core 0 busy with other processes: ${result.core0OtherPctMedian.toFixed(1)}% (median over runs)`,
  );
  const shown = (path: string) => path.replace(`${REPO}/`, '');
  console.log(`results: ${shown(file)} (and ${shown(join(out, 'latest.json'))})`);
}

try {
  await main();
} catch (err) {
  console.error(err);
  await cleanup();
  process.exitCode = 1;
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
process.exit();
