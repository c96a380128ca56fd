// The admin API's audit endpoints, end to end: only an admin principal may search, page, export
// and verify; every admin request is itself recorded; exports stream JSONL and CSV.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createKeyStore } from '../../src/identity/key-store.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';

let dir: string;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let adminKey: string;
let agentKey: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-audit-'));
  const file = join(dir, 'keys.json');
  const keys = createKeyStore({ path: file });
  adminKey = keys.create({ name: 'operator', roles: ['gatehouse-admin'] }).key;
  agentKey = keys.create({ name: 'agent-007', roles: ['agents'] }).key;
  gateway = await startTestGateway({
    auth: { anonymous: false, apiKeys: { file } },
    audit: {
      store: { type: 'sqlite', file: join(dir, 'audit.db') },
      spoolFile: join(dir, 'spool'),
      flushIntervalMs: 20,
    },
    upstreams: { memory: stdio(servers.memory) },
  });
  const client = new Client({ name: 'admin-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${agentKey}` } },
    }),
  );
  for (let i = 0; i < 5; i++) await client.callTool({ name: 'memory__read_graph', arguments: {} });
  await client.close();
  await new Promise((r) => setTimeout(r, 200)); // Past a few flush intervals.
});

after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

const admin = (path: string, key = adminKey) =>
  fetch(`${gateway.url}/admin/api/${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

test('only an admin principal may use the API: no credentials 401, an agent key 403', async () => {
  assert.equal((await admin('audit/records', '')).status, 401);
  assert.equal((await admin('audit/records', agentKey)).status, 403);
  assert.equal((await admin('audit/records')).status, 200);
  assert.equal((await admin('audit/nothing-here')).status, 404);
});

test('searches filter by agent, tool and outcome, and page with `next`', async () => {
  const first = (await (
    await admin('audit/records?agent=agent-007&tool=memory__read_graph&limit=3')
  ).json()) as {
    records: { id: string; target: string; outcome: string }[];
    next?: string;
  };
  assert.equal(first.records.length, 3);
  assert.ok(first.records.every((r) => r.target === 'memory__read_graph' && r.outcome === 'ok'));
  assert.ok(first.next);
  const second = (await (
    await admin(`audit/records?agent=agent-007&tool=memory__read_graph&after=${first.next}`)
  ).json()) as {
    records: unknown[];
    next?: string;
  };
  assert.equal(second.records.length, 2);
  assert.equal(second.next, undefined);
  const denied = (await (await admin('audit/records?outcome=denied')).json()) as {
    records: { method: string }[];
  };
  // The agent's 403 above was recorded as a denied admin request.
  assert.ok(denied.records.some((r) => r.method === 'admin/audit/records'));
});

test('bad filters are a client error', async () => {
  assert.equal((await admin('audit/records?from=yesterday')).status, 400);
  assert.equal((await admin('audit/records?outcome=maybe')).status, 400);
  assert.equal((await admin('audit/records?format=xml')).status, 400);
});

test('exports stream every match as JSONL and as CSV', async () => {
  const jsonl = await admin('audit/records?tool=memory__read_graph&format=jsonl');
  assert.equal(jsonl.status, 200);
  assert.match(jsonl.headers.get('content-type') ?? '', /ndjson/);
  const lines = (await jsonl.text()).trim().split('\n');
  assert.equal(lines.length, 5);
  assert.equal(JSON.parse(lines[0]!).target, 'memory__read_graph');
  const csv = await admin('audit/records?tool=memory__read_graph&format=csv');
  assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
  const rows = (await csv.text()).trim().split(/\r?\n/);
  assert.equal(rows.length, 6); // Header and five records.
  assert.match(rows[0]!, /^time,id,/);
});

test('verify checks every instance chain', async () => {
  const body = (await (await admin('audit/verify')).json()) as {
    ok: boolean;
    instances: { ok: boolean; checked: number }[];
  };
  assert.equal(body.ok, true);
  assert.equal(body.instances.length, 1);
  assert.ok(body.instances[0]!.checked > 5);
});
