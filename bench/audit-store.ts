// Audit store figures: append throughput per store (batches of 500, as the writer sends them)
// and the memory an export of a million records takes (what the stores cost the event loop:
// bench/audit-loop.ts). Too slow for the test suite (~1 min), so it is a bench;
// docs/performance.md has the figures.
//
//   node --expose-gc bench/audit-store.ts [--records 1000000] [--pg postgres://...|--no-pg]
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type ExportFormat, exportRecords } from '../src/audit/export.ts';
import { openPostgresAuditStore } from '../src/audit/postgres-store.ts';
import { openSqliteAuditStore } from '../src/audit/sqlite-store.ts';
import { openSqliteWorkerStore } from '../src/audit/sqlite-worker-store.ts';
import type { AuditStore } from '../src/audit/store.ts';
import { auditRecord } from '../test/helpers/audit-store-contract.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'no-pg': { type: 'boolean', default: false },
  },
});
const EXPORT_RECORDS = Number(values.records);
const BATCH = 500;
const exposedGc = (globalThis as { gc?: () => void }).gc;
if (!exposedGc) throw new Error('run with node --expose-gc');
const gc = exposedGc;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Appends `count` records in batches of 500; records/s and ms per batch (median, worst). */
async function appendRate(store: AuditStore, count: number) {
  const times: number[] = [];
  for (let i = 0; i < count; i += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, k) => auditRecord(i + k));
    const start = performance.now();
    await store.append(batch);
    times.push(performance.now() - start);
  }
  const total = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  return {
    perSecond: Math.round((count / total) * 1000),
    medianBatchMs: times[times.length >> 1]!.toFixed(2),
    worstBatchMs: times[times.length - 1]!.toFixed(2),
  };
}

/** Fills a SQLite file with `count` records: one real batch, then copies made by SQL (fast). */
async function fill(file: string, count: number) {
  const store = openSqliteAuditStore(file);
  await store.append([auditRecord(0)]);
  await store.close();
  const db = new DatabaseSync(file);
  db.exec(`BEGIN;
    WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
    INSERT INTO audit (id, time, instance, seq, agent, user_name, target, method, outcome, trace_id, prev_hash, hash, record)
    SELECT printf('%024x', i), strftime('%Y-%m-%dT%H:%M:%fZ', 1772359200 + i / 1000.0, 'unixepoch'), instance, i,
      'agent-' || (i % 7), user_name, target, method, outcome, trace_id, prev_hash, hash, record
    FROM n, (SELECT * FROM audit WHERE seq = 1);
    COMMIT;`);
  db.close();
}

/**
 * Exports everything to /dev/null. Every 200 ms: RSS, and the heap after a full GC (what is
 * live, not garbage waiting for the collector); growth over the idle baseline.
 */
async function exportMemory(file: string, format: ExportFormat, inWorker = false) {
  const store = inWorker ? await openSqliteWorkerStore(file) : openSqliteAuditStore(file);
  gc();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakLive = base.heapUsed;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    gc();
    peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
  }, 200);
  const out = createWriteStream('/dev/null');
  const start = performance.now();
  const count = await exportRecords(store.query({}), out, format);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  await new Promise<void>((resolve) => out.end(resolve));
  await store.close();
  return {
    format,
    count,
    seconds: seconds.toFixed(1),
    perSecond: Math.round(count / seconds),
    liveHeapGrowthMb: mb(peakLive - base.heapUsed),
    rssGrowthMb: mb(peakRss - base.rss),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-bench-'));
try {
  const sqlite = openSqliteAuditStore(join(dir, 'append.db'));
  console.log('SQLite append, 100,000 records:', await appendRate(sqlite, 100_000));
  await sqlite.close();
  const worker = await openSqliteWorkerStore(join(dir, 'append-worker.db'));
  console.log('SQLite in a worker thread, append, 100,000 records:', await appendRate(worker, 100_000));
  await worker.close();

  if (!values['no-pg']) {
    const table = `audit_bench_${randomBytes(4).toString('hex')}`;
    const store = openPostgresAuditStore({ url: values.pg, table });
    try {
      console.log('PostgreSQL append, 50,000 records:', await appendRate(store, 50_000));
    } finally {
      await store.close();
      const client = new pg.Client({ connectionString: values.pg });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS "${table}"`);
      await client.end();
    }
  }

  const file = join(dir, 'export.db');
  const start = performance.now();
  await fill(file, EXPORT_RECORDS);
  console.log(`Filled ${EXPORT_RECORDS} records in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  for (const format of ['jsonl', 'csv'] as const) console.log('Export:', await exportMemory(file, format));
  // The heap measured is the gateway thread's; RSS includes the worker's.
  console.log('Export, SQLite in a worker thread:', await exportMemory(file, 'jsonl', true));
} finally {
  await rm(dir, { recursive: true, force: true });
}
