// One policy for visibility and invocation, end to end: API-key principals with roles, rules
// in the config, a real upstream. What a principal may not call it does not see; what it sees
// it may call when the arguments pass.
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
const keysFor: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-policy-'));
  const file = join(dir, 'keys.json');
  const store = createKeyStore({ path: file });
  keysFor.ops = store.create({ name: 'ops-agent', roles: ['ops'] }).key;
  keysFor.intern = store.create({ name: 'intern-agent', roles: ['intern'] }).key;
  gateway = await startTestGateway({
    auth: { anonymous: false, apiKeys: { file } },
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
});
after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

async function as(role: string) {
  const client = new Client({ name: `${role}-client`, version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${keysFor[role]}` } },
    }),
  );
  return client;
}

test('a principal sees only what the policy lets it call', async () => {
  const intern = await as('intern');
  const names = (await intern.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(names, ['memory__read_graph', 'memory__search_nodes']);
  const ops = await as('ops');
  assert.ok((await ops.listTools()).tools.length > 2);
  await intern.close();
  await ops.close();
});

test('a hidden tool is unknown to the principal, never forwarded', async () => {
  const intern = await as('intern');
  await assert.rejects(
    intern.callTool({ name: 'memory__create_entities', arguments: { entities: [] } }),
    /Unknown tool: memory__create_entities/,
  );
  await intern.close();
});

test('a visible tool is refused when a condition on its arguments denies it, with the rule named', async () => {
  const intern = await as('intern');
  const short = await intern.callTool({ name: 'memory__search_nodes', arguments: { query: 'cats' } });
  assert.ok(!(short as { isError?: boolean }).isError);
  await assert.rejects(
    intern.callTool({ name: 'memory__search_nodes', arguments: { query: 'a very long query' } }),
    /Denied by policy \(rule short-searches\)/,
  );
  assert.ok(gateway.logs.some((l) => l.includes('policy denied tool memory__search_nodes')));
  await intern.close();
});
