// Turns the raw runs into per-target figures, the verdicts against DESIGN §5, a printed table
// and the JSON written to bench/results/.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './load.ts';

export type TargetKey = 'direct' | 'pipe' | 'gateway' | 'governed' | 'observed';

export const TARGET_LABELS: Record<TargetKey, string> = {
  direct: 'upstream direct',
  pipe: 'byte pipe → upstream',
  gateway: 'Gatehouse → upstream',
  governed: 'Gatehouse + API key + 100-rule policy',
  observed: 'Gatehouse + audit + metrics + tracing',
};

/** One measured autocannon run and the server CPU it cost. */
export interface RunSample {
  target: TargetKey;
  round: number;
  /** `pair`: a short slice of the paired phase, where targets alternate every few seconds. */
  kind: 'c10' | 'c1' | 'pair';
  load: LoadResult;
  /** CPU µs per call of the process under test: the upstream for `direct`, else the proxy. */
  serverCpuUsPerCall: number;
  /** CPU µs per call of the upstream behind a proxy (equal to serverCpuUsPerCall for direct). */
  upstreamCpuUsPerCall: number;
  /** Share of core 0 busy with processes other than the bench's servers, in %. */
  core0OtherPct: number;
  /** RSS of the process under test right after the run: growth from run to run is a leak. */
  rssAfterBytes: number;
}

export interface TargetSummary {
  target: TargetKey;
  label: string;
  runs: number;
  callsPerSec: number;
  callsPerSecByRound: number[];
  p50Ms: number;
  p99Ms: number;
  p50ExactMs: number;
  p99ExactMs: number;
  serverCpuUsPerCall: number;
  upstreamCpuUsPerCall: number;
  c1CallsPerSec: number;
  c1P50Ms: number;
  c1P99Ms: number;
  c1P50ExactMs: number;
  c1P99ExactMs: number;
  c1ServerCpuUsPerCall: number;
  /** RSS of the process under test: idle after setup, after each c=10 run, at the end, peak. */
  idleRssBytes: number;
  rssAfterRunsBytes: number[];
  rssBytes: number;
  peakRssBytes: number;
  upstreamRssBytes: number;
  totals: { calls: number; non2xx: number; errors: number; timeouts: number; wrongBodies: number };
}

export interface SessionsSummary {
  requested: number;
  opened: number;
  failed: number;
  firstError: string | undefined;
  elapsedMs: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  perSessionBytes: number;
  upstreamSessions: number | undefined;
}

export interface Verdict {
  target: string;
  budget: string;
  measured: string;
  pass: boolean | undefined;
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function summarize(
  target: TargetKey,
  samples: RunSample[],
  warmups: LoadResult[],
  memory: { idleRssBytes: number; rssBytes: number; peakRssBytes: number; upstreamRssBytes: number },
): TargetSummary {
  const c10 = samples.filter((s) => s.target === target && s.kind === 'c10');
  const c1 = samples.filter((s) => s.target === target && s.kind === 'c1');
  const all = [...samples.filter((s) => s.target === target).map((s) => s.load), ...warmups];
  const sum = (f: (l: LoadResult) => number) => all.reduce((a, l) => a + f(l), 0);
  const m = (list: RunSample[], f: (s: RunSample) => number) => median(list.map(f));
  return {
    target,
    label: TARGET_LABELS[target],
    runs: c10.length,
    callsPerSec: m(c10, (s) => s.load.callsPerSec),
    callsPerSecByRound: c10.map((s) => Math.round(s.load.callsPerSec)),
    p50Ms: m(c10, (s) => s.load.p50Ms),
    p99Ms: m(c10, (s) => s.load.p99Ms),
    p50ExactMs: m(c10, (s) => s.load.p50ExactMs),
    p99ExactMs: m(c10, (s) => s.load.p99ExactMs),
    serverCpuUsPerCall: m(c10, (s) => s.serverCpuUsPerCall),
    upstreamCpuUsPerCall: m(c10, (s) => s.upstreamCpuUsPerCall),
    c1CallsPerSec: m(c1, (s) => s.load.callsPerSec),
    c1P50Ms: m(c1, (s) => s.load.p50Ms),
    c1P99Ms: m(c1, (s) => s.load.p99Ms),
    c1P50ExactMs: m(c1, (s) => s.load.p50ExactMs),
    c1P99ExactMs: m(c1, (s) => s.load.p99ExactMs),
    c1ServerCpuUsPerCall: m(c1, (s) => s.serverCpuUsPerCall),
    rssAfterRunsBytes: c10.map((s) => s.rssAfterBytes),
    ...memory,
    totals: {
      calls: sum((l) => l.calls),
      non2xx: sum((l) => l.non2xx),
      errors: sum((l) => l.errors),
      timeouts: sum((l) => l.timeouts),
      wrongBodies: sum((l) => l.wrongBodies),
    },
  };
}

const MB = 1024 * 1024;
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/**
 * CPU per call of `over` ÷ that of `under`, one ratio per round (or per slice of the paired
 * phase, when `kind` is `pair`), for the median: the runs compared are seconds apart, so a noisy
 * neighbour weighs on both alike.
 */
export function cpuRatioByRound(
  samples: RunSample[],
  over: TargetKey = 'gateway',
  under: TargetKey = 'pipe',
  kind: RunSample['kind'] = 'c10',
): number[] {
  const cpu = (target: TargetKey, round: number) =>
    samples.find((s) => s.target === target && s.kind === kind && s.round === round)?.serverCpuUsPerCall;
  const rounds = [...new Set(samples.filter((s) => s.kind === kind).map((s) => s.round))];
  return rounds.map((r) => (cpu(over, r) ?? Number.NaN) / (cpu(under, r) ?? Number.NaN));
}

/**
 * A CPU ratio for a budget: from the paired phase when it ran (many short alternating slices,
 * which resolve a 10% difference on a machine whose speed drifts from minute to minute), else
 * from the rounds. Says which, with every sample, so a reader can judge the spread.
 */
function ratioVerdict(
  samples: RunSample[],
  over: TargetKey,
  under: TargetKey,
): { ratio: number; text: string } {
  const paired = cpuRatioByRound(samples, over, under, 'pair').filter(Number.isFinite);
  const rounds = cpuRatioByRound(samples, over, under);
  const used = paired.length > 0 ? paired : rounds;
  const ratio = median(used);
  const list = (xs: number[]) => xs.map((r) => fmt(r, 2)).join(', ');
  const text =
    paired.length > 0
      ? `${fmt(ratio, 2)}× (median of ${paired.length} paired slices: ${list(paired)}; rounds ${list(rounds)})`
      : `${fmt(ratio, 2)}× (median of rounds ${list(rounds)})`;
  return { ratio, text };
}

export function verdicts(
  byTarget: Partial<Record<TargetKey, TargetSummary>>,
  sessions: SessionsSummary | undefined,
  samples: RunSample[],
): Verdict[] {
  const { direct, pipe, gateway } = byTarget;
  if (!gateway || !direct || !pipe) {
    return [{ target: 'all', budget: 'DESIGN §5', measured: 'gateway not measured', pass: undefined }];
  }
  const { ratio, text: ratioText } = ratioVerdict(samples, 'gateway', 'pipe');
  const capacity = 1e6 / gateway.serverCpuUsPerCall;
  const addedP50 = gateway.c1P50ExactMs - direct.c1P50ExactMs;
  const addedP99 = gateway.c1P99ExactMs - direct.c1P99ExactMs;
  const out: Verdict[] = [
    {
      target: 'CPU per call vs byte pipe',
      budget: '≤ 1.5×',
      measured: `${ratioText}; medians ${fmt(gateway.serverCpuUsPerCall)} vs ${fmt(pipe.serverCpuUsPerCall)} µs`,
      pass: ratio <= 1.5,
    },
    {
      target: 'calls/s, gateway core alone (1e6 / CPU µs per call)',
      budget: '≥ 2,500',
      measured: fmt(capacity),
      pass: capacity >= 2500,
    },
    {
      target: 'calls/s measured, c=10 (gateway + upstream share core 0)',
      budget: '≥ 2,500',
      measured: fmt(gateway.callsPerSec),
      pass: gateway.callsPerSec >= 2500,
    },
    {
      target: 'added latency p50 vs direct, c=1',
      budget: '≤ 1 ms',
      measured: `${fmt(addedP50, 3)} ms`,
      pass: addedP50 <= 1,
    },
    {
      target: 'added latency p99 vs direct, c=1',
      budget: '≤ 5 ms',
      measured: `${fmt(addedP99, 3)} ms`,
      pass: addedP99 <= 5,
    },
  ];
  if (sessions) {
    out.push({
      target: `RSS with ${sessions.requested} idle sessions`,
      budget: '≤ 150 MB',
      measured:
        `${fmt(sessions.rssAfterBytes / MB, 1)} MB (${sessions.opened} opened, ` +
        `${fmt(sessions.perSessionBytes / 1024, 1)} KB each)`,
      // The budget is for 1,000 sessions: a smaller count (--quick) cannot pass or miss it.
      pass:
        sessions.requested < 1000
          ? undefined
          : sessions.opened === sessions.requested && sessions.rssAfterBytes <= 150 * MB,
    });
  }
  if (byTarget.governed) {
    // Issue 3: authentication and a 100-rule policy cost at most a tenth more CPU per call.
    const { ratio: governed, text } = ratioVerdict(samples, 'governed', 'gateway');
    out.push({
      target: 'CPU per call with API key + 100-rule policy vs without',
      budget: '≤ 1.10×',
      measured: `${text}; medians ${fmt(byTarget.governed.serverCpuUsPerCall)} vs ${fmt(gateway.serverCpuUsPerCall)} µs`,
      pass: governed <= 1.1,
    });
  }
  if (byTarget.observed) {
    // Issue 4: audit (SQLite), metrics and tracing on cost at most a tenth more CPU per call.
    const { ratio: observed, text } = ratioVerdict(samples, 'observed', 'gateway');
    out.push({
      target: 'CPU per call with audit + metrics + tracing vs without',
      budget: '≤ 1.10×',
      measured: `${text}; medians ${fmt(byTarget.observed.serverCpuUsPerCall)} vs ${fmt(gateway.serverCpuUsPerCall)} µs`,
      pass: observed <= 1.1,
    });
  }
  const wrong = Object.values(byTarget).reduce(
    (a, t) => a + t.totals.non2xx + t.totals.errors + t.totals.timeouts + t.totals.wrongBodies,
    0,
  );
  out.push({
    target: 'every call answered correctly',
    budget: '0 failures',
    measured: `${wrong}`,
    pass: wrong === 0,
  });
  return out;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderText(
  targets: TargetSummary[],
  sessions: SessionsSummary | undefined,
  checks: Verdict[],
): string {
  const direct = targets.find((t) => t.target === 'direct');
  const load = table(
    [
      'target',
      'calls/s',
      'per round',
      'p50/p99 ms',
      'exact p50/p99 ms',
      'CPU µs/call',
      'upstream µs/call',
      'RSS MB',
    ],
    targets.map((t) => [
      t.label,
      fmt(t.callsPerSec),
      t.callsPerSecByRound.join(', '),
      `${fmt(t.p50Ms)} / ${fmt(t.p99Ms)}`,
      `${fmt(t.p50ExactMs, 2)} / ${fmt(t.p99ExactMs, 2)}`,
      fmt(t.serverCpuUsPerCall),
      t.target === 'direct' ? '—' : fmt(t.upstreamCpuUsPerCall),
      `${fmt(t.idleRssBytes / MB)} → ${t.rssAfterRunsBytes.map((b) => fmt(b / MB)).join(', ')} (${fmt(t.peakRssBytes / MB)})`,
    ]),
  );
  const latency = table(
    ['target', 'c=1 calls/s', 'p50/p99 ms', 'exact p50/p99 ms', 'added p50/p99 ms', 'CPU µs/call'],
    targets.map((t) => [
      t.label,
      fmt(t.c1CallsPerSec),
      `${fmt(t.c1P50Ms)} / ${fmt(t.c1P99Ms)}`,
      `${fmt(t.c1P50ExactMs, 3)} / ${fmt(t.c1P99ExactMs, 3)}`,
      direct && t !== direct
        ? `${fmt(t.c1P50ExactMs - direct.c1P50ExactMs, 3)} / ${fmt(t.c1P99ExactMs - direct.c1P99ExactMs, 3)}`
        : '—',
      fmt(t.c1ServerCpuUsPerCall),
    ]),
  );
  const correctness = table(
    ['target', 'calls', 'non-2xx', 'errors', 'timeouts', 'wrong bodies'],
    targets.map((t) => [
      t.label,
      `${t.totals.calls}`,
      `${t.totals.non2xx}`,
      `${t.totals.errors}`,
      `${t.totals.timeouts}`,
      `${t.totals.wrongBodies}`,
    ]),
  );
  const parts = [
    'tools/call load, 10 connections (medians over rounds; CPU = utime+stime of the process under test):',
    load,
    '',
    'Latency, 1 connection:',
    latency,
    '',
    'Correctness (all runs, warm-ups included):',
    correctness,
  ];
  if (sessions) {
    parts.push(
      '',
      `Idle sessions: ${sessions.opened}/${sessions.requested} opened in ${sessions.elapsedMs} ms` +
        (sessions.failed ? ` (${sessions.failed} failed: ${sessions.firstError})` : '') +
        `; gateway RSS ${fmt(sessions.rssBeforeBytes / MB, 1)} → ${fmt(sessions.rssAfterBytes / MB, 1)} MB, ` +
        `${fmt(sessions.perSessionBytes / 1024, 1)} KB per session; ` +
        `upstream sessions held: ${sessions.upstreamSessions ?? 'n/a'}`,
    );
  }
  parts.push('', 'Targets (DESIGN §5):');
  for (const v of checks) {
    const mark = v.pass === undefined ? 'SKIP' : v.pass ? 'PASS' : 'MISS';
    parts.push(`  ${mark}  ${v.target}: ${v.measured} (budget ${v.budget})`);
  }
  return parts.join('\n');
}

/** Writes `<dir>/<ISO time>.json` and `<dir>/latest.json` (each via a .tmp file and rename). */
export function writeResults(dir: string, result: object): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const file = join(dir, `${stamp}.json`);
  for (const path of [file, join(dir, 'latest.json')]) {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }
  return file;
}
