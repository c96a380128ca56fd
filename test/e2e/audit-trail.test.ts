// The audit trail end to end: real clients (SDK v1, session era; raw 2026-07-28 requests) call
// through a gateway with API keys and a policy, in front of a real upstream; afterwards the
// SQLite store holds exactly one record per interaction — refusals included — with who, what,
// where, how it ended and why, arguments redacted, and the chain intact.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { StoredRecord } from '../../src/audit/record.ts';
import { openSqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { createKeyStore } from '../../src/identity/key-store.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
let dir: string;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let opsKey: string;
let internKey: string;
let records: StoredRecord[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-trail-'));
  const file = join(dir, 'keys.json');
  const keys = createKeyStore({ path: file });
  opsKey = keys.create({ name: 'ops-agent', roles: ['ops'], team: 'platform' }).key;
  internKey = keys.create({ name: 'intern-agent', roles: ['intern'] }).key;
  gateway = await startTestGateway({
    auth: { anonymous: false, apiKeys: { file } },
    audit: {
      store: { type: 'sqlite', file: join(dir, 'audit.db') },
      spoolFile: join(dir, 'audit.spool'),
      instance: 'gw-test',
    },
    upstreams: { memory: { ...stdio(servers.memory), share: 'gateway' } },
    policy: {
      unmatched: 'deny',
      rules: [
        { id: 'ops-everything', effect: 'allow', principals: { roles: ['ops'] } },
        {
          id: 'intern-reads',
          effect: 'allow',
          principals: { roles: ['intern'] },
          targets: { tools: ['memory__read_graph', 'memory__search_nodes'] },
        },
        {
          id: 'short-searches',
          effect: 'deny',
          principals: { roles: ['intern'] },
          targets: { tools: ['memory__search_nodes'] },
          when: 'size(args.query) > 10',
        },
      ],
    },
  });

  // The traffic the records must describe.
  const ops = await connect(opsKey, { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` });
  await ops.listTools();
  await ops.callTool({
    name: 'memory__create_entities',
    arguments: {
      entities: [{ name: 'x', entityType: 't', observations: ['api_key=abc'] }],
      password: 'hunter2',
    },
  });
  await ops.close();
  const intern = await connect(internKey);
  await intern
    .callTool({ name: 'memory__search_nodes', arguments: { query: 'a long query here' } })
    .catch(() => {});
  await intern
    .callTool({ name: 'memory__delete_entities', arguments: { entityNames: ['x'] } })
    .catch(() => {});
  await intern.close();
  await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { authorization: 'Bearer gh_not_a_real_key', 'content-type': 'application/json' },
    body: '{}',
  });
  await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${opsKey}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': 'no-such-session',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await gateway.close(); // Flushes every record.
  const store = openSqliteAuditStore(join(dir, 'audit.db'));
  records = [];
  for await (const r of store.query({})) records.push(r);
  await store.close();
});

after(() => rm(dir, { recursive: true, force: true }));

async function connect(key: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: 'audit-test-client', version: '3.1.4' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}`, ...headers } },
    }),
  );
  return client;
}

const find = (predicate: (r: StoredRecord) => boolean) => {
  const found = records.filter(predicate);
  assert.equal(found.length, 1, `expected one matching record among:\n${records.map(summary).join('\n')}`);
  return found[0]!;
};
const summary = (r: StoredRecord) =>
  `${r.method} ${r.target ?? ''} ${r.principal.agent ?? r.principal.kind} ${r.outcome}`;

test('every interaction left exactly one record, in order, and nothing more', () => {
  assert.deepEqual(records.map(summary), [
    'initialize  ops-agent ok',
    'tools/list  ops-agent ok',
    'tools/call memory__create_entities ops-agent ok',
    'initialize  intern-agent ok',
    'tools/call memory__search_nodes intern-agent denied',
    'tools/call memory__delete_entities intern-agent denied',
    'auth  none denied',
    'http POST /mcp ops-agent error',
  ]);
});

test('a call record says who, from which client, where it went, how long it took, and carries the trace', () => {
  const call = find((r) => r.target === 'memory__create_entities');
  assert.equal(call.instance, 'gw-test');
  assert.deepEqual(call.principal, {
    kind: 'api-key',
    agent: 'ops-agent',
    teams: ['platform'],
    roles: ['ops'],
    keyId: call.principal.keyId,
  });
  assert.match(call.principal.keyId ?? '', /^[A-Za-z0-9]+$/);
  assert.deepEqual(call.client, { name: 'audit-test-client', version: '3.1.4' });
  assert.equal(call.upstream, 'memory');
  assert.equal(call.virtualServer, undefined);
  assert.equal(call.traceId, TRACE);
  assert.match(call.spanId ?? '', /^[0-9a-f]{16}$/);
  assert.ok(call.latencyMs > 0 && call.upstreamMs !== undefined && call.upstreamMs <= call.latencyMs);
  assert.ok((call.responseBytes ?? 0) > 0);
  assert.deepEqual(call.policy, { decision: 'allow', ruleId: 'ops-everything' });
  assert.match(call.session ?? '', /.+/);
});

test('arguments are kept with sensitive values redacted', () => {
  const call = find((r) => r.target === 'memory__create_entities');
  const args = call.arguments as { password: string; entities: unknown[] };
  assert.equal(args.password, '[REDACTED]');
  assert.equal(args.entities.length, 1);
  assert.ok(!JSON.stringify(records).includes('hunter2'));
});

test('refusals are recorded with the rule or reason: argument denial, hidden tool, bad key, unknown session', () => {
  const argDenied = find((r) => r.target === 'memory__search_nodes');
  assert.deepEqual(argDenied.policy, { decision: 'deny', ruleId: 'short-searches' });
  assert.equal(argDenied.errorCode, -32003);
  const hidden = find((r) => r.target === 'memory__delete_entities');
  assert.equal(hidden.outcome, 'denied');
  assert.equal(hidden.policy?.decision, 'deny');
  const badKey = find((r) => r.method === 'auth');
  assert.equal(badKey.errorCode, 'invalid_token');
  assert.equal(badKey.source, '127.0.0.1');
  assert.ok(!JSON.stringify(badKey).includes('gh_not_a_real_key'));
  const unknownSession = find((r) => r.method === 'http');
  assert.equal(unknownSession.errorCode, 'session_not_found');
});

test('the records form an intact hash chain', async () => {
  async function* each() {
    yield* records;
  }
  const result = await verifyChain(each());
  assert.equal(result.ok, true, JSON.stringify(result));
});
