import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ChainHead,
  canonicalJson,
  chainRecords,
  GENESIS,
  normalizeRecord,
  recordHash,
} from './chain.ts';
import { type AuditRecord, newRecordId, type StoredRecord } from './record.ts';
import { verifyChain } from './verify.ts';

function record(i: number, instance = 'gw-1'): AuditRecord {
  return {
    id: newRecordId(1_700_000_000_000 + i),
    time: new Date(1_700_000_000_000 + i).toISOString(),
    instance,
    principal: { kind: 'api-key', agent: `agent-${i % 3}`, teams: ['blue'] },
    method: 'tools/call',
    target: 'files_read',
    arguments: { path: `/tmp/${i}`, nested: { b: 1, a: [1, 'x'] } },
    outcome: 'ok',
    latencyMs: i,
  };
}

function chain(count: number): StoredRecord[] {
  return chainRecords(
    Array.from({ length: count }, (_, i) => normalizeRecord(record(i))),
    new Map<string, ChainHead>(),
  );
}

async function* stream(records: StoredRecord[]) {
  yield* records;
}

/** Re-hashes a record the way someone who edits it and recomputes its hash would. */
const rehash = (r: StoredRecord): StoredRecord => ({ ...r, hash: recordHash(r) });

describe('canonical JSON', () => {
  test('sorts keys at every depth and leaves out undefined members', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { z: 2, y: undefined }], c: 'x' }, u: undefined }),
      '{"a":{"c":"x","d":[1,{"z":2}]},"b":1}',
    );
  });

  test('the same record in another key order has the same hash', () => {
    const [r] = chain(1);
    const reversed = (v: unknown): unknown =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, m]) => [k, reversed(m)]),
          )
        : v;
    const shuffled = reversed(r) as StoredRecord;
    assert.notEqual(JSON.stringify(shuffled), JSON.stringify(r));
    assert.equal(recordHash(shuffled), r!.hash);
  });

  test('normalizing gives what a JSON round trip gives, in one walk', () => {
    const odd = {
      when: new Date(0),
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      list: [undefined, () => 1, -0, 'x'],
      fn: () => 1,
      gone: undefined,
      ...JSON.parse('{"__proto__": {"polluted": true}, "10": 1, "9": 2}'),
    };
    const r = { ...record(1), arguments: odd };
    assert.deepEqual(normalizeRecord(r), JSON.parse(JSON.stringify(r)));
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(recordHash({ ...normalizeRecord(r), seq: 1, prevHash: GENESIS }).length, 64);
  });

  test('normalizing makes strings jsonb accepts and times in toISOString form', () => {
    const r = normalizeRecord({ ...record(1), time: '2026-01-02T03:04:05Z', reason: 'a\u0000b\ud800' });
    assert.equal(r.time, '2026-01-02T03:04:05.000Z');
    assert.equal(r.reason, 'a\uFFFDb\uFFFD');
    assert.throws(() => normalizeRecord({ ...record(1), time: 'yesterday' }), /not a date/);
  });

  test('writes what sorting every object writes, whether or not the native fast path applies', () => {
    // The definition, written out the slow way.
    const sorted = (v: unknown): string => {
      if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
      if (Array.isArray(v)) return `[${v.map((item) => sorted(item ?? null)).join(',')}]`;
      return `{${Object.keys(v)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${sorted((v as Record<string, unknown>)[k])}`)
        .join(',')}}`;
    };
    let deep: unknown = { b: 1, a: 2 };
    for (let i = 0; i < 100; i++) deep = [{ x: deep }];
    const values: unknown[] = [
      { a: 1, b: { c: [1, 'x', null, true, 1.5e-7] } },
      { 9: 'nine', 10: 'ten', a: 1 },
      { 1: 'one', 2: 'two' },
      { '\uffff': 1, '😀': 2, é: 3 },
      { a: new Date(0), b: { toJSON: () => 'x' } },
      { a: () => 1, b: [() => 1, Symbol('s'), undefined], c: undefined },
      { a: -0, b: Number.NaN, c: Number.POSITIVE_INFINITY },
      Object.assign(new Array(3), { 0: 1, 2: 3 }),
      Object.assign(Object.create(null), { a: 1, b: 2 }),
      new (class Point {
        x = 1;
        y = 2;
      })(),
      JSON.parse('{"__proto__": {"b": 1, "a": 2}, "z": 0}'),
      deep,
      'text',
      42,
      null,
    ];
    for (const value of values) assert.equal(canonicalJson(value), sorted(value), sorted(value));
  });

  test('a fixed record keeps its hash (chains stored before the fast path still verify)', () => {
    const [stored] = chainRecords(
      [
        normalizeRecord({
          id: '018e2b5c4a000000deadbeef',
          time: '2026-03-01T10:00:00Z',
          instance: 'gw-1',
          principal: { kind: 'api-key', agent: 'agent-1', teams: ['blue', 'red'] },
          method: 'tools/call',
          target: 'files_read',
          outcome: 'ok',
          latencyMs: 1.5,
          arguments: {
            z: [1, { b: 'é😀', a: null }],
            10: 'ten',
            9: 'nine',
            a: { '': true, A: -0 },
            nul: 'x\u0000y',
            lone: '\ud800',
          },
        }),
      ],
      new Map(),
    );
    assert.equal(stored!.hash, 'cd4fda377127ce0936411bdd1b125d2ee6e97d0e4f75eb596b01f66d288ea337');
    assert.equal(recordHash(stored!), stored!.hash);
  });
});

describe('chaining', () => {
  test('numbers each instance from 1, links each record to the one before, starts at the genesis', () => {
    const heads = new Map<string, ChainHead>();
    const out = chainRecords([record(1, 'a'), record(2, 'b'), record(3, 'a')].map(normalizeRecord), heads);
    assert.deepEqual(
      out.map((r) => [r.instance, r.seq]),
      [
        ['a', 1],
        ['b', 1],
        ['a', 2],
      ],
    );
    assert.equal(out[0]!.prevHash, GENESIS);
    assert.equal(out[2]!.prevHash, out[0]!.hash);
    assert.deepEqual(heads.get('a'), { seq: 2, hash: out[2]!.hash });
  });
});

describe('verifyChain', () => {
  test('an intact chain is ok and reports the range it checked', async () => {
    const records = chain(5);
    const result = await verifyChain(stream(records));
    assert.equal(result.ok, true);
    assert.equal(result.checked, 5);
    assert.equal(result.first?.seq, 1);
    assert.equal(result.first?.fromGenesis, true);
    assert.equal(result.last?.hash, records[4]!.hash);
  });

  test('an empty chain is ok with nothing checked', async () => {
    assert.deepEqual(await verifyChain(stream([])), { ok: true, checked: 0 });
  });

  test('a pruned prefix is expected: verification starts at the oldest record kept', async () => {
    const result = await verifyChain(stream(chain(10).slice(4)));
    assert.equal(result.ok, true);
    assert.equal(result.first?.seq, 5);
    assert.equal(result.first?.fromGenesis, false);
    assert.equal(result.checked, 6);
  });

  test('names an edited record', async () => {
    const records = chain(6);
    records[3] = { ...records[3]!, outcome: 'denied' };
    const { ok, problem } = await verifyChain(stream(records));
    assert.equal(ok, false);
    assert.deepEqual([problem?.kind, problem?.seq, problem?.id], ['edited', 4, records[3]!.id]);
  });

  test('names an edited record whose hash was recomputed, at the link it broke', async () => {
    const records = chain(6);
    records[2] = rehash({ ...records[2]!, arguments: { path: '/etc/passwd' } });
    const { problem } = await verifyChain(stream(records));
    assert.deepEqual([problem?.kind, problem?.seq], ['edited', 3]);
  });

  test('an edit of the last record shows too', async () => {
    const records = chain(3);
    records[2] = { ...records[2]!, latencyMs: 1 };
    assert.deepEqual((await verifyChain(stream(records))).problem?.seq, 3);
  });

  test('names a deletion by the record after the gap and the seq numbers missing', async () => {
    const records = chain(8);
    records.splice(3, 2);
    const { problem } = await verifyChain(stream(records));
    assert.deepEqual([problem?.kind, problem?.seq], ['deleted', 6]);
    assert.match(problem!.message, /seq 4-5 are missing/);
  });

  test('names a deletion hidden by renumbering the records after it', async () => {
    const records = chain(6);
    records.splice(2, 1);
    for (let i = 2; i < records.length; i++) records[i] = { ...records[i]!, seq: i + 1 };
    const { problem } = await verifyChain(stream(records));
    assert.deepEqual([problem?.kind, problem?.seq], ['deleted', 3]);
  });

  test('names an inserted record that the chain goes on across', async () => {
    const records = chain(6);
    const forged = rehash({
      ...normalizeRecord(record(99)),
      seq: 3,
      prevHash: records[1]!.hash,
    } as StoredRecord);
    records.splice(2, 0, forged);
    const { problem } = await verifyChain(stream(records));
    assert.deepEqual([problem?.kind, problem?.id], ['inserted', forged.id]);
  });

  test('names an inserted record after which the rest were renumbered', async () => {
    const records = chain(6);
    const forged = rehash({
      ...normalizeRecord(record(99)),
      seq: 3,
      prevHash: records[1]!.hash,
    } as StoredRecord);
    const after = records.slice(2).map((r) => ({ ...r, seq: r.seq + 1 }));
    const { problem } = await verifyChain(stream([...records.slice(0, 2), forged, ...after]));
    assert.deepEqual([problem?.kind, problem?.id], ['inserted', forged.id]);
  });

  test('names an inserted first record', async () => {
    const records = chain(3);
    const forged = rehash({ ...normalizeRecord(record(99)), seq: 1, prevHash: GENESIS } as StoredRecord);
    const { problem } = await verifyChain(stream([forged, ...records]));
    assert.deepEqual([problem?.kind, problem?.id], ['inserted', forged.id]);
  });

  test('names two records read in the wrong order (a shuffled export)', async () => {
    const records = chain(6);
    [records[2], records[3]] = [records[3]!, records[2]!];
    const { problem } = await verifyChain(stream(records));
    assert.deepEqual([problem?.kind, problem?.seq], ['reordered', 4]);
  });

  test('names two records whose seq numbers were swapped in the store', async () => {
    const records = chain(6);
    const [a, b] = [records[2]!, records[3]!];
    records[2] = { ...b, seq: a.seq };
    records[3] = { ...a, seq: b.seq };
    const { problem } = await verifyChain(stream(records));
    assert.deepEqual([problem?.kind, problem?.id], ['reordered', b.id]);
  });
});
