import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anonymousPrincipal } from '../identity/principal.ts';
import { createAuditor } from './auditor.ts';
import { canonicalJson, normalizeRecord } from './chain.ts';
import type { AuditRecord } from './record.ts';
import { createRedactor } from './redact.ts';

// The store's fast path (prepared.ts) needs records whose JSON.stringify is their canonical
// JSON: keys in order at every depth, no undefined members. The auditor builds them so.
test('the auditor writes records whose plain JSON is already canonical', () => {
  const written: AuditRecord[] = [];
  const auditor = createAuditor(
    { write: (r) => written.push(r) > 0, blocked: false },
    createRedactor({ keys: ['*token*'], patterns: [], maxArgumentBytes: 4096 }),
    'gw-test',
  );
  const principal = {
    ...anonymousPrincipal(),
    kind: 'api-key' as const,
    agent: 'ci',
    user: 'ada',
    keyId: 'k1',
    roles: ['dev'],
    teams: ['blue'],
  };
  auditor.record({
    started: performance.now(),
    startedAt: Date.now(),
    method: 'tools/call',
    principal,
    facts: {
      source: '127.0.0.1',
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      client: { name: 'c', version: '1' },
    },
    session: 's1',
    virtualServer: 'ops',
    seen: {
      upstream: 'files',
      target: 'files__read',
      arguments: { z: 1, token: 'secret', a: { y: [1, { d: 1, c: 2 }], b: 'x' } },
      policy: { decision: 'allow', ruleId: 'r1' },
      upstreamMs: 1.5,
    },
    response: { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad' } },
  });
  auditor.record({
    started: performance.now(),
    startedAt: Date.now(),
    method: 'auth',
    refusal: { code: 'invalid_token', reason: 'expired', outcome: 'denied' },
  });
  assert.equal(written.length, 2);
  for (const record of written) assert.equal(JSON.stringify(record), canonicalJson(normalizeRecord(record)));
  assert.deepEqual(written[0]!.arguments, {
    a: { b: 'x', y: [1, { c: 2, d: 1 }] },
    token: '[REDACTED]',
    z: 1,
  });
});
