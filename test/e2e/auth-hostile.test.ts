// Hostile credentials and names: each gets its 401/403/not-found, nothing more to the client
// than the spec allows, and no secret anywhere in what the gateway says or logs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeyStore } from '../../src/identity/key-store.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { messages, PROTOCOL_VERSION, post } from '../helpers/mcp-http.ts';

const UPSTREAM_SECRET = 'upstream-token-5f0c1d9e7a';
let dir: string;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let key: string;
let url: string;
const seen: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-hostile-'));
  const file = join(dir, 'keys.json');
  key = createKeyStore({ path: file }).create({ name: 'agent', roles: ['ops'] }).key;
  gateway = await startTestGateway({
    auth: { anonymous: false, apiKeys: { file } },
    upstreams: {
      memory: { ...stdio(servers.memory), share: 'gateway', env: { MEMORY_TOKEN: UPSTREAM_SECRET } },
      remote: {
        transport: 'http',
        url: 'http://127.0.0.1:1/mcp',
        headers: { authorization: `Bearer ${UPSTREAM_SECRET}` },
        connectTimeoutMs: 500,
      },
    },
    virtualServers: { mem: { servers: ['memory'] } },
  });
  url = `${gateway.url}/mcp`;
});
after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(body: unknown, headers: Record<string, string>, path = url) {
  const res = await post(path, body, headers);
  seen.push(res.text, JSON.stringify([...res.headers]));
  return res;
}

const init = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'h', version: '0' } },
};

/** Sends bytes no HTTP client library would: returns the status code the gateway answered. */
function rawStatus(authorization: string): Promise<number> {
  const { port } = new URL(url);
  const body = JSON.stringify(init);
  const request =
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nAuthorization: ${authorization}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(Buffer.from(request, 'utf8')));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('close', () => {
      seen.push(text);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0));
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

test('names that try to escape a namespace or a virtual server are unknown', async () => {
  const opened = await call(init, { authorization: `Bearer ${key}` }, `${gateway.url}/mcp/mem`);
  const sessionId = opened.headers.get('mcp-session-id');
  assert.ok(sessionId, `initialize failed: ${opened.status}`);
  const h = {
    authorization: `Bearer ${key}`,
    'mcp-session-id': sessionId,
    'mcp-protocol-version': PROTOCOL_VERSION,
  };
  const names = [
    'remote__anything', // a server the virtual server does not include
    'MEMORY__read_graph', // case
    'memory__READ_GRAPH',
    'memory%5F%5Fread_graph', // URL-encoded separator
    'memory\u2215read_graph', // division slash
    'memory__read_graph\u0000',
    '../memory__read_graph',
    'memory__ read_graph',
  ];
  for (const [i, name] of names.entries()) {
    const res = await call(
      { jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name, arguments: {} } },
      h,
      `${gateway.url}/mcp/mem`,
    );
    const error = messages(res)[0]?.error as { code: number; message: string } | undefined;
    assert.equal(error?.code, -32602, `${JSON.stringify(name)}: ${res.text}`);
    assert.match(error!.message, /Unknown tool/);
  }
});

test('no secret appears in any answer, header or log line', async () => {
  // Make the gateway talk about the upstream that carries a secret header, and fail to reach it.
  await call(init, { authorization: `Bearer ${key}` });
  await call(init, { authorization: `Bearer ${key.slice(0, -2)}xy` });
  const everything = [...seen, ...gateway.logs].join('\n');
  assert.ok(!everything.includes(UPSTREAM_SECRET), 'an upstream credential leaked');
  // The secret is everything after `gh_<12-character id>_`; it may itself contain `_`.
  assert.ok(!everything.includes(key.slice(16)), 'an API key secret leaked');
  assert.ok(gateway.logs.length > 0, 'the refusals were logged');
});

test('mangled API keys are refused (401, or 400 for bytes HTTP forbids), then the address is locked out', async () => {
  const variants = [
    key.slice(0, -1), // truncated
    `${key}=`, // padded
    `${key}\u200b`, // zero-width space
    key.replace(/[a-z]/, '\u0430'), // a Cyrillic lookalike
    key.toUpperCase(),
    `gh_${'x'.repeat(200)}`,
    'Basic dXNlcjpwYXNz',
    'Bearer',
    `bearer ${key} extra`,
  ];
  for (const v of variants) {
    const header =
      v.startsWith('Basic') || v.startsWith('Bearer') || v.startsWith('bearer') ? v : `Bearer ${v}`;
    const status = await rawStatus(header);
    assert.ok([400, 401, 429].includes(status), `${JSON.stringify(header)} got ${status}`);
  }
  // Five failures from one address lock it out: from then on even a good key waits (429).
  assert.equal(await rawStatus(`Bearer ${key}`), 429);
});
