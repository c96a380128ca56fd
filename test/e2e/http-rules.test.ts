// The Streamable HTTP rules a client can break, each answered the way the spec says, with the
// gateway still serving afterwards. Raw HTTP, so every header and status is visible.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { messages, openSession, PROTOCOL_VERSION, post, request } from '../helpers/mcp-http.ts';

let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let url: string;

before(async () => {
  gateway = await startTestGateway({
    listen: { port: 0, maxBodyBytes: 4096 },
    upstreams: {
      memory: { ...stdio(servers.memory), share: 'gateway' },
      slow: {
        ...stdio(fileURLToPath(new URL('../fixtures/slow-server.ts', import.meta.url))),
        share: 'gateway',
      },
    },
  });
  url = `${gateway.url}/mcp`;
});
after(() => gateway.close());

const init = (version: string) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'rules', version: '0' } },
});

test('refuses a foreign Origin or Host with 403 (DNS-rebinding defence)', async () => {
  assert.equal((await post(url, init(PROTOCOL_VERSION), { origin: 'http://evil.example' })).status, 403);
  // fetch will not send a foreign Host header, so this one goes through node:http.
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        host: 'evil.example',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(JSON.stringify(init(PROTOCOL_VERSION)));
  });
  assert.equal(status, 403);
  assert.equal((await post(url, init(PROTOCOL_VERSION), { origin: 'http://localhost:3000' })).status, 200);
});

test('answers bad content type 415, a client that cannot take SSE 406, an oversize body 413', async () => {
  assert.equal((await post(url, init(PROTOCOL_VERSION), { 'content-type': 'text/plain' })).status, 415);
  assert.equal((await post(url, init(PROTOCOL_VERSION), { accept: 'application/json' })).status, 406);
  const big = { ...init(PROTOCOL_VERSION), params: { padding: 'x'.repeat(5000) } };
  assert.equal((await post(url, big)).status, 413);
});

test('answers malformed JSON with -32700 and an unknown method with -32601', async () => {
  const bad = await post(url, '{"jsonrpc":"2.0",', {});
  assert.equal(bad.status, 400);
  assert.equal((messages(bad)[0]!.error as { code: number }).code, -32700);
  const sessionId = await openSession(url);
  const unknown = await request(url, sessionId, 'no/such/method');
  assert.equal((unknown.error as { code: number }).code, -32601);
});

test('refuses an unsupported MCP-Protocol-Version header with 400', async () => {
  const sessionId = await openSession(url);
  const res = await post(
    url,
    { jsonrpc: '2.0', id: 9, method: 'tools/list' },
    { 'mcp-session-id': sessionId, 'mcp-protocol-version': '1999-01-01' },
  );
  assert.equal(res.status, 400);
});

test('refuses a batch in 2025-06-18 and later, answers one in 2025-03-26', async () => {
  const batch = [
    { jsonrpc: '2.0', id: 11, method: 'ping' },
    { jsonrpc: '2.0', id: 12, method: 'tools/list' },
  ];
  const modern = await openSession(url);
  const refused = await post(url, batch, {
    'mcp-session-id': modern,
    'mcp-protocol-version': PROTOCOL_VERSION,
  });
  assert.equal(refused.status, 400);

  const opened = await post(url, init('2025-03-26'));
  const old = opened.headers.get('mcp-session-id')!;
  assert.equal((messages(opened)[0]!.result as { protocolVersion: string }).protocolVersion, '2025-03-26');
  const answered = await post(url, batch, { 'mcp-session-id': old, 'mcp-protocol-version': '2025-03-26' });
  assert.equal(answered.status, 200);
  const ids = messages(answered).map((m) => m.id);
  assert.deepEqual(ids.sort(), [11, 12]);
});

test('a second GET stream on one session is refused with 409; other methods with 405', async () => {
  const sessionId = await openSession(url);
  const headers = { accept: 'text/event-stream', 'mcp-session-id': sessionId };
  const first = new AbortController();
  const stream = await fetch(url, { headers, signal: first.signal });
  assert.equal(stream.status, 200);
  const second = await fetch(url, { headers });
  assert.equal(second.status, 409);
  await second.body?.cancel();
  first.abort();
  assert.equal((await fetch(url, { method: 'PUT' })).status, 405);
  assert.equal(
    (await fetch(url, { headers: { accept: 'application/json', 'mcp-session-id': sessionId } })).status,
    406,
  );
});

test('refuses a request whose id is already in flight in the session', async () => {
  const sessionId = await openSession(url);
  const h = { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION };
  const call = {
    jsonrpc: '2.0',
    id: 'same',
    method: 'tools/call',
    params: { name: 'slow__sleep', arguments: { ms: 400 } },
  };
  const first = post(url, call, h);
  await new Promise((r) => setTimeout(r, 100));
  const second = await post(url, call, h);
  assert.equal(second.status, 400);
  const answered = await first;
  assert.equal(answered.status, 200);
  assert.match(JSON.stringify(messages(answered)), /slept 400/);
});

test('the gateway still serves a correct client after all of the above', async () => {
  const sessionId = await openSession(url);
  const listed = await request(url, sessionId, 'tools/list');
  assert.ok((listed.result as { tools: unknown[] }).tools.length > 0);
});
