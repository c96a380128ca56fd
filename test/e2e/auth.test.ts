// Authentication at the edge, with real credentials: API keys from the key store, and bearer
// JWTs from a real OpenID provider. Sessions belong to whoever opened them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createKeyStore } from '../../src/identity/key-store.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { openSession, PROTOCOL_VERSION, post } from '../helpers/mcp-http.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc.ts';

let dir: string;
let issuer: TestIssuer;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let keys: ReturnType<typeof createKeyStore>;
let url: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-auth-'));
  issuer = await startIssuer();
  const file = join(dir, 'keys.json');
  keys = createKeyStore({ path: file });
  gateway = await startTestGateway({
    auth: {
      anonymous: false,
      apiKeys: { file },
      resource: 'http://127.0.0.1:1/mcp', // Replaced below once the port is known.
      jwt: [{ issuer: issuer.issuer, audience: ['http://gatehouse.test/mcp'] }],
    },
    upstreams: { memory: { ...stdio(servers.memory), share: 'gateway' } },
    virtualServers: { ops: {} },
  });
  url = `${gateway.url}/mcp`;
});
after(async () => {
  await gateway.close();
  await issuer.close();
  await rm(dir, { recursive: true, force: true });
});

async function client(endpoint: string, token: string) {
  const c = new Client({ name: 'auth-test', version: '1' });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(endpoint), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return c;
}

test('without credentials: 401 with a challenge naming the protected-resource metadata', async () => {
  const res = await post(url, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '0' } },
  });
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate') ?? '';
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
  assert.equal(metadataUrl, 'http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp');
  const local = new URL(metadataUrl!.replace('http://127.0.0.1:1', gateway.url));
  const metadata = (await fetch(local).then((r) => r.json())) as Record<string, unknown>;
  assert.equal(metadata.resource, 'http://127.0.0.1:1/mcp');
  assert.deepEqual(metadata.authorization_servers, [issuer.issuer]);
  // Only endpoints that exist have metadata.
  for (const path of ['/mcp/no-such-server', '/elsewhere', '/mcp/ops/extra']) {
    const missing = await fetch(`${gateway.url}/.well-known/oauth-protected-resource${path}`);
    assert.equal(missing.status, 404, path);
  }
});

test('an API key opens a session; a revoked one is refused', async () => {
  const { key, info } = keys.create({ name: 'ci-agent', roles: ['ops'] });
  const c = await client(url, key);
  assert.ok((await c.listTools()).tools.some((t) => t.name === 'memory__read_graph'));
  await c.close();
  keys.revoke(info.id);
  await new Promise((r) => setTimeout(r, 1100)); // A verified key is remembered for up to a second.
  await assert.rejects(client(url, key), /401|Unauthorized/);
});

test('a key limited to one virtual server is refused elsewhere with 403', async () => {
  const { key } = keys.create({ name: 'ops-only', virtualServers: ['ops'] });
  const ok = await client(`${url}/ops`, key);
  await ok.close();
  const res = await post(url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { authorization: `Bearer ${key}` });
  assert.equal(res.status, 403);
});

test("a JWT from the configured provider for this gateway's audience is accepted; another audience is not", async () => {
  const good = await issuer.token({ resource: 'http://gatehouse.test/mcp' });
  const c = await client(url, good);
  assert.ok((await c.listTools()).tools.length > 0);
  await c.close();
  const other = await issuer.token({ resource: 'http://elsewhere.test/mcp' });
  const res = await post(
    url,
    { jsonrpc: '2.0', id: 1, method: 'ping' },
    { authorization: `Bearer ${other}` },
  );
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
});

test('a session id is not a credential: another caller using it gets 404', async () => {
  const alice = keys.create({ name: 'alice' }).key;
  const bob = keys.create({ name: 'bob' }).key;
  const sessionId = await openSession(url, { authorization: `Bearer ${alice}` });
  const res = await post(
    url,
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    { authorization: `Bearer ${bob}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
  );
  assert.equal(res.status, 404);
});

test('repeated bad keys from one source are slowed down with 429', async () => {
  let last = 0;
  for (let i = 0; i < 8; i++) {
    const res = await post(
      url,
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { authorization: `Bearer gh_${'a'.repeat(12)}_${'b'.repeat(43)}` },
    );
    last = res.status;
    if (last === 429) break;
  }
  assert.equal(last, 429);
});

test('a virtual server can be opened to anonymous callers, loudly, while the rest stays closed', async () => {
  const open = await startTestGateway({
    auth: { anonymous: false },
    upstreams: { memory: { ...stdio(servers.memory), share: 'gateway' } },
    virtualServers: { public: { anonymous: true }, private: {} },
  });
  try {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'x', version: '0' },
      },
    };
    assert.equal((await post(`${open.url}/mcp/public`, init)).status, 200);
    assert.equal((await post(`${open.url}/mcp/private`, init)).status, 401);
    assert.equal((await post(`${open.url}/mcp`, init)).status, 401);
    assert.ok(open.logs.some((l) => l.includes('WARNING') && l.includes('/mcp/public')));
  } finally {
    await open.close();
  }
});
