// Helpers for audit tests: records numbered so order and loss can be counted, a sink that keeps
// what it is given, and a switch that makes a real store refuse writes the way a store that is
// down does (the store underneath is real; only its availability is controlled).
import type { AuditRecord, StoredRecord } from '../../src/audit/record.ts';
import { newRecordId } from '../../src/audit/record.ts';
import type { AuditSink, SinkStats } from '../../src/audit/sink.ts';
import type { AuditStore } from '../../src/audit/store.ts';

/** Record number `n` (in `target`), so a test can tell which are missing, repeated or out of order. */
export function numberedRecord(n: number, instance = 'test-gw'): AuditRecord {
  const now = Date.now();
  return {
    id: newRecordId(now),
    time: new Date(now).toISOString(),
    instance,
    principal: { kind: 'api-key', agent: 'agent-1', user: 'alice', teams: ['blue'], keyId: 'k1' },
    method: 'tools/call',
    target: String(n),
    arguments: { n, text: 'hello' },
    outcome: 'ok',
    latencyMs: 1,
  };
}

/** The numbers of an instance's records in chain order. */
export async function keptNumbers(store: AuditStore, instance = 'test-gw'): Promise<number[]> {
  const numbers: number[] = [];
  for await (const record of store.chain(instance)) numbers.push(Number(record.target));
  return numbers;
}

/** Checks `numbers` is exactly 0..count-1 in order; returns a description of what is wrong, or ''. */
export function describeGaps(numbers: readonly number[], count: number): string {
  const seen = new Map<number, number>();
  for (const n of numbers) seen.set(n, (seen.get(n) ?? 0) + 1);
  const missing: number[] = [];
  const repeated: number[] = [];
  for (let n = 0; n < count; n++) {
    const times = seen.get(n) ?? 0;
    if (times === 0) missing.push(n);
    if (times > 1) repeated.push(n);
  }
  const disorder = numbers.findIndex((n, i) => i > 0 && n < numbers[i - 1]!);
  const problems: string[] = [];
  if (numbers.length !== count) problems.push(`${numbers.length} kept, ${count} written`);
  if (missing.length) problems.push(`missing ${missing.length}: ${missing.slice(0, 10).join(',')}`);
  if (repeated.length) problems.push(`repeated ${repeated.length}: ${repeated.slice(0, 10).join(',')}`);
  if (disorder !== -1)
    problems.push(`out of order at index ${disorder}: ${numbers.slice(disorder - 1, disorder + 2)}`);
  return problems.join('; ');
}

/** A sink that keeps the batches it is given. */
export function collectingSink(): AuditSink & { batches: StoredRecord[][]; closed: boolean } {
  const sink = {
    name: 'collect',
    batches: [] as StoredRecord[][],
    closed: false,
    accept(records: readonly StoredRecord[]) {
      sink.batches.push([...records]);
    },
    stats(): SinkStats {
      return { delivered: sink.batches.flat().length, failed: 0, deadLettered: 0, queued: 0 };
    },
    async close() {
      sink.closed = true;
    },
  };
  return sink;
}

export interface SwitchedStore extends AuditStore {
  /** Appends reject from now on, as a store that is down does. */
  down(): void;
  up(): void;
  /** Appends wait until `release` (a slow store); the wait happens before the real append. */
  hold(): void;
  release(): void;
  /** Appends that reached the real store, and their sizes. */
  readonly appends: number[];
  /** Appends waiting at the gate (`hold`) now. */
  readonly held: number;
  closed: boolean;
}

export function switchedStore(real: AuditStore): SwitchedStore {
  let isDown = false;
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  let held = 0;
  const store: SwitchedStore = {
    appends: [],
    get held() {
      return held;
    },
    closed: false,
    down: () => {
      isDown = true;
    },
    up: () => {
      isDown = false;
    },
    hold: () => {
      let open = () => {};
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      gate = { promise, open };
    },
    release: () => {
      gate?.open();
      gate = undefined;
    },
    async append(records) {
      if (gate) {
        held++;
        await gate.promise;
        held--;
      }
      if (isDown) throw new Error('connect ECONNREFUSED (store switched off by the test)');
      const stored = await real.append(records);
      store.appends.push(records.length);
      return stored;
    },
    query: (q) => real.query(q),
    chain: (instance) => real.chain(instance),
    instances: () => real.instances(),
    prune: (options) => real.prune(options),
    async close() {
      store.closed = true;
      await real.close();
    },
  };
  return store;
}
