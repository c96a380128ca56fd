// Prometheus metrics end to end: real traffic through a gateway, then a scrape shows it counted
// by method, upstream and outcome, with latency histograms, policy denials, authentication
// failures, sessions, child processes, upstream connections and the audit queue; the token
// guards the endpoint; a separate listener serves it when configured.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createKeyStore } from '../../src/identity/key-store.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { freePort } from './peers.ts';

const TOKEN = 'metrics-token-for-the-test';
let dir: string;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let key: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-metrics-'));
  const file = join(dir, 'keys.json');
  key = createKeyStore({ path: file }).create({ name: 'metrics-agent', roles: ['intern'] }).key;
  gateway = await startTestGateway({
    auth: { anonymous: false, apiKeys: { file } },
    metrics: { token: TOKEN },
    upstreams: { memory: stdio(servers.memory) },
    policy: {
      rules: [
        {
          id: 'reads-only',
          effect: 'allow',
          principals: { roles: ['intern'] },
          targets: { tools: ['memory__read_graph', 'memory__search_nodes'] },
        },
        {
          id: 'no-long',
          effect: 'deny',
          principals: { roles: ['intern'] },
          targets: { tools: ['memory__search_nodes'] },
          when: 'size(args.query) > 5',
        },
      ],
    },
  });
  const client = new Client({ name: 'metrics-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  await client.listTools();
  await client.callTool({ name: 'memory__read_graph', arguments: {} });
  await client.callTool({ name: 'memory__read_graph', arguments: {} });
  await client
    .callTool({ name: 'memory__search_nodes', arguments: { query: 'too long a query' } })
    .catch(() => {});
  await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { authorization: 'Bearer gh_bogus' },
    body: '{}',
  });
  // The session stays open: the gauges below count it.
});

after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

const scrape = async (url = `${gateway.url}/metrics`, token = TOKEN) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};

/** The value of one series, found by its name and labels. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('requests are counted by method, upstream and outcome, with latency histograms', async () => {
  const { status, type, text } = await scrape();
  assert.equal(status, 200);
  assert.match(type, /text\/plain/);
  assert.equal(
    value(text, 'gatehouse_requests_total', { method: 'tools/call', upstream: 'memory', outcome: 'ok' }),
    2,
  );
  assert.equal(
    value(text, 'gatehouse_requests_total', { method: 'tools/call', upstream: 'memory', outcome: 'denied' }),
    1,
  );
  assert.equal(value(text, 'gatehouse_requests_total', { method: 'tools/list', outcome: 'ok' }), 1);
  assert.equal(
    value(text, 'gatehouse_request_duration_seconds_count', { method: 'tools/call', outcome: 'ok' }),
    2,
  );
  assert.equal(
    value(text, 'gatehouse_upstream_duration_seconds_count', { upstream: 'memory', method: 'tools/call' }),
    2,
  );
});

test('policy denials and authentication failures have their own counters', async () => {
  const { text } = await scrape();
  assert.equal(value(text, 'gatehouse_policy_denials_total', { rule: 'no-long' }), 1);
  assert.equal(value(text, 'gatehouse_auth_failures_total', { reason: 'invalid_token' }), 1);
});

test('gauges show sessions, child processes, upstream connections and the audit queue, with nothing dropped', async () => {
  const { text } = await scrape();
  assert.equal(value(text, 'gatehouse_sessions', { era: 'session' }), 1);
  assert.ok((value(text, 'gatehouse_child_processes') ?? 0) >= 1);
  assert.equal(value(text, 'gatehouse_upstream_connections', { upstream: 'memory', state: 'connected' }), 1);
  assert.equal(value(text, 'gatehouse_audit_dropped_records'), 0);
  assert.equal(value(text, 'gatehouse_audit_store_up'), 1);
  assert.ok(value(text, 'gatehouse_process_resident_memory_bytes') !== undefined);
});

test('the endpoint wants the token; a method may not be a label a client can grow', async () => {
  assert.equal((await scrape(undefined, 'wrong-token-of-the-same-size!!')).status, 401);
  assert.equal((await fetch(`${gateway.url}/metrics`)).status, 401);
  const { text } = await scrape();
  assert.ok(
    !/method="(?!initialize|server\/discover|ping|tools|prompts|resources|subscriptions|completion|logging|auth|http|other)/.test(
      text,
    ),
  );
});

test('metrics can have a listener of their own, and then are not on the gateway port', async () => {
  const port = await freePort();
  const own = await startTestGateway({
    metrics: { listen: { host: '127.0.0.1', port } },
    upstreams: { memory: stdio(servers.memory) },
  });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /gatehouse_sessions/);
    const onGateway = await fetch(`${own.url}/metrics`);
    assert.notEqual(onGateway.status, 200);
  } finally {
    await own.close();
  }
});
