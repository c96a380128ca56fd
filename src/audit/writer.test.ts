// The audit writer against the real SQLite store, in a worker thread (as the gateway runs it) and
// in this thread: order, batching, close, the spool and its replay, block mode, retention. A
// store "down" is the real store behind a switch that makes its appends reject
// (test/helpers/audit.ts); the PostgreSQL fault test (test/e2e/audit-postgres) stops a real
// server instead.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  collectingSink,
  describeGaps,
  keptNumbers,
  numberedRecord,
  type SwitchedStore,
  switchedStore,
} from '../../test/helpers/audit.ts';
import { waitFor } from '../../test/helpers/processes.ts';
import { auditSchema } from './schema.ts';
import { openSqliteAuditStore } from './sqlite-store.ts';
import { openSqliteWorkerStore } from './sqlite-worker-store.ts';
import type { AuditStore } from './store.ts';
import { verifyChain } from './verify.ts';
import { type AuditWriter, createAuditWriter } from './writer.ts';

let dir: string;
let logs: string[];
const open: AuditWriter[] = [];
const roots: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-writer-'));
  roots.push(dir);
  logs = [];
});
afterEach(async () => {
  for (const writer of open.splice(0)) await writer.close(1000);
});
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

function config(overrides: Record<string, unknown> = {}) {
  return auditSchema.parse({
    store: { type: 'sqlite', file: join(dir, 'audit.db') },
    spoolFile: join(dir, 'audit.spool'),
    flushIntervalMs: 20,
    ...overrides,
  });
}

const STORES: Record<string, (file: string) => Promise<AuditStore>> = {
  'in a worker thread': (file) => openSqliteWorkerStore(file),
  'in this thread': async (file) => openSqliteAuditStore(file),
};
let openStore = STORES['in a worker thread']!;

async function sqlite(): Promise<SwitchedStore> {
  return switchedStore(await openStore(join(dir, 'audit.db')));
}

function writer(store: SwitchedStore, overrides: Record<string, unknown> = {}, sinks = [collectingSink()]) {
  const w = createAuditWriter(config(overrides), { store, sinks, log: (line) => logs.push(line) });
  open.push(w);
  return w;
}

/** Opens the database again (after the writer closed it) and reads the numbers kept. */
async function keptAfterClose(): Promise<number[]> {
  const store = openSqliteAuditStore(join(dir, 'audit.db'));
  try {
    const result = await verifyChain(store.chain('test-gw'));
    assert.ok(result.ok, `chain broken: ${JSON.stringify(result.problem)}`);
    return await keptNumbers(store);
  } finally {
    await store.close();
  }
}

const spoolFiles = async () => (await readdir(dir)).filter((name) => name.startsWith('audit.spool')).sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function writerTests() {
  test('keeps records in the order written, in batches of at most batchSize, and hands each batch to the sinks', async () => {
    const store = await sqlite();
    const sink = collectingSink();
    const w = writer(store, { batchSize: 100 }, [sink]);
    for (let n = 0; n < 1234; n++) assert.equal(w.write(numberedRecord(n)), true);
    assert.ok(await waitFor(() => w.stats().written === 1234, 5000), JSON.stringify(w.stats()));
    assert.ok(store.appends.every((size) => size <= 100));
    assert.equal(describeGaps(await keptNumbers(store), 1234), '');
    assert.equal(
      describeGaps(
        sink.batches.flat().map((r) => Number(r.target)),
        1234,
      ),
      '',
    );
    await w.close();
    assert.ok(sink.closed && store.closed);
    assert.deepEqual(w.stats(), { queued: 0, spooled: 0, written: 1234, dropped: 0, storeUp: true });
  });

  test('writes a partial batch after flushIntervalMs, a full one at once', async () => {
    const store = await sqlite();
    const slow = writer(store, { flushIntervalMs: 300, batchSize: 10 });
    for (let n = 0; n < 3; n++) slow.write(numberedRecord(n));
    await sleep(100);
    assert.equal(slow.stats().written, 0, 'a partial batch waits for the tick');
    assert.ok(await waitFor(() => slow.stats().written === 3, 1000));
    for (let n = 3; n < 13; n++) slow.write(numberedRecord(n));
    // 10 more: one full batch goes at once, well before the next tick.
    assert.ok(await waitFor(() => slow.stats().written >= 12, 150), JSON.stringify(slow.stats()));
    await slow.close();
    assert.equal(describeGaps(await keptAfterClose(), 13), '');
  });

  test('close writes everything queued, then closes the store and the sinks', async () => {
    const store = await sqlite();
    const sink = collectingSink();
    const w = writer(store, { flushIntervalMs: 60_000, batchSize: 10_000, queueSize: 100_000 }, [sink]);
    for (let n = 0; n < 20_000; n++) w.write(numberedRecord(n));
    assert.equal(w.stats().written, 0);
    await w.close();
    assert.ok(store.closed && sink.closed);
    assert.equal(w.stats().written, 20_000);
    assert.equal(describeGaps(await keptAfterClose(), 20_000), '');
    assert.deepEqual(await spoolFiles(), []);
    assert.equal(w.write(numberedRecord(1)), false, 'nothing is taken after close');
  });

  test('spools while the store is down and replays in order, exactly once, when it is back', async () => {
    const store = await sqlite();
    const sink = collectingSink();
    const w = writer(store, { batchSize: 50 }, [sink]);
    let n = 0;
    for (; n < 100; n++) w.write(numberedRecord(n));
    await waitFor(() => w.stats().written === 100, 2000);
    store.down();
    for (; n < 400; n++) {
      assert.equal(w.write(numberedRecord(n)), true);
      if (n % 50 === 0) await sleep(10);
    }
    assert.ok(
      await waitFor(() => w.stats().spooled === 300 && w.stats().queued === 0, 2000),
      JSON.stringify(w.stats()),
    );
    assert.equal(w.stats().storeUp, false);
    assert.equal(w.blocked, false, 'spool mode never refuses');
    assert.ok(logs.some((line) => line.includes('cannot be written') && line.includes('spooling')));
    store.up();
    // New records while the spool is replayed come after the spooled ones.
    for (; n < 500; n++) {
      w.write(numberedRecord(n));
      if (n % 20 === 0) await sleep(5);
    }
    assert.ok(await waitFor(() => w.stats().written === 500, 8000), JSON.stringify(w.stats()));
    assert.equal(describeGaps(await keptNumbers(store), 500), '');
    assert.equal(
      describeGaps(
        sink.batches.flat().map((r) => Number(r.target)),
        500,
      ),
      '',
    );
    assert.deepEqual(await spoolFiles(), [], 'replayed segments are deleted');
    assert.ok(logs.some((line) => line.includes('the store is back')));
    await w.close();
    assert.equal(w.stats().dropped, 0);
  });

  test('close with the store down leaves the records in the spool; the next writer replays them first, exactly once', async () => {
    const first = await sqlite();
    const w1 = writer(first);
    for (let n = 0; n < 50; n++) w1.write(numberedRecord(n));
    await waitFor(() => w1.stats().written === 50, 2000);
    first.down();
    for (let n = 50; n < 300; n++) w1.write(numberedRecord(n));
    await w1.close(500);
    assert.equal(w1.stats().dropped, 0);
    assert.equal(w1.stats().spooled, 250);
    assert.deepEqual(await spoolFiles(), ['audit.spool']);

    const second = await sqlite();
    const w2 = writer(second);
    for (let n = 300; n < 400; n++) w2.write(numberedRecord(n));
    assert.ok(await waitFor(() => w2.stats().written === 350, 5000), JSON.stringify(w2.stats()));
    await w2.close();
    assert.equal(describeGaps(await keptAfterClose(), 400), '');
    assert.deepEqual(await spoolFiles(), []);
    assert.ok(logs.some((line) => line.includes('250 spooled record(s) from an earlier run')));
  });

  test('a crash between append and spool deletion keeps each record once; a torn last line is skipped and reported', async () => {
    // The state a kill -9 can leave: records 0-99 in the store, a spool holding 50-149 (50-99
    // were appended but the segment not yet deleted) whose last line was cut mid-write.
    const records = Array.from({ length: 150 }, (_, n) => numberedRecord(n));
    const before = openSqliteAuditStore(join(dir, 'audit.db'));
    await before.append(records.slice(0, 100));
    await before.close();
    const lines = records.slice(50).map((r) => `${JSON.stringify(r)}\n`);
    const torn = JSON.stringify(numberedRecord(150)).slice(0, 40);
    await writeFile(join(dir, 'audit.spool'), lines.join('') + torn);

    const store = await sqlite();
    const w = writer(store);
    assert.ok(
      await waitFor(() => w.stats().written === 50 && w.stats().spooled === 0, 3000),
      JSON.stringify(w.stats()),
    );
    for (let n = 151; n < 160; n++) w.write(numberedRecord(n));
    await w.close();
    const kept = await keptAfterClose();
    assert.deepEqual(kept, [
      ...Array.from({ length: 150 }, (_, n) => n),
      ...Array.from({ length: 9 }, (_, n) => 151 + n),
    ]);
    assert.ok(
      logs.some((line) => line.includes('torn last line') && line.includes('line 101')),
      logs.join('\n'),
    );
    assert.equal(w.stats().dropped, 0);
  });

  test('a full queue while the store is slow spills to the spool, batch in flight included, and nothing is kept twice', async () => {
    const store = await sqlite();
    const sink = collectingSink();
    const w = writer(store, { batchSize: 50, queueSize: 100 }, [sink]);
    store.hold();
    let n = 0;
    for (; n < 60; n++) w.write(numberedRecord(n));
    // One batch of 50 in flight (once the spool is open), held; 10 wait.
    assert.ok(await waitFor(() => store.held === 1, 2000));
    // Requests arrive over event-loop turns (a burst of 50 per turn, a 5 ms pause: the spool has
    // to keep up, and on a slow, busy machine a 1 ms pause let four spills pile up and drop).
    for (; n < 1000; n++) {
      assert.equal(w.write(numberedRecord(n)), true);
      if (n % 50 === 0) await sleep(5);
    }
    assert.ok(w.stats().spooled > 0, JSON.stringify(w.stats()));
    store.release();
    assert.ok(
      await waitFor(() => w.stats().spooled === 0 && w.stats().written === 1000, 15_000),
      JSON.stringify(w.stats()),
    );
    assert.equal(describeGaps(await keptNumbers(store), 1000), '');
    // The held batch reached the store and was replayed from the spool too: skipped by id.
    assert.equal(
      describeGaps(
        sink.batches.flat().map((r) => Number(r.target)),
        1000,
      ),
      '',
    );
    await w.close();
    assert.equal(w.stats().dropped, 0);
  });

  test('block mode refuses calls while the store is down, keeps what it had accepted, and resumes when the store is back', async () => {
    const store = await sqlite();
    const w = writer(store, { onFailure: 'block' });
    let accepted = 0;
    let n = 0;
    const write = () => {
      if (w.write(numberedRecord(n))) {
        accepted++;
        n++;
        return true;
      }
      return false;
    };
    for (let i = 0; i < 40; i++) write();
    await waitFor(() => w.stats().written === 40, 2000);
    store.down();
    for (let i = 0; i < 30; i++) write();
    assert.ok(await waitFor(() => w.blocked, 2000));
    assert.equal(write(), false, 'refused while down');
    assert.equal(w.stats().storeUp, false);
    store.up();
    assert.ok(await waitFor(() => !w.blocked, 3000), 'accepts again once the store is back');
    for (let i = 0; i < 30; i++) assert.equal(write(), true);
    assert.ok(await waitFor(() => w.stats().written === accepted, 3000), JSON.stringify(w.stats()));
    await w.close();
    assert.equal(accepted, 100);
    assert.equal(describeGaps(await keptAfterClose(), 100), '');
    assert.equal(w.stats().dropped, 0);
  });

  test('block mode refuses while the queue is full', async () => {
    const store = await sqlite();
    const w = writer(store, { onFailure: 'block', queueSize: 100, batchSize: 50 });
    store.hold();
    let accepted = 0;
    for (let i = 0; i < 60; i++) if (w.write(numberedRecord(accepted))) accepted++;
    // The first batch in flight (once the spool is open), held by the store.
    assert.ok(await waitFor(() => store.held === 1, 2000));
    for (let i = 0; i < 300; i++) if (w.write(numberedRecord(accepted))) accepted++;
    // 50 in flight (held), 100 queued; the rest refused.
    assert.equal(accepted, 150);
    assert.equal(w.blocked, true);
    store.release();
    assert.ok(await waitFor(() => !w.blocked, 2000));
    await w.close();
    assert.equal(describeGaps(await keptAfterClose(), 150), '');
  });

  test('a spool that cannot be written keeps records in memory, none dropped, until the store is back', async () => {
    await writeFile(join(dir, 'not-a-dir'), '');
    const store = await sqlite();
    const w = writer(store, { spoolFile: join(dir, 'not-a-dir', 'audit.spool') });
    store.down();
    for (let n = 0; n < 200; n++) w.write(numberedRecord(n));
    // A retry probe may hold a batch for a moment; held in memory means back in the queue soon.
    assert.ok(
      await waitFor(
        () => logs.some((line) => line.includes('cannot write') && line.includes('not-a-dir')),
        5000,
      ),
      logs.join('\n'),
    );
    assert.ok(await waitFor(() => w.stats().queued === 200, 5000), JSON.stringify(w.stats()));
    store.up();
    assert.ok(await waitFor(() => w.stats().written === 200, 5000), JSON.stringify(w.stats()));
    assert.equal(describeGaps(await keptNumbers(store), 200), '');
    await w.close();
    assert.equal(w.stats().dropped, 0);
  });

  test('retention prunes records older than maxAgeDays at start', async () => {
    const old = openSqliteAuditStore(join(dir, 'audit.db'));
    const day = 24 * 60 * 60 * 1000;
    await old.append(
      Array.from({ length: 20 }, (_, n) => ({
        ...numberedRecord(n),
        time: new Date(Date.now() - (n < 15 ? 10 : 1) * day).toISOString(),
      })),
    );
    await old.close();
    const store = await sqlite();
    const w = writer(store, { retention: { maxAgeDays: 5 } });
    assert.ok(
      await waitFor(() => logs.some((line) => line.includes('retention removed 15')), 2000),
      logs.join('\n'),
    );
    await w.close();
  });
}

// The gateway runs SQLite in a worker thread; the CLI and older callers in their own thread.
for (const [name, opener] of Object.entries(STORES)) {
  describe(`audit writer (SQLite ${name})`, () => {
    before(() => {
      openStore = opener;
    });
    writerTests();
  });
}
