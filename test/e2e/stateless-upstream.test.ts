// A 2026-07-28-only upstream (official v2 SDK, legacy refused) behind the gateway: session-era
// clients use it as if it were any server, and its input_required results reach the client as
// ordinary elicitation requests.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway } from '../helpers/gateway.ts';
import { connectV1, textOf } from './peers.ts';

const fixture = fileURLToPath(new URL('../fixtures/stateless-server.ts', import.meta.url));
let upstream: ChildProcess;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;

before(async () => {
  upstream = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(upstream.stdout!, 'data')) as [Buffer];
  const url = /http:\/\/\S+/.exec(line.toString())?.[0];
  assert.ok(url, 'the fixture prints its URL');
  gateway = await startTestGateway({ upstreams: { sl: { transport: 'http', url } } });
});

after(async () => {
  await gateway?.close();
  upstream?.kill('SIGTERM');
});

test('speaks the stateless era to an upstream that refuses initialize', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const tools = await client.listTools();
  assert.deepEqual(tools.tools.map((t) => t.name).sort(), ['sl__confirm', 'sl__route', 'sl__shout']);
  const result = await client.callTool({ name: 'sl__shout', arguments: { text: 'quiet' } });
  assert.equal(textOf(result), 'QUIET');
  await client.close();
});

test("turns an upstream's input_required into an elicitation for a session-era client", async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`, { capabilities: { elicitation: {} } });
  const asked: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(String(request.params.message));
    return { action: 'accept', content: { ok: true } };
  });
  const result = await client.callTool({ name: 'sl__confirm', arguments: { what: 'the deploy' } });
  assert.deepEqual(asked, ['Confirm the deploy?']);
  assert.equal(textOf(result), 'confirmed the deploy');
  await client.close();
});

test('an upstream asking for input a client without the capability cannot give gets an error, not a hang', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const outcome = await client.callTool({ name: 'sl__confirm', arguments: { what: 'x' } }).then(
    (r) => ({ ok: true as const, r }),
    (e: Error) => ({ ok: false as const, e }),
  );
  // Either a JSON-RPC error or a tool error is acceptable; a silent success is not.
  if (outcome.ok) assert.equal((outcome.r as { isError?: boolean }).isError, true);
  else assert.match(outcome.e.message, /input|answer|client/i);
  await client.close();
});

test('mirrors x-mcp-header arguments in Mcp-Param headers, which a stateless upstream checks', async () => {
  const { client } = await connectV1(`${gateway.url}/mcp`);
  await client.listTools(); // The gateway learns the tool's schema from the upstream's list.
  const result = await client.callTool({
    name: 'sl__route',
    arguments: { region: 'eu-west', text: 'hello' },
  });
  assert.equal(textOf(result), 'eu-west: hello');
  const unicode = await client.callTool({
    name: 'sl__route',
    arguments: { region: 'zürich', text: 'grüezi' },
  });
  assert.equal(textOf(unicode), 'zürich: grüezi');
  await client.close();
});
