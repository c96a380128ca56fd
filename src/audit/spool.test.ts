// The spool on its own: segments replayed oldest first, what a previous process left sealed and
// counted, unreadable lines skipped with their place named, and a segment deleted only after
// its last batch is committed.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { numberedRecord } from '../../test/helpers/audit.ts';
import { openSpool, type Spool } from './spool.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function fresh() {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-spool-'));
  roots.push(dir);
  return { dir, file: join(dir, 'audit.spool') };
}

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${JSON.stringify(numberedRecord(from + i))}\n`).join('');

/** Replays everything, committing each batch; returns the record numbers in order. */
async function replayAll(spool: Spool, max: number): Promise<number[]> {
  const numbers: number[] = [];
  for (let batch = await spool.next(max); batch; batch = await spool.next(max)) {
    numbers.push(...batch.records.map((r) => Number(r.target)));
    await spool.commit(batch);
  }
  return numbers;
}

test('replays sealed segments, then what a previous process left active, then new records, in order', async () => {
  const { dir, file } = await fresh();
  await writeFile(`${file}.2`, lines(0, 10));
  await writeFile(`${file}.10`, lines(10, 25));
  await writeFile(file, lines(25, 30));
  const logs: string[] = [];
  const spool = openSpool(file, (line) => logs.push(line));
  await spool.ready;
  assert.equal(spool.pending, 30);
  assert.ok(logs.some((line) => line.includes('30 spooled record(s) from an earlier run')));
  assert.ok(await spool.append([30, 31, 32].map((n) => numberedRecord(n))));
  assert.equal(spool.pending, 33);
  assert.deepEqual(
    await replayAll(spool, 4),
    Array.from({ length: 33 }, (_, n) => n),
  );
  assert.equal(spool.pending, 0);
  assert.equal(spool.hasPending(), false);
  assert.deepEqual(await readdir(dir), []);
  await spool.close();
});

test('a segment stays on disk until its last batch is committed', async () => {
  const { dir, file } = await fresh();
  const spool = openSpool(file, () => {});
  await spool.append(Array.from({ length: 10 }, (_, n) => numberedRecord(n)));
  const first = await spool.next(6);
  assert.equal(first?.records.length, 6);
  assert.equal(first?.last, false);
  await spool.commit(first!);
  const second = await spool.next(6);
  assert.equal(second?.records.length, 4);
  assert.deepEqual(await readdir(dir), ['audit.spool.1'], 'sealed for replay, not yet deleted');
  // A crash now would leave the segment whole: the next process replays all of it, and the
  // store skips the ids it already has.
  await spool.commit(second!);
  assert.deepEqual(await readdir(dir), []);
  await spool.close();
});

test('skips unreadable lines and a torn last line, naming where they are', async () => {
  const { file } = await fresh();
  await writeFile(file, `${lines(0, 3)}not json\n{"no":"id"}\n${lines(3, 5)}{"id":"cut`);
  const logs: string[] = [];
  const spool = openSpool(file, (line) => logs.push(line));
  assert.deepEqual(await replayAll(spool, 100), [0, 1, 2, 3, 4]);
  assert.ok(
    logs.some((line) => line.includes('unreadable line') && line.includes('line 4')),
    logs.join('\n'),
  );
  assert.ok(logs.some((line) => line.includes('unreadable line') && line.includes('line 5')));
  assert.ok(logs.some((line) => line.includes('torn last line') && line.includes('line 8')));
  await spool.close();
});

test('spool files are readable by their owner only', async () => {
  const { file } = await fresh();
  const spool = openSpool(file, () => {});
  await spool.append([numberedRecord(0)]);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await spool.close();
});

test('a spool that cannot be written says so and keeps nothing', async () => {
  const { dir } = await fresh();
  await writeFile(join(dir, 'file'), '');
  const logs: string[] = [];
  const spool = openSpool(join(dir, 'file', 'audit.spool'), (line) => logs.push(line));
  assert.equal(await spool.append([numberedRecord(0)]), false);
  assert.equal(spool.pending, 0);
  assert.equal(await spool.next(10), undefined);
  assert.ok(logs.some((line) => line.includes('cannot write 1 record(s)')));
  await spool.close();
});
