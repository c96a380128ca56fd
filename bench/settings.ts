// Where the bench runs and with what: core assignment, pinning of the runner, command-line
// options, and a description of the machine for the results file.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** Every server process runs here. */
export const SERVER_CORE = 0;
/** The runner, and so the autocannon load it generates, runs here. */
export const LOAD_CORE = 1;
export const REPO = resolve(import.meta.dirname, '..');

/** Re-runs the current script under `taskset -c 1` so the load never competes with the servers. */
export function ensurePinned(): void {
  if (process.env.GATEHOUSE_BENCH_PINNED === '1') return;
  const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (allowed === String(LOAD_CORE)) return;
  const script = process.argv[1] ?? join(REPO, 'bench', 'run.ts');
  const child = spawnSync(
    'taskset',
    ['-c', String(LOAD_CORE), process.execPath, ...process.execArgv, script, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, GATEHOUSE_BENCH_PINNED: '1' } },
  );
  if (child.error) {
    console.warn(
      `bench: cannot pin the load to core ${LOAD_CORE} (${child.error.message}); running unpinned`,
    );
    return;
  }
  process.exit(child.status ?? 1);
}

export interface Settings {
  rounds: number;
  durationS: number;
  warmupS: number;
  latencyDurationS: number;
  connections: number;
  /** Slices of the paired phase, and each slice's length per target. */
  pairs: number;
  pairDurationS: number;
  sessions: number;
  serverCore: number;
  loadCore: number;
}

/** Options from the command line; `--quick` replaces them with a short smoke-test set. */
export function readSettings(): { settings: Settings; out: string; skipGateway: boolean } {
  const { values: args } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      'latency-duration': { type: 'string', default: '5' },
      connections: { type: 'string', default: '10' },
      pairs: { type: 'string', default: '12' },
      'pair-duration': { type: 'string', default: '2' },
      sessions: { type: 'string', default: '1000' },
      'skip-gateway': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: join(REPO, 'bench', 'results') },
    },
  });
  const positive = (name: string, value: string | undefined, quick: number): number => {
    const n = args.quick ? quick : Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`--${name} must be a whole number ≥ 1`);
    return n;
  };
  const settings = {
    rounds: positive('rounds', args.rounds, 1),
    durationS: positive('duration', args.duration, 3),
    warmupS: positive('warmup', args.warmup, 1),
    latencyDurationS: positive('latency-duration', args['latency-duration'], 2),
    connections: positive('connections', args.connections, 10),
    pairs: positive('pairs', args.pairs, 2),
    pairDurationS: positive('pair-duration', args['pair-duration'], 1),
    sessions: positive('sessions', args.sessions, 200),
    serverCore: SERVER_CORE,
    loadCore: LOAD_CORE,
  };
  return { settings, out: resolve(args.out), skipGateway: args['skip-gateway'] };
}

export function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}
