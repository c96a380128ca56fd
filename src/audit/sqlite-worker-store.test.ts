import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collect, records, storeContract } from '../../test/helpers/audit-store-contract.ts';
import { openSqliteWorkerStore, SEARCH_PAGE, type WorkerAuditStore } from './sqlite-worker-store.ts';
import { verifyChain } from './verify.ts';

storeContract('SQLite in a worker thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-worker-'));
  const file = join(dir, 'audit.db');
  const store = await openSqliteWorkerStore(file);
  return {
    dialect: 'sqlite',
    store,
    async sql(text, ...params) {
      const db = new DatabaseSync(file, { timeout: 5_000 });
      try {
        db.prepare(text.replaceAll('{t}', 'audit').replace(/\$(\d+)/g, '?$1')).run(...(params as string[]));
      } finally {
        db.close();
      }
    },
    reopen: () => openSqliteWorkerStore(file),
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store in a worker thread', () => {
  const withStore =
    (fn: (store: WorkerAuditStore, logs: string[], dir: string) => Promise<void>) => async () => {
      const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-worker-'));
      const logs: string[] = [];
      const store = await openSqliteWorkerStore(join(dir, 'audit.db'), { log: (line) => logs.push(line) });
      try {
        await fn(store, logs, dir);
      } finally {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      }
    };

  test(
    'a worker that dies fails the appends waiting on it, is logged, and the next append starts a new one',
    withStore(async (store, logs) => {
      await store.append(records(0, 10));
      const dying = store.worker!;
      const first = records(10, 500);
      const second = records(510, 5_000);
      const waiting = [store.append(first), store.append(second)];
      // Both sent, the worker busy with the first (~10 ms) and the second (~100 ms) behind it.
      await new Promise((resolve) => setImmediate(resolve));
      await dying.terminate();
      const settled = await Promise.allSettled(waiting);
      // The first may have been kept before the worker stopped; the second was not answered.
      assert.equal(settled[1]!.status, 'rejected');
      assert.match(String((settled[1] as PromiseRejectedResult).reason), /worker stopped/);
      assert.match(
        logs.join('\n'),
        /worker stopped \(exit code 1\); [12] call\(s\) failed, a new worker starts/,
      );

      // The writer's replay: everything not acknowledged, again; what was kept is skipped by id.
      const kept = await store.append([...first, ...second, ...records(5_510, 5)]);
      assert.notEqual(store.worker, dying);
      assert.equal(kept.at(-1)!.seq, 5_515);
      assert.equal((await collect(store.query({}))).length, 5_515);
      assert.equal((await verifyChain(store.chain('gw-a'))).ok, true);
    }),
  );

  test(
    'a reader that stops early drops its cursor in the worker; one that finishes leaves none',
    withStore(async (store) => {
      for (let i = 0; i < 2_000; i += 500) await store.append(records(i, 500));
      for await (const _ of store.query({})) break;
      assert.equal((await store.cursors()).open, 0);

      let read = 0;
      await assert.rejects(async () => {
        for await (const _ of store.chain('gw-a')) if (++read === 700) throw new Error('reader failed');
      }, /reader failed/);
      assert.equal((await store.cursors()).open, 0);

      const open = store.query({})[Symbol.asyncIterator]();
      await open.next();
      assert.equal((await store.cursors()).open, 1);
      await open.return?.();
      assert.equal((await store.cursors()).open, 0);

      assert.equal((await collect(store.query({}))).length, 2_000);
      assert.equal((await store.cursors()).open, 0);
    }),
  );

  test(
    'a reader forgotten mid-way (never finished, never returned) drops its cursor once collected',
    withStore(async (store) => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      await store.append(records(0, 1_500));
      await (async () => {
        const forgotten = store.query({})[Symbol.asyncIterator]();
        await forgotten.next();
      })();
      assert.equal((await store.cursors()).open, 1);
      for (let i = 0; i < 50 && (await store.cursors()).open > 0; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal((await store.cursors()).open, 0);
    }),
  );

  test(
    'a search asks for one page at a time: a reader that waits holds the worker one page ahead',
    withStore(async (store) => {
      const pages = 6;
      await store.append(records(0, SEARCH_PAGE * pages));
      const before = (await store.cursors()).pagesSent;
      const reader = store.query({})[Symbol.asyncIterator]();
      await reader.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The page being read and the next; nothing more while the reader waits.
      assert.equal((await store.cursors()).pagesSent - before, 2);
      for (let i = 1; i <= SEARCH_PAGE; i++) await reader.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await store.cursors()).pagesSent - before, 3);
      const rest = await collect({ [Symbol.asyncIterator]: () => reader });
      assert.equal(rest.length, SEARCH_PAGE * (pages - 1) - 1);
      // The last page is empty: a full page cannot tell that it was the last.
      assert.deepEqual(await store.cursors(), { open: 0, pagesSent: before + pages + 1 });
    }),
  );

  test(
    'an append the store refuses rejects with its reason, and the worker goes on',
    withStore(async (store, logs) => {
      const worker = store.worker;
      await assert.rejects(store.append([{ ...records(0, 1)[0]!, time: 'never' }]), (error: Error) => {
        assert.equal(error.name, 'TypeError');
        assert.match(error.message, /time never is not a date/);
        return true;
      });
      assert.equal((await store.append(records(0, 1))).length, 1);
      assert.equal(store.worker, worker);
      assert.deepEqual(logs, []);
    }),
  );

  test('opening a file that cannot be opened rejects with the reason', async () => {
    const logs: string[] = [];
    await assert.rejects(
      openSqliteWorkerStore(join(tmpdir(), 'no-such-dir-gatehouse', 'audit.db'), {
        log: (l) => logs.push(l),
      }),
      /unable to open database file/,
    );
    assert.match(logs.join('\n'), /could not open/);
  });

  test(
    'after close every call rejects and the worker has ended',
    withStore(async (store) => {
      const worker = store.worker!;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      await store.append(records(0, 3));
      await store.close();
      await exited;
      await assert.rejects(store.append(records(3, 1)), /closed/);
      await assert.rejects(store.instances(), /closed/);
    }),
  );
});
