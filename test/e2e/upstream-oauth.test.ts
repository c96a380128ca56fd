// Upstreams that act for the calling user, end to end against real software: the company's
// OpenID provider (oidc-provider) signs users in to the gateway; a SaaS-like MCP server (SDK v1)
// trusts only its own authorization server (a second oidc-provider). Each user authorizes the
// gateway once (authorization code + PKCE, through the gateway's consent page); after that their
// calls carry their own upstream token, refreshed when due, and never the token they sent us.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitationCompleteNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { decodeJwt } from 'jose';
import { pkce } from '../../src/credentials/auth-server.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc.ts';
import { enableTokenExchange, TOKEN_EXCHANGE } from '../helpers/oidc-exchange.ts';
import { signIn } from '../helpers/oidc-login.ts';
import { type ProtectedUpstream, startProtectedUpstream } from '../helpers/protected-upstream.ts';

const AGENT_REDIRECT = 'http://127.0.0.1:1/agent-callback';
const UPSTREAM_SECRET = `upstream-client-${randomBytes(8).toString('hex')}`;
let idp: TestIssuer;
let saasAs: TestIssuer;
let saas: ProtectedUpstream;
let internal: ProtectedUpstream;
let exchange: { exchanged: number };
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let dir: string;
let mcpUrl: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-upstream-oauth-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  mcpUrl = `${base}/mcp`;
  idp = await startIssuer({
    clients: [
      {
        client_id: 'test-agent',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [AGENT_REDIRECT],
      },
      {
        client_id: 'gatehouse-exchange',
        client_secret: UPSTREAM_SECRET,
        grant_types: [TOKEN_EXCHANGE],
        response_types: [],
        redirect_uris: [],
      },
    ],
  });
  exchange = enableTokenExchange(idp, mcpUrl);
  // Short-lived upstream tokens, so renewal happens within the test.
  saasAs = await startIssuer({
    accessTokenTTL: 4,
    clients: [
      {
        client_id: 'gatehouse',
        client_secret: UPSTREAM_SECRET,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${base}/oauth/callback`],
      },
    ],
  });
  saas = await startProtectedUpstream(saasAs.issuer);
  internal = await startProtectedUpstream(idp.issuer);
  process.env.GATEHOUSE_TEST_MASTER_KEY = randomBytes(32).toString('hex');
  gateway = await startTestGateway({
    listen: { port },
    auth: { resource: mcpUrl, jwt: [{ issuer: idp.issuer }] },
    secrets: { store: join(dir, 'secrets.json'), masterKey: { env: 'GATEHOUSE_TEST_MASTER_KEY' } },
    userTokens: { file: join(dir, 'user-tokens.json') },
    virtualServers: { open: { anonymous: true, servers: ['saas'] }, main: { servers: ['saas'] } },
    upstreams: {
      internal: {
        transport: 'http',
        url: internal.url,
        onBehalfOf: {
          method: 'token-exchange',
          issuer: idp.issuer,
          clientId: 'gatehouse-exchange',
          clientSecret: UPSTREAM_SECRET,
        },
      },
      saas: {
        transport: 'http',
        url: saas.url,
        onBehalfOf: {
          method: 'oauth',
          issuer: saasAs.issuer,
          clientId: 'gatehouse',
          clientSecret: UPSTREAM_SECRET,
          scopes: ['openid', 'offline_access', 'mcp:tools'],
        },
      },
    },
  });
});

after(async () => {
  await gateway?.close();
  await saas?.close();
  await internal?.close();
  await Promise.all([idp?.close(), saasAs?.close()]);
  await rm(dir, { recursive: true, force: true });
});

test('a user authorizes the upstream once through the link; their calls then carry their own upstream token', async () => {
  const aliceToken = await userToken('alice');
  const client = await connect(aliceToken);
  try {
    // Nobody has authorized the upstream yet: one tool stands in for its list, and gives the link.
    assert.deepEqual(toolNames(await client.listTools()), ['saas__authorize']);
    const first = await client.callTool({ name: 'saas__authorize', arguments: {} });
    assert.equal(first.isError, true);
    const link = linkIn(text(first));
    assert.ok(link.startsWith(`${mcpUrl.replace('/mcp', '')}/oauth/authorize?state=`), link);

    await openLink(link, 'alice-at-saas', 'alice');

    assert.deepEqual(toolNames(await client.listTools()), ['saas__echo', 'saas__whoami']);
    const answer = await client.callTool({ name: 'saas__whoami', arguments: {} });
    assert.equal(text(answer), 'you are alice-at-saas');
  } finally {
    await client.close();
  }
  // The token alice sent the gateway never went upstream; what did is for the upstream itself.
  assert.ok(!saas.seen.some((h) => h.includes(aliceToken)));
  const sent = saas.seen
    .filter((h) => h.startsWith('Bearer '))
    .at(-1)!
    .slice(7);
  assert.equal(decodeJwt(sent).aud, saas.url);
  // Kept encrypted: neither the access token nor the user's name is readable in the vault file.
  const vault = await readFile(join(dir, 'user-tokens.json'), 'utf8');
  assert.ok(!vault.includes(sent) && !vault.includes('alice'));
});

test('a 2025-11-25 client that opens links gets URL-mode elicitation, then the completion notice', async () => {
  const client = await connect(await userToken('bob'), { elicitation: { form: {}, url: {} } });
  try {
    // Another user authorized it before: bob sees its tools, and a call asks him to authorize.
    assert.deepEqual(toolNames(await client.listTools()), ['saas__echo', 'saas__whoami']);
    const completed = new Promise<string>((resolve) =>
      client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) =>
        resolve(n.params.elicitationId),
      ),
    );
    const refused = await client.callTool({ name: 'saas__whoami', arguments: {} }).then(
      () => assert.fail('the call should need authorization'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof McpError);
    assert.equal(refused.code, -32042);
    const [elicitation] = (
      refused.data as { elicitations: { mode: string; url: string; elicitationId: string }[] }
    ).elicitations;
    assert.equal(elicitation?.mode, 'url');

    await openLink(elicitation.url, 'bob-at-saas', 'bob');
    assert.equal(await completed, elicitation.elicitationId);
    const answer = await client.callTool({ name: 'saas__whoami', arguments: {} });
    assert.equal(text(answer), 'you are bob-at-saas');
  } finally {
    await client.close();
  }
});

test('an expired upstream token is renewed with the refresh token before the call', async () => {
  const client = await connect(await userToken('alice'));
  try {
    assert.equal(
      text(await client.callTool({ name: 'saas__whoami', arguments: {} })),
      'you are alice-at-saas',
    );
    const before = saas.seen.at(-1);
    // Upstream tokens live 4 s and are renewed at three quarters of that.
    await new Promise((r) => setTimeout(r, 3200));
    assert.equal(
      text(await client.callTool({ name: 'saas__whoami', arguments: {} })),
      'you are alice-at-saas',
    );
    assert.notEqual(saas.seen.at(-1), before);
    assert.ok(gateway.logs.every((line) => !line.includes('must authorize again')));
  } finally {
    await client.close();
  }
});

test('a token the upstream refuses is dropped, and the user is asked to authorize again', async () => {
  const client = await connect(await userToken('erin'));
  try {
    await client.listTools();
    await openLink(
      linkIn(text(await client.callTool({ name: 'saas__whoami', arguments: {} }))),
      'erin-at-saas',
      'erin',
    );
    assert.equal(
      text(await client.callTool({ name: 'saas__whoami', arguments: {} })),
      'you are erin-at-saas',
    );
    saas.revoke('erin-at-saas');
    const refused = await client.callTool({ name: 'saas__whoami', arguments: {} });
    assert.equal(refused.isError, true);
    assert.match(text(refused), /Authorization needed: open \S+\/oauth\/authorize/);
    assert.ok(gateway.logs.some((line) => line.includes('refused') && line.includes('authorize again')));
  } finally {
    await client.close();
  }
});

test('a callback finished in another browser, or a link used twice, connects nothing', async () => {
  const client = await connect(await userToken('carol'));
  try {
    await client.listTools();
    const link = linkIn(text(await client.callTool({ name: 'saas__whoami', arguments: {} })));
    const confirm = await fetch(`${mcpUrl.replace('/mcp', '')}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ state: new URL(link).searchParams.get('state')! }),
    });
    assert.equal(confirm.status, 303);
    const back = await signIn(confirm.headers.get('location')!, 'mallory-at-saas');
    // Without the cookie the consent step set, the callback is refused and the flow stays usable.
    const stranger = await fetch(back);
    assert.equal(stranger.status, 403);
    assert.match(await stranger.text(), /browser that opened/);
    const cookie = confirm.headers.get('set-cookie')!.split(';')[0]!;
    const owner = await fetch(back, { headers: { cookie } });
    assert.equal(owner.status, 200);
    const replay = await fetch(back, { headers: { cookie } });
    assert.equal(replay.status, 400);
    // A cross-site form post cannot start a flow.
    const forged = await fetch(`${mcpUrl.replace('/mcp', '')}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: 'https://evil.example' },
      body: new URLSearchParams({ state: 'anything' }),
    });
    assert.equal(forged.status, 403);
  } finally {
    await client.close();
  }
});

test('an anonymous caller cannot use an upstream that acts for the user', async () => {
  const client = await connect(undefined, {}, `${mcpUrl}/open`);
  try {
    // Nobody to act for: the upstream stays out of this caller's lists, with nothing to call.
    assert.deepEqual(toolNames(await client.listTools()), []);
    await assert.rejects(client.callTool({ name: 'saas__authorize', arguments: {} }), /Unknown tool/);
  } finally {
    await client.close();
  }
});

test("token exchange: the IdP trades the caller's token for one issued to the upstream, same user", async () => {
  const daveToken = await userToken('dave');
  const client = await connect(daveToken, {}, mcpUrl);
  try {
    assert.equal(text(await client.callTool({ name: 'internal__whoami', arguments: {} })), 'you are dave');
    assert.equal(text(await client.callTool({ name: 'internal__echo', arguments: { text: 'x' } })), 'x');
  } finally {
    await client.close();
  }
  // One exchange served both calls (cached until due); dave's own token never reached the upstream.
  assert.equal(exchange.exchanged, 1, gateway.logs.join('\n'));
  assert.ok(!internal.seen.some((h) => h.includes(daveToken)));
  const sent = decodeJwt(internal.seen.at(-1)!.slice(7));
  assert.equal(sent.aud, internal.url);
  assert.equal(sent.sub, 'dave');
});

// --- helpers ---

async function connect(
  token: string | undefined,
  capabilities: Record<string, unknown> = {},
  url = `${mcpUrl}/main`,
) {
  const client = new Client({ name: 'upstream-oauth-test', version: '1.0.0' }, { capabilities });
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

/** A user's token for the gateway, from the company IdP (authorization code + PKCE, signed in as `user`). */
async function userToken(user: string): Promise<string> {
  const { verifier, challenge } = pkce();
  const authorize = new URL(`${idp.issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: 'test-agent',
    response_type: 'code',
    redirect_uri: AGENT_REDIRECT,
    scope: 'openid mcp:tools',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: mcpUrl,
    state: 'test',
  }).toString();
  const back = await signIn(authorize, user);
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: AGENT_REDIRECT,
      code_verifier: verifier,
      client_id: 'test-agent',
      resource: mcpUrl,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`no token for ${user}: ${body.error}`);
  return body.access_token;
}

/** What the user's browser does with the link: consent page, sign-in upstream, back to the gateway. */
async function openLink(link: string, upstreamUser: string, gatewayUser: string): Promise<void> {
  const page = await fetch(link);
  assert.equal(page.status, 200);
  assert.match(await page.text(), new RegExp(gatewayUser));
  const origin = new URL(link).origin;
  const confirm = await fetch(`${origin}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin },
    body: new URLSearchParams({ state: new URL(link).searchParams.get('state')! }),
  });
  assert.equal(confirm.status, 303);
  const location = new URL(confirm.headers.get('location')!);
  assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(location.searchParams.get('resource'), saas.url);
  const back = await signIn(location, upstreamUser);
  const done = await fetch(back, { headers: { cookie: confirm.headers.get('set-cookie')!.split(';')[0]! } });
  assert.equal(done.status, 200, await done.clone().text());
  assert.match(await done.text(), /saas is connected/);
}

function toolNames(result: { tools: { name: string }[] }): string[] {
  return result.tools.map((t) => t.name).sort();
}

function text(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

function linkIn(message: string): string {
  const found = /open (\S+) to let/.exec(message)?.[1];
  assert.ok(found, message);
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
