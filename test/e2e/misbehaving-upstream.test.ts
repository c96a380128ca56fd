// Upstreams that break the rules — noise on stdout, a crash mid-call, a body that is not JSON,
// an HTML error page, no answer at all — each cost the caller one clear error, never the session
// or the gateway.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, stdio } from '../helpers/gateway.ts';
import { connectV1, freePort, textOf } from './peers.ts';

const fixture = fileURLToPath(new URL('../fixtures/misbehaving-server.ts', import.meta.url));
let http: ChildProcess;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;

before(async () => {
  http = spawn(process.execPath, [fixture, '--http', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(http.stdout!, 'data')) as [Buffer];
  const url = /http:\/\/\S+/.exec(line.toString())![0];
  gateway = await startTestGateway({
    upstreams: {
      bad: { ...stdio(fixture), timeoutMs: 1000 },
      badhttp: { transport: 'http', url, timeoutMs: 1000 },
    },
  });
});
after(async () => {
  await gateway.close();
  http.kill('SIGTERM');
});

test('noise on an upstream stdout is logged and skipped; the answer still arrives', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  assert.equal(textOf(await client.callTool({ name: 'bad__garbage', arguments: {} })), 'fine');
  assert.ok(gateway.logs.some((l) => l.includes('not JSON-RPC')));
  await client.close();
});

test('an upstream that crashes mid-call fails that call at once and is restarted', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const started = Date.now();
  await assert.rejects(client.callTool({ name: 'bad__crash', arguments: {} }), /unavailable|closed/);
  assert.ok(Date.now() - started < 1000, 'failed at once, not at the timeout');
  let text = '';
  for (let i = 0; i < 40 && text !== 'fine'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    text = await client.callTool({ name: 'bad__ok', arguments: {} }).then(textOf, () => '');
  }
  assert.equal(text, 'fine', 'the restarted upstream serves the same session');
  await client.close();
});

test('an HTTP upstream answering with a body that is not JSON, or an HTML 500, is an error for that call only', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  await assert.rejects(client.callTool({ name: 'badhttp__garbage', arguments: {} }), /unavailable/);
  await assert.rejects(client.callTool({ name: 'badhttp__crash', arguments: {} }), /unavailable/);
  assert.equal(textOf(await client.callTool({ name: 'badhttp__ok', arguments: {} })), 'fine');
  await client.close();
});

test('an upstream that never answers times out with an error; the session keeps working', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  await assert.rejects(client.callTool({ name: 'bad__silent', arguments: {} }), /did not answer/);
  await assert.rejects(client.callTool({ name: 'badhttp__silent', arguments: {} }), /did not answer/);
  assert.equal(textOf(await client.callTool({ name: 'bad__ok', arguments: {} })), 'fine');
  await client.close();
});

test('an upstream that was down when the session began joins it when it comes up', async () => {
  const port = await freePort();
  const late = await startTestGateway({
    upstreams: { late: { transport: 'http', url: `http://127.0.0.1:${port}/mcp`, connectTimeoutMs: 1000 } },
  });
  const { client } = await connectV1(`${late.url}/mcp`);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changed++;
  });
  assert.deepEqual((await client.listTools()).tools, []);
  const server = spawn(process.execPath, [fixture, '--http', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await once(server.stdout!, 'data');
    let names: string[] = [];
    for (let i = 0; i < 60 && !names.includes('late__ok'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      names = (await client.listTools()).tools.map((t) => t.name);
    }
    assert.ok(names.includes('late__ok'), 'the tools of the upstream appear in the same session');
    assert.ok(changed > 0, 'the client was told its tool list changed');
    assert.equal(textOf(await client.callTool({ name: 'late__ok', arguments: {} })), 'fine');
  } finally {
    await client.close();
    await late.close();
    server.kill('SIGTERM');
  }
});
