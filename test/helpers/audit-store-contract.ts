// The rules every AuditStore keeps, run against each real store (SQLite file, PostgreSQL table).
// `sql` runs raw SQL on the store's table, as someone tampering with it would: `{t}` is the
// table's name and `$1, $2, ...` are parameters in both dialects.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AuditRecord, newRecordId, type StoredRecord } from '../../src/audit/record.ts';
import type { AuditQuery, AuditStore } from '../../src/audit/store.ts';
import { verifyChain } from '../../src/audit/verify.ts';

export interface StoreHarness {
  dialect: 'sqlite' | 'postgres';
  store: AuditStore;
  sql(text: string, ...params: unknown[]): Promise<void>;
  /** A second handle on the same file or table, as another process would have. */
  reopen(): Promise<AuditStore>;
  cleanup(): Promise<void>;
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

export function auditRecord(i: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: newRecordId(T0 + i),
    time: new Date(T0 + i * 1000).toISOString(),
    instance: 'gw-a',
    traceId: `trace-${i % 4}`,
    principal: { kind: 'api-key', agent: `agent-${i % 3}`, user: `user-${i % 2}`, teams: [`team-${i % 5}`] },
    method: 'tools/call',
    target: i % 2 ? 'files_read' : 'files_write',
    arguments: { path: `/srv/${i}`, options: { recursive: i % 2 === 0 } },
    outcome: i % 7 === 0 ? 'denied' : 'ok',
    latencyMs: i,
    ...over,
  };
}

export const records = (from: number, count: number, over: Partial<AuditRecord> = {}) =>
  Array.from({ length: count }, (_, k) => auditRecord(from + k, over));

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const ids = async (store: AuditStore, q: AuditQuery) => (await collect(store.query(q))).map((r) => r.id);

export function storeContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`${name} store`, () => {
    const withStore = (fn: (h: StoreHarness) => Promise<void>) => async () => {
      const h = await open();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    };

    test(
      'chains each instance from seq 1 and reads back exactly what append returned',
      withStore(async ({ store }) => {
        const batch = [...records(1, 3), ...records(4, 2, { instance: 'gw-b' }), ...records(6, 1)];
        const kept = await store.append(batch);
        assert.deepEqual(
          kept.map((r) => `${r.instance}:${r.seq}`),
          ['gw-a:1', 'gw-a:2', 'gw-a:3', 'gw-b:1', 'gw-b:2', 'gw-a:4'],
        );
        assert.deepEqual(await collect(store.query({})), kept);
        assert.deepEqual((await store.instances()).sort(), ['gw-a', 'gw-b']);
        for (const instance of ['gw-a', 'gw-b'])
          assert.equal((await verifyChain(store.chain(instance))).ok, true);
      }),
    );

    test(
      'keeps a replayed record once: ids already kept are skipped and numbering stays contiguous',
      withStore(async ({ store }) => {
        const first = records(1, 5);
        await store.append(first);
        assert.deepEqual(await store.append(first), []);
        const more = records(6, 2);
        const kept = await store.append([...first.slice(3), ...more, more[0]!]);
        assert.deepEqual(
          kept.map((r) => r.seq),
          [6, 7],
        );
        assert.equal((await collect(store.query({}))).length, 7);
        assert.equal((await verifyChain(store.chain('gw-a'))).checked, 7);
      }),
    );

    test(
      'a batch that fails keeps nothing, and the next one continues the chain',
      withStore(async ({ store }) => {
        await store.append(records(1, 2));
        await assert.rejects(store.append([...records(3, 2), auditRecord(5, { time: 'not a time' })]));
        assert.equal((await collect(store.query({}))).length, 2);
        assert.deepEqual(
          (await store.append(records(3, 1))).map((r) => r.seq),
          [3],
        );
      }),
    );

    test(
      'keeps awkward strings so they verify: NUL, unpaired surrogates, other scripts, deep arguments',
      withStore(async ({ store }) => {
        const reason = 'nul\u0000 lone\ud800 emoji😀 ünï "quoted", comma\nnewline';
        const [kept] = await store.append([
          auditRecord(1, { reason, arguments: { a: [{ b: { c: [1.5, null, -0] } }] } }),
        ]);
        assert.equal(kept!.reason, 'nul\uFFFD lone\uFFFD emoji😀 ünï "quoted", comma\nnewline');
        assert.deepEqual(await collect(store.query({})), [kept]);
        assert.equal((await verifyChain(store.chain('gw-a'))).ok, true);
      }),
    );

    test(
      'searches by time range, agent, user, team, tool, outcome, trace, method and instance, oldest first',
      withStore(async ({ store }) => {
        const all = await store.append([...records(0, 30), ...records(30, 5, { instance: 'gw-b' })]);
        const expect = (pick: (r: StoredRecord) => boolean) => all.filter(pick).map((r) => r.id);
        assert.deepEqual(
          await ids(store, { from: all[5]!.time, to: all[9]!.time }),
          expect((r) => r.latencyMs >= 5 && r.latencyMs < 9),
        );
        assert.deepEqual(
          await ids(store, { agent: 'agent-1' }),
          expect((r) => r.principal.agent === 'agent-1'),
        );
        assert.deepEqual(
          await ids(store, { user: 'user-0', outcome: 'denied' }),
          expect((r) => r.latencyMs % 14 === 0),
        );
        assert.deepEqual(
          await ids(store, { team: 'team-3' }),
          expect((r) => r.latencyMs % 5 === 3),
        );
        assert.deepEqual(
          await ids(store, { target: 'files_read', traceId: 'trace-1' }),
          expect((r) => r.latencyMs % 4 === 1),
        );
        assert.deepEqual(await ids(store, { method: 'initialize' }), []);
        assert.deepEqual(
          await ids(store, { instance: 'gw-b' }),
          expect((r) => r.instance === 'gw-b'),
        );
        assert.deepEqual(
          await ids(store, { agent: 'agent-0', limit: 3 }),
          expect((r) => r.principal.agent === 'agent-0').slice(0, 3),
        );
        const after = all[20]!.id;
        assert.deepEqual(await ids(store, { after, limit: 2 }), [all[21]!.id, all[22]!.id]);
      }),
    );

    test(
      'pages through more records than one page, in order, each once',
      withStore(async ({ store }) => {
        const all: string[] = [];
        for (let i = 0; i < 2_600; i += 500)
          all.push(...(await store.append(records(i, 500))).map((r) => r.id));
        assert.deepEqual(await ids(store, {}), all);
        assert.deepEqual(await ids(store, { limit: 1_234 }), all.slice(0, 1_234));
        assert.equal((await verifyChain(store.chain('gw-a'))).checked, 3_000);
      }),
    );

    test(
      'verify names a record edited, a column edited, a record deleted, in the table',
      withStore(async ({ store, sql, dialect }) => {
        const kept = await store.append(records(1, 10));
        const check = async () => (await verifyChain(store.chain('gw-a'))).problem;
        const edited =
          dialect === 'sqlite'
            ? "replace(record, '/srv/4', '/etc/shadow')"
            : "replace(record::text, '/srv/4', '/etc/shadow')::jsonb";
        await sql(`UPDATE {t} SET record = ${edited} WHERE seq = 4`);
        assert.deepEqual(await check().then((p) => [p?.kind, p?.seq, p?.id]), ['edited', 4, kept[3]!.id]);
        await sql('DELETE FROM {t} WHERE seq = 4');
        assert.deepEqual(await check().then((p) => [p?.kind, p?.seq]), ['deleted', 5]);
        await sql(`UPDATE {t} SET agent = $1 WHERE seq = 7`, 'someone-else');
        assert.deepEqual(await check().then((p) => p?.kind), 'deleted');
        await sql('DELETE FROM {t} WHERE seq <= 5');
        assert.deepEqual(await check().then((p) => [p?.kind, p?.seq]), ['edited', 7]);
      }),
    );

    test(
      'prune deletes a prefix of each chain by age and by count, keeps each head, and what is left verifies',
      withStore(async ({ store }) => {
        const a = await store.append(records(0, 20));
        await store.append(records(0, 3, { instance: 'gw-b' }));
        assert.equal(await store.prune({ before: a[10]!.time }), 10 + 2);
        const left = await verifyChain(store.chain('gw-a'));
        assert.deepEqual([left.ok, left.first?.seq, left.checked], [true, 11, 10]);
        assert.equal((await verifyChain(store.chain('gw-b'))).first?.seq, 3);
        assert.equal(await store.prune({ maxRecords: 5 }), 6);
        assert.deepEqual(
          (await collect(store.query({}))).map((r) => `${r.instance}:${r.seq}`).sort(),
          ['gw-a:17', 'gw-a:18', 'gw-a:19', 'gw-a:20', 'gw-b:3'].sort(),
        );
        assert.deepEqual(
          (await store.append(records(30, 1))).map((r) => r.seq),
          [21],
        );
        assert.equal((await verifyChain(store.chain('gw-a'))).ok, true);
      }),
    );

    test(
      'two handles appending for one instance continue one chain',
      withStore(async ({ store, reopen }) => {
        const other = await reopen();
        try {
          await Promise.all(
            Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).append(records(i * 10, 10))),
          );
        } finally {
          await other.close();
        }
        const result = await verifyChain(store.chain('gw-a'));
        assert.deepEqual([result.ok, result.checked, result.last?.seq], [true, 200, 200]);
      }),
    );
  });
}
