import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ChainHead, chainRecords, EMPTY_HEAD, normalizeRecord } from './chain.ts';
import { linkPrepared, type PreparedRecord, prepareRecord } from './prepared.ts';
import type { AuditRecord } from './record.ts';
import { toRow } from './row.ts';

/** What the general path (normalize, link, canonical JSON, hash) keeps for `record` after `head`. */
function reference(record: AuditRecord, head: ChainHead) {
  const texts: string[] = [];
  const [stored] = chainRecords([normalizeRecord(record)], new Map([[record.instance, head]]), texts);
  return { stored: stored!, text: texts[0]! };
}

function assertSame(record: AuditRecord, head: ChainHead = { seq: 41, hash: 'ab'.repeat(32) }) {
  const prepared = prepareRecord(record);
  const linked = linkPrepared(prepared, head);
  const { stored, text } = reference(record, head);
  assert.equal(linked.text, text);
  assert.equal(linked.hash, stored.hash);
  const row = toRow(stored);
  const columns: Partial<Record<keyof typeof row, unknown>> = {
    id: row.id,
    time: row.time,
    instance: row.instance,
    agent: row.agent,
    user_name: row.user_name,
    target: row.target,
    method: row.method,
    outcome: row.outcome,
    trace_id: row.trace_id,
  };
  assert.deepEqual(prepared.slice(0, 9) as PreparedRecord[number][], Object.values(columns));
}

const base: AuditRecord = {
  id: '0190000000000001deadbeef',
  time: '2026-11-22T05:04:35.150Z',
  instance: 'gw-1',
  principal: { kind: 'api-key', agent: 'ci', roles: ['dev'], teams: ['blue'], keyId: 'k1' },
  method: 'tools/call',
  outcome: 'ok',
  latencyMs: 3.013,
};

test('a record as the auditor writes it: the same text and hash as the general path', () => {
  assertSame(base);
  assertSame({
    ...base,
    arguments: { text: 'hello', n: 1, deep: { z: [1, { b: 2, a: 1 }], a: null } },
    client: { name: 'agent', version: '1.0' },
    errorCode: -32602,
    policy: { decision: 'allow', ruleId: 'r1' },
    reason: 'because',
    responseBytes: 82,
    session: 's1',
    source: '127.0.0.1',
    spanId: 'd1552f875dc58226',
    target: 'bench__echo',
    traceId: 'f33742b944041a1ea4d8720e5a053553',
    upstream: 'bench',
    upstreamMs: 2.978,
    virtualServer: 'ops',
  });
  assertSame(base, EMPTY_HEAD);
});

test('odd records take the general path where they must, and still agree with it', () => {
  const odd = (extra: Record<string, unknown>) => ({ ...base, ...extra }) as unknown as AuditRecord;
  assertSame(odd({ target: 'lone \ud800 surrogate and nul \u0000' }));
  assertSame(odd({ arguments: { '\udc00key': 1, b: 'x\u0000', a: -0, c: Number.NaN, d: Infinity } }));
  assertSame(odd({ arguments: { 10: 'a', 9: 'b', x: [undefined, () => 1, 2n] } }));
  assertSame(odd({ arguments: JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') }));
  assertSame(odd({ time: new Date('2026-01-02T03:04:05Z') as unknown as string }));
  assertSame(odd({ time: '2026-01-02T03:04:05Z' }));
  assertSame(odd({ when: { toJSON: () => 'later' }, gone: { toJSON: () => undefined }, u: undefined }));
  assertSame(odd({ zz: 1, aa: 2, prevHash: 'ignored', seq: 99 }));
  assertSame(odd({ '\ud800': 'a key that is not clean text' }));
  assert.throws(() => prepareRecord(odd({ time: 'yesterday' })), /not a date/);
});

test('any JSON-like record agrees with the general path (property)', () => {
  const value = fc.jsonValue({ maxDepth: 3 });
  const text = fc.string({ unit: 'binary', maxLength: 12 });
  fc.assert(
    fc.property(
      fc.record(
        {
          arguments: fc.dictionary(text, value, { maxKeys: 5 }),
          target: text,
          reason: text,
          session: text,
          client: fc.record({ name: text, version: text }, { requiredKeys: [] }),
          extra: value,
        },
        { requiredKeys: [] },
      ),
      (extra) => assertSame({ ...base, ...extra } as AuditRecord),
    ),
    { numRuns: 300 },
  );
});
