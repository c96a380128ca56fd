// Call timeouts: a call the upstream does not answer in time gets an error and the upstream a
// notifications/cancelled; per-tool limits override the upstream's; progress keeps a call alive
// up to its maximum; a client's cancellation reaches the upstream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestGateway, stdio } from '../helpers/gateway.ts';
import { connectV1, textOf } from './peers.ts';

const slow = fileURLToPath(new URL('../fixtures/slow-server.ts', import.meta.url));
let gateway: Awaited<ReturnType<typeof startTestGateway>>;

before(async () => {
  gateway = await startTestGateway({
    upstreams: {
      slow: {
        ...stdio(slow),
        timeoutMs: 400,
        maxCallMs: 5000,
        toolTimeoutsMs: { sleep: 400, progress_sleep: 600 },
      },
      patient: { ...stdio(slow), timeoutMs: 400, toolTimeoutsMs: { sleep: 3000 } },
    },
  });
});
after(() => gateway.close());

async function cancellations(client: Awaited<ReturnType<typeof connectV1>>['client'], server: string) {
  return Number(textOf(await client.callTool({ name: `${server}__cancellations`, arguments: {} })));
}

test('a call past its timeout fails with an error and is cancelled upstream', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  await assert.rejects(client.callTool({ name: 'slow__sleep', arguments: { ms: 3000 } }), /did not answer/);
  for (let i = 0; i < 20 && (await cancellations(client, 'slow')) < 1; i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal(await cancellations(client, 'slow'), 1, 'the upstream received notifications/cancelled');
  await client.close();
});

test('a per-tool timeout overrides the upstream default', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const result = await client.callTool({ name: 'patient__sleep', arguments: { ms: 800 } });
  assert.equal(textOf(result), 'slept 800');
  await client.close();
});

test('progress restarts the timeout, so a long call that reports progress finishes', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const seen: number[] = [];
  const result = await client.callTool(
    { name: 'slow__progress_sleep', arguments: { ms: 1500, steps: 6 } },
    undefined,
    { onprogress: (p) => seen.push(p.progress), timeout: 10_000 },
  );
  assert.equal(textOf(result), 'done in 6 steps');
  assert.ok(seen.length >= 4, `progress reached the client (${seen.join(',')})`);
  await client.close();
});

test("a client's cancellation reaches the upstream", async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const before = await cancellations(client, 'patient');
  const abort = new AbortController();
  const call = client.callTool({ name: 'patient__sleep', arguments: { ms: 2500 } }, undefined, {
    signal: abort.signal,
  });
  setTimeout(() => abort.abort(), 200);
  await assert.rejects(call);
  let now = before;
  for (let i = 0; i < 40 && now === before; i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = await cancellations(client, 'patient');
  }
  assert.equal(now, before + 1);
  await client.close();
});
