// What the audit store costs the gateway's event loop: batches of 500 records appended at a
// steady rate (as the writer sends them at 10,000 calls/s), then an export of everything
// appended, then a search that matches nothing (every row tested), while
// `monitorEventLoopDelay` samples the loop every millisecond. Per store: the loop delay (p50 /
// p99 / max), the CPU per record of the whole process and of the main thread alone, and how
// long an append took. `none` is a store that keeps nothing: the floor of the harness and the
// machine.
//
//   node --expose-gc bench/audit-loop.ts [--rate 10000] [--seconds 10] [--stores none,sqlite,worker] [--json]
//   taskset -c 0 node ...    the gateway's benchmark setting: one core for all threads
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EMPTY_HEAD } from '../src/audit/chain.ts';
import { exportRecords } from '../src/audit/export.ts';
import type { AuditRecord, StoredRecord } from '../src/audit/record.ts';
import { openSqliteAuditStore } from '../src/audit/sqlite-store.ts';
import { openSqliteWorkerStore } from '../src/audit/sqlite-worker-store.ts';
import type { AuditStore } from '../src/audit/store.ts';
import { records } from '../test/helpers/audit-store-contract.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    stores: { type: 'string', default: 'none,sqlite,worker' },
    /** One JSON line per store, for scripts that run this several times. */
    json: { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BATCH = 500;
const WARMUP_BATCHES = 6;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const OPENERS: Record<string, (file: string) => Promise<AuditStore>> = {
  /** Keeps nothing, returns what it was given: the harness alone. */
  none: async () => ({
    append: async (batch) =>
      batch.map((r, i) => ({ ...r, seq: i + 1, prevHash: EMPTY_HEAD.hash, hash: EMPTY_HEAD.hash })),
    query: async function* () {},
    chain: async function* () {},
    instances: async () => [],
    prune: async () => 0,
    close: async () => {},
  }),
  sqlite: async (file) => openSqliteAuditStore(file),
  worker: async (file) => openSqliteWorkerStore(file),
};

const ms = (ns: number) => (ns / 1e6).toFixed(2);
const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

/** Loop delay and CPU while `work` runs. */
async function observed(work: () => Promise<number>) {
  gc();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const cpu = process.cpuUsage();
  const thread = process.threadCpuUsage();
  delay.enable();
  // The histogram measures from its first sample, and records a stall when the loop turns after
  // it: a few idle samples before the work and after it, so a stall at either end is counted.
  await new Promise((resolve) => setTimeout(resolve, 10));
  const count = await work();
  await new Promise((resolve) => setTimeout(resolve, 10));
  delay.disable();
  const perRecord = (micros: number) => (micros / count).toFixed(2);
  return {
    loopDelayMs: {
      p50: ms(delay.percentile(50)),
      p99: ms(delay.percentile(99)),
      max: ms(delay.max),
      samples: delay.count,
    },
    cpuPerRecordUs: perRecord(cpuMicros(process.cpuUsage(cpu))),
    mainThreadCpuPerRecordUs: perRecord(cpuMicros(process.threadCpuUsage(thread))),
  };
}

/** Appends `batches` one every BATCH / RATE seconds (the next waits if an append is still running). */
async function appendSteadily(store: AuditStore, batches: AuditRecord[][]) {
  const latencies: number[] = [];
  const interval = (BATCH / RATE) * 1000;
  const start = performance.now();
  for (let i = 0; i < batches.length; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const began = performance.now();
    const kept: StoredRecord[] = await store.append(batches[i]!);
    latencies.push(performance.now() - began);
    if (kept.length !== BATCH) throw new Error(`kept ${kept.length} of ${BATCH}`);
  }
  latencies.sort((a, b) => a - b);
  return {
    count: batches.length * BATCH,
    appendMs: {
      p50: latencies[latencies.length >> 1]!.toFixed(2),
      p99: latencies[Math.floor(latencies.length * 0.99)]!.toFixed(2),
    },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-loop-'));
try {
  const total = Math.round((RATE * SECONDS) / BATCH);
  if (!values.json)
    console.log(
      `${total} batches of ${BATCH} at ${RATE} records/s (${SECONDS} s), then an export and a search`,
    );
  for (const name of values.stores.split(',')) {
    const open = OPENERS[name];
    if (!open) throw new Error(`unknown store ${name}: ${Object.keys(OPENERS).join(', ')}`);
    const store = await open(join(dir, `${name}.db`));
    // Made before measuring: the records are the writer's input, not the store's work.
    const batches = Array.from({ length: WARMUP_BATCHES + total }, (_, b) => records(b * BATCH, BATCH));
    for (const batch of batches.splice(0, WARMUP_BATCHES)) await store.append(batch);
    let timing: Awaited<ReturnType<typeof appendSteadily>> | undefined;
    const append = await observed(async () => {
      timing = await appendSteadily(store, batches);
      return timing.count;
    });
    batches.length = 0;
    const out = createWriteStream('/dev/null');
    const exported =
      name === 'none' ? '-' : await observed(() => exportRecords(store.query({}), out, 'jsonl'));
    await new Promise<void>((resolve) => out.end(resolve));
    // A search no record matches, by team: SQLite tests every row (json_each on each record).
    let searchMs = '-';
    const search =
      name === 'none'
        ? '-'
        : await observed(async () => {
            const start = performance.now();
            for await (const _ of store.query({ team: 'no-such-team' })) throw new Error('matched');
            searchMs = (performance.now() - start).toFixed(0);
            return timing!.count;
          });
    await store.close();
    const result = {
      append: { ...append, appendMs: timing!.appendMs },
      export: exported,
      search: search === '-' ? search : { loopDelayMs: search.loopDelayMs, ms: searchMs },
    };
    if (values.json) console.log(JSON.stringify({ store: name, ...result }));
    else console.log(name, result);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
