// `share: gateway`: one upstream connection (one process, for stdio) serves every session,
// and the upstream is never told a client can answer requests it could not route.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../src/config/schema.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { childrenOf, waitFor } from '../helpers/processes.ts';
import { connectV1, textOf } from './peers.ts';

test('one shared stdio process serves many sessions and outlives them until shutdown', async () => {
  const before = childrenOf(process.pid, servers.everything).length;
  const gateway = await startTestGateway({
    upstreams: { everything: { ...stdio(servers.everything), share: 'gateway' } },
  });
  try {
    const clients = await Promise.all(
      [1, 2, 3].map(() =>
        connectV1(`${gateway.url}/mcp`, { capabilities: { sampling: {}, elicitation: {} } }),
      ),
    );
    assert.equal(
      childrenOf(process.pid, servers.everything).length,
      before + 1,
      'one process for three sessions',
    );
    for (const [i, { client }] of clients.entries()) {
      const result = await client.callTool({ name: 'everything__echo', arguments: { message: `n${i}` } });
      assert.equal(textOf(result), `Echo: n${i}`);
    }
    // The clients declared sampling, but the shared upstream was told nobody can sample, so
    // server-everything does not offer its sampling tool.
    const names = (await clients[0]!.client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('everything__echo'));
    assert.ok(!names.includes('everything__trigger-sampling-request'));
    for (const { client, transport } of clients) {
      await transport.terminateSession();
      await client.close();
    }
    assert.equal(
      childrenOf(process.pid, servers.everything).length,
      before + 1,
      'still up for the next session',
    );
  } finally {
    await gateway.close();
  }
  assert.ok(await waitFor(() => childrenOf(process.pid, servers.everything).length === before, 8000));
});

test('a reload that changes a shared upstream replaces its process; sessions keep working', async () => {
  const before = childrenOf(process.pid, servers.memory).length;
  const base = { upstreams: { memory: { ...stdio(servers.memory), share: 'gateway' } } };
  const gateway = await startTestGateway(base);
  try {
    const { client } = await connectV1(`${gateway.url}/mcp`);
    await client.callTool({ name: 'memory__read_graph', arguments: {} });
    const first = childrenOf(process.pid, servers.memory).map((p) => p.pid);
    gateway.reload(
      configSchema.parse({
        listen: { port: 0 },
        auth: { anonymous: true },
        upstreams: { memory: { ...stdio(servers.memory), share: 'gateway', timeoutMs: 30_000 } },
      }),
    );
    const result = await client.callTool({ name: 'memory__read_graph', arguments: {} });
    assert.ok(!(result as { isError?: boolean }).isError);
    assert.ok(
      await waitFor(() => {
        const now = childrenOf(process.pid, servers.memory).map((p) => p.pid);
        return now.length === before + 1 && !now.some((pid) => first.includes(pid));
      }, 8000),
      'the old process is retired and one new process runs',
    );
    await client.close();
  } finally {
    await gateway.close();
  }
});

test('on a shared upstream, one session leaving a subscription does not end it for another', async () => {
  const slow = fileURLToPath(new URL('../fixtures/slow-server.ts', import.meta.url));
  const gateway = await startTestGateway({ upstreams: { slow: { ...stdio(slow), share: 'gateway' } } });
  try {
    const a = await connectV1(`${gateway.url}/mcp`);
    const b = await connectV1(`${gateway.url}/mcp`);
    const upstream = async () => textOf(await a.client.callTool({ name: 'slow__subscribed', arguments: {} }));
    await a.client.subscribeResource({ uri: 'slow+test://counter' });
    await b.client.subscribeResource({ uri: 'slow+test://counter' });
    assert.equal(await upstream(), 'test://counter');
    await a.client.unsubscribeResource({ uri: 'slow+test://counter' });
    assert.equal(await upstream(), 'test://counter', 'b still follows it');
    await b.transport.terminateSession();
    await b.client.close();
    let now = await upstream();
    for (let i = 0; i < 20 && now !== 'none'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = await upstream();
    }
    assert.equal(now, 'none', 'the last subscriber leaving ends the upstream subscription');
    await a.client.close();
  } finally {
    await gateway.close();
  }
});
