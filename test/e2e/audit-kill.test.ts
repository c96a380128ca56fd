// After `kill -9`, at most the flush interval's worth of audit records is lost (issue 4). A child
// process writes records at a steady rate through the real writer and SQLite store and is killed
// at a random moment; a new writer then starts on the same files (replaying any spool, as the
// next gateway process would) and the records written before the kill that are missing are
// counted, and how long before the kill the oldest of them was written. The figures go to
// docs/performance.md ("Audit").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditSchema } from '../../src/audit/schema.ts';
import { openSqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { createAuditWriter } from '../../src/audit/writer.ts';
import { keptNumbers } from '../helpers/audit.ts';

const CHILD = fileURLToPath(new URL('../fixtures/audit-writer-child.ts', import.meta.url));
const RATE = 1000;
const INTERVAL = 200;
/** More kills for a distribution: AUDIT_KILL_RUNS=20. */
const RUNS = Number(process.env['AUDIT_KILL_RUNS'] ?? 5);

interface Run {
  written: number;
  missing: number;
  /** How long before the kill the oldest lost record was handed to the writer (0: none lost). */
  lostMs: number;
}

async function killedRun(dir: string): Promise<Run> {
  const db = join(dir, 'audit.db');
  const spoolFile = join(dir, 'audit.spool');
  const child = spawn(process.execPath, [CHILD, db, spoolFile, String(RATE), String(INTERVAL)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // Let it write steadily for a while, then kill it at a moment unrelated to its flush timer.
  while (!out.includes('\n')) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 500));
  const killedAt = Date.now();
  child.kill('SIGKILL');
  await closed;
  // Lines "<highest number written> <Date.now()>", one per round of writes.
  const rounds = out
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map(Number) as [number, number]);
  const last = rounds[rounds.length - 1]![0];
  assert.ok(Number.isInteger(last) && last > 500, `child wrote too little: ${out.slice(-200)} ${err}`);

  // The next process: replays whatever the spool holds, then closes.
  const logs: string[] = [];
  const config = auditSchema.parse({ store: { type: 'sqlite', file: db }, spoolFile });
  const next = createAuditWriter(config, { store: openSqliteAuditStore(db), log: (line) => logs.push(line) });
  await next.close();
  assert.equal(next.stats().dropped, 0);

  const store = openSqliteAuditStore(db);
  const kept = await keptNumbers(store);
  await store.close();
  assert.equal(new Set(kept).size, kept.length, 'no record kept twice');
  assert.ok(
    kept.every((n, i) => i === 0 || n > kept[i - 1]!),
    'kept in order',
  );
  // Everything kept is a prefix of what was written: the lost records are the newest.
  const upToLast = kept.filter((n) => n <= last).length;
  assert.deepEqual(
    kept.slice(0, upToLast),
    Array.from({ length: upToLast }, (_, n) => n),
  );
  const missing = last + 1 - upToLast;
  // The round that wrote the first lost record: when it was written.
  const lostAt = rounds.find(([highest]) => highest >= upToLast)?.[1] ?? killedAt;
  return { written: last + 1, missing, lostMs: missing === 0 ? 0 : killedAt - lostAt };
}

test(`kill -9 loses at most the flush interval's worth of records (${RATE}/s, ${INTERVAL} ms)`, async (t) => {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-kill-'));
    try {
      runs.push(await killedRun(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const summary = runs.map((r) => `${r.missing}/${r.written} (${r.lostMs} ms)`).join(', ');
  t.diagnostic(`lost per kill: ${summary}`);
  // Records wait at most one interval before a flush, plus the time a flush takes to commit (a
  // few ms at this rate) and timer lateness on a busy machine.
  for (const run of runs) {
    assert.ok(
      run.lostMs <= INTERVAL + 100,
      `lost records written ${run.lostMs} ms before the kill: ${summary}`,
    );
  }
});
