// Fault tests for the audit writer against a real PostgreSQL server that the test starts itself
// (its own data folder and port; the machine's shared server is left alone), stopped and
// restarted mid-traffic (issue 4):
// - spool: records keep coming while the server is stopped (cleanly, then crashed); afterwards
//   the table holds each record written exactly once, in order, the chain intact, none dropped;
// - block: calls are refused while the server is down and accepted again once it is back, and
//   every accepted record is kept.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openAuditStore } from '../../src/audit/open-store.ts';
import { auditSchema } from '../../src/audit/schema.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { type AuditWriter, createAuditWriter } from '../../src/audit/writer.ts';
import { describeGaps, keptNumbers, numberedRecord } from '../helpers/audit.ts';
import { type PostgresInstance, postgresUnavailable, startPostgres } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/processes.ts';

const unavailable = postgresUnavailable();
const { Client } = pg;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `write(n)` for n = 0, 1, ... at `perSecond` until `stop()`; `count` is how many were accepted. */
function steadily(perSecond: number, write: (n: number) => boolean) {
  let n = 0;
  let running = true;
  const started = performance.now();
  const timer = setInterval(() => {
    if (!running) return;
    const due = Math.floor(((performance.now() - started) * perSecond) / 1000);
    // A refused write is retried with the same number on the next round.
    while (n < due && write(n)) n++;
  }, 2);
  return {
    get count() {
      return n;
    },
    stop() {
      running = false;
      clearInterval(timer);
      return n;
    },
  };
}

describe('audit writer against a PostgreSQL server stopped and restarted mid-traffic', {
  skip: unavailable,
}, () => {
  let server: PostgresInstance;
  let dir: string;
  const logs: string[] = [];
  const writers: AuditWriter[] = [];

  before(async () => {
    server = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-pg-'));
  });
  after(async () => {
    for (const writer of writers) await writer.close(1000);
    await server?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(table: string, onFailure: 'spool' | 'block') {
    const config = auditSchema.parse({
      store: { type: 'postgres', url: server.url, table },
      spoolFile: join(dir, `${table}.spool`),
      flushIntervalMs: 50,
      onFailure,
    });
    const writer = createAuditWriter(config, {
      store: await openAuditStore(config.store),
      log: (line) => logs.push(`${table}: ${line}`),
    });
    writers.push(writer);
    return { config, writer };
  }

  /** Reads the table back through a fresh store: the chain verified, the record numbers in order. */
  async function kept(table: string): Promise<number[]> {
    // Counted by the server too, independently of the store's reader.
    const client = new Client({ connectionString: server.url });
    await client.connect();
    const counted = await client.query(
      `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, count(DISTINCT target)::int AS numbers FROM "${table}"`,
    );
    await client.end();
    const { rows, ids, numbers } = counted.rows[0] as { rows: number; ids: number; numbers: number };
    assert.ok(rows === ids && ids === numbers, `duplicates in ${table}: ${JSON.stringify(counted.rows[0])}`);
    const store = await openAuditStore({ type: 'postgres', url: server.url, table });
    try {
      const verified = await verifyChain(store.chain('test-gw'));
      assert.ok(verified.ok, `chain broken: ${JSON.stringify(verified.problem)}`);
      return await keptNumbers(store);
    } finally {
      await store.close();
    }
  }

  test('spool: stopped (fast) and crashed (immediate) mid-traffic, every record is kept exactly once, in order', async (t) => {
    const { writer } = await open('audit_spool', 'spool');
    let maxSpooled = 0;
    let sawDown = false;
    const watch = setInterval(() => {
      const stats = writer.stats();
      maxSpooled = Math.max(maxSpooled, stats.spooled);
      if (!stats.storeUp) sawDown = true;
    }, 10);
    const traffic = steadily(500, (n) => writer.write(numberedRecord(n)));
    try {
      await sleep(800);
      await server.stop('fast');
      await sleep(1200);
      await server.start();
      await sleep(1200);
      await server.stop('immediate');
      await sleep(1000);
      await server.start();
      await sleep(800);
    } finally {
      traffic.stop();
    }
    const count = traffic.count;
    const settled = await waitFor(() => {
      const s = writer.stats();
      return s.written === count && s.spooled === 0 && s.queued === 0;
    }, 20_000);
    clearInterval(watch);
    assert.ok(settled, `not all written: ${JSON.stringify(writer.stats())}\n${logs.join('\n')}`);
    await writer.close();
    const stats = writer.stats();
    if (process.env['AUDIT_PG_LOGS']) console.log(logs.join('\n'));
    t.diagnostic(`${count} records, at most ${maxSpooled} spooled at once; ${JSON.stringify(stats)}`);
    assert.ok(sawDown && maxSpooled > 0, 'the outage was seen and records were spooled');
    assert.equal(stats.dropped, 0);
    assert.equal(describeGaps(await kept('audit_spool'), count), '');
  });

  test('block: calls are refused while the server is down and accepted again once it is back', async () => {
    const { writer } = await open('audit_block', 'block');
    let refused = 0;
    let refusedWhileUp = 0;
    let down = false;
    const traffic = steadily(300, (n) => {
      if (writer.write(numberedRecord(n))) return true;
      refused++;
      if (!down) refusedWhileUp++;
      return false;
    });
    let acceptedWhileDown: number;
    try {
      await sleep(500);
      down = true;
      await server.stop('fast');
      assert.ok(await waitFor(() => writer.blocked, 3000), 'blocked once the store fails');
      const atBlock = traffic.count;
      await sleep(800);
      acceptedWhileDown = traffic.count - atBlock;
      assert.ok(refused > 0, 'calls refused while down');
      await server.start();
      assert.ok(await waitFor(() => !writer.blocked, 10_000), 'accepted again once the server is back');
      down = false;
      const atUnblock = traffic.count;
      await sleep(500);
      assert.ok(traffic.count > atUnblock + 50, 'records accepted after the server came back');
    } finally {
      traffic.stop();
    }
    assert.equal(acceptedWhileDown, 0, 'nothing accepted while blocked');
    assert.equal(refusedWhileUp, 0);
    const count = traffic.count;
    assert.ok(await waitFor(() => writer.stats().written === count, 10_000), JSON.stringify(writer.stats()));
    await writer.close();
    assert.equal(writer.stats().dropped, 0);
    assert.equal(describeGaps(await kept('audit_block'), count), '');
  });
});
