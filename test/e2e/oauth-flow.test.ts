// The MCP authorization flow end to end (issue 3): the official SDK clients find the gateway's
// protected-resource metadata from its 401, discover a real OpenID provider (oidc-provider on
// loopback), register, sign a user in with the authorization code and PKCE, and call tools
// through the gateway as that user; tokens are bound to the gateway's own resource URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { configSchema } from '../../src/config/schema.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { type DocumentServer, haveOpenssl, startDocumentServer } from '../helpers/https-documents.ts';
import { post } from '../helpers/mcp-http.ts';
import { clientMetadataDocument, connectAs, REDIRECT, SignedInUser } from '../helpers/oauth-client.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc.ts';

const TOKEN_TTL_SECONDS = 3;

/** Calls the upstream's echo tool with either SDK's client. */
async function echo(client: Client | ClientV1, message: string) {
  const result = await client.callTool({ name: 'everything__echo', arguments: { message } });
  return (result.content as { type: string; text: string }[])[0]?.text;
}

async function metadata(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return (await res.json()) as {
    resource: string;
    authorization_servers: string[];
    scopes_supported?: string[];
  };
}

describe('OAuth sign-in through the gateway (issue 3)', { concurrency: false }, () => {
  let issuer: TestIssuer;
  let gateway: Awaited<ReturnType<typeof startTestGateway>>;
  let config: Record<string, unknown>;
  let url: string;
  const grants: { grantType: string; clientId?: string; codeVerifier: boolean }[] = [];
  let registrations = 0;
  // Client ID Metadata Documents must be served over HTTPS: with a certificate from openssl.
  let documents: DocumentServer | undefined;
  const DOCUMENT_PATH = '/clients/gatehouse-test.json';

  before(async () => {
    documents = haveOpenssl ? await startDocumentServer() : undefined;
    documents?.serve(DOCUMENT_PATH, clientMetadataDocument(`${documents.origin}${DOCUMENT_PATH}`));
    issuer = await startIssuer({
      accessTokenTTL: TOKEN_TTL_SECONDS,
      clientMetadataFetch: documents?.fetch,
      clients: [
        {
          client_id: 'desk-app',
          client_secret: 'desk-app-secret',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
        // Public, pre-registered, and not limited to the scopes it first asked for: a client that
        // registers dynamically is limited to those by the provider, so it could not step up.
        {
          client_id: 'cli-app',
          token_endpoint_auth_method: 'none',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
      ],
    });
    issuer.provider.on('registration_create.success', () => registrations++);
    issuer.provider.on('grant.success', (ctx) => {
      const params = ctx.oidc.params as Record<string, unknown>;
      grants.push({
        grantType: String(params.grant_type),
        clientId: ctx.oidc.client?.clientId,
        codeVerifier: typeof params.code_verifier === 'string',
      });
    });
    config = {
      auth: {
        anonymous: false,
        jwt: [{ issuer: issuer.issuer, clockSkewSeconds: 0 }],
        requiredScopes: ['mcp:tools'],
      },
      upstreams: { everything: { ...stdio(servers.everything), share: 'gateway' } },
      virtualServers: { ops: {}, dev: {} },
      // Only alice may use anything: what bob sees proves whom the gateway took him for.
      policy: {
        unmatched: 'deny',
        rules: [{ id: 'alice-only', effect: 'allow', principals: { users: ['alice'] } }],
      },
    };
    gateway = await startTestGateway({
      ...config,
      auth: { ...(config.auth as object), resource: 'http://127.0.0.1:1/mcp' },
    });
    url = `${gateway.url}/mcp`;
    // The gateway's own URL is known only once it listens: the operator's `auth.resource`.
    config.auth = { ...(config.auth as object), resource: url };
    gateway.reload(configSchema.parse(config));
  });
  after(async () => {
    await gateway?.close();
    await issuer?.close();
    await documents?.close();
  });

  test('the v2 SDK client registers, signs alice in with PKCE and calls a tool as alice', async () => {
    const alice = new SignedInUser('alice');
    const client = await connectAs(url, alice);
    try {
      assert.equal(await echo(client, 'hello'), 'Echo: hello');
    } finally {
      await client.close();
    }
    // Dynamic registration, then one authorization request, with PKCE S256 and this resource.
    assert.ok(alice.client?.client_id, 'registered a client');
    assert.equal(registrations, 1);
    assert.equal(alice.authorizationUrls.length, 1);
    const authorization = alice.authorizationUrls[0]!.searchParams;
    assert.equal(authorization.get('code_challenge_method'), 'S256');
    assert.equal(authorization.get('code_challenge'), alice.challenge());
    assert.equal(authorization.get('resource'), url);
    assert.deepEqual(authorization.get('scope')?.split(' ').sort(), ['mcp:tools', 'offline_access']);
    const code = grants.find(
      (g) => g.grantType === 'authorization_code' && g.clientId === alice.client?.client_id,
    );
    assert.ok(code?.codeVerifier, 'the code was exchanged with its PKCE verifier');
    // The token is alice's, for exactly this gateway.
    const claims = alice.claims();
    assert.equal(claims.aud, url);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.iss, issuer.issuer);
    assert.ok(alice.tokens()?.refresh_token, 'offline access was granted');
  });

  test('a client named by its metadata document URL (CIMD) signs in without registering', {
    skip: !haveOpenssl && 'openssl is needed for the HTTPS document server',
  }, async () => {
    const documentUrl = `${documents!.origin}${DOCUMENT_PATH}`;
    const alice = new SignedInUser('alice', { clientMetadataUrl: documentUrl });
    const before = registrations;
    const client = await connectAs(url, alice);
    try {
      assert.equal(await echo(client, 'cimd'), 'Echo: cimd');
    } finally {
      await client.close();
    }
    assert.equal(registrations, before, 'no dynamic registration');
    assert.ok((documents!.hits.get(DOCUMENT_PATH) ?? 0) > 0, 'the provider fetched the document');
    assert.equal(alice.client?.client_id, documentUrl);
    assert.equal(alice.claims().client_id, documentUrl);
    assert.equal(alice.claims().aud, url);
  });

  test('the gateway sees the signed-in user: the policy that admits alice shows bob nothing', async () => {
    const bob = new SignedInUser('bob');
    const client = await connectAs(url, bob);
    try {
      assert.equal(bob.claims().sub, 'bob');
      assert.deepEqual((await client.listTools()).tools, []);
    } finally {
      await client.close();
    }
  });

  test('an expired access token is refreshed and the session carries on', async () => {
    const alice = new SignedInUser('alice');
    const client = await connectAs(url, alice);
    try {
      assert.equal(await echo(client, 'before'), 'Echo: before');
      const session = (client.transport as StreamableHTTPClientTransport).sessionId;
      assert.ok(session);
      const first = alice.tokens()!;
      const exp = alice.claims().exp!;
      const refreshes = grants.filter((g) => g.grantType === 'refresh_token').length;
      // Past the token's expiry (the gateway allows no clock skew here).
      await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 1100));
      const expired = await post(
        url,
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        {
          authorization: `Bearer ${first.access_token}`,
        },
      );
      assert.equal(expired.status, 401);
      assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

      assert.equal(await echo(client, 'after'), 'Echo: after');
      assert.equal((client.transport as StreamableHTTPClientTransport).sessionId, session);
      assert.notEqual(alice.tokens()!.access_token, first.access_token);
      assert.ok(grants.filter((g) => g.grantType === 'refresh_token').length > refreshes, 'refreshed');
      assert.equal(alice.authorizationUrls.length, 1, 'no second sign-in');
      assert.equal(alice.claims().aud, url);
    } finally {
      await client.close();
    }
  });

  test('the v1 SDK client signs in with a pre-registered confidential client', async () => {
    const desk = new SignedInUser('alice', {
      client: { client_id: 'desk-app', client_secret: 'desk-app-secret', issuer: issuer.issuer },
    });
    const transport = new TransportV1(new URL(url), { authProvider: desk });
    await assert.rejects(
      new ClientV1({ name: 'oauth-flow-v1', version: '1.0.0' }).connect(transport),
      /Unauthorized/,
    );
    const code = desk.callback?.searchParams.get('code');
    assert.ok(code, `no code: ${desk.callback}`);
    await transport.finishAuth(code);
    const client = new ClientV1({ name: 'oauth-flow-v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(url), { authProvider: desk }));
    try {
      assert.equal(await echo(client, 'v1'), 'Echo: v1');
    } finally {
      await client.close();
    }
    assert.equal(desk.authorizationUrls[0]!.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(desk.claims().client_id, 'desk-app');
    assert.equal(desk.claims().aud, url);
    const exchange = grants.find((g) => g.grantType === 'authorization_code' && g.clientId === 'desk-app');
    assert.ok(exchange?.codeVerifier, 'the code was exchanged with its PKCE verifier');
  });

  test('a legacy HTTP+SSE client (v1 SDK) signs in for /sse/ops and posts its messages with that token', async () => {
    const alice = new SignedInUser('alice');
    const endpoint = new URL(`${gateway.url}/sse/ops`);
    const transport = new SSEClientTransport(endpoint, { authProvider: alice });
    await assert.rejects(
      new ClientV1({ name: 'oauth-flow-sse', version: '1.0.0' }).connect(transport),
      /Unauthorized/,
    );
    const code = alice.callback?.searchParams.get('code');
    assert.ok(code, `no code: ${alice.callback}`);
    await transport.finishAuth(code);
    assert.equal(alice.claims().aud, endpoint.href);
    const client = new ClientV1({ name: 'oauth-flow-sse', version: '1.0.0' });
    await client.connect(new SSEClientTransport(endpoint, { authProvider: alice }));
    try {
      assert.equal(await echo(client, 'legacy'), 'Echo: legacy');
    } finally {
      await client.close();
    }
  });

  test('a token issued for another resource is refused with 401 invalid_token', async () => {
    const other = await issuer.token({ resource: 'http://127.0.0.1:2/mcp', scope: 'mcp:tools' });
    assert.equal(decodeJwt(other).aud, 'http://127.0.0.1:2/mcp');
    const res = await post(
      url,
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { authorization: `Bearer ${other}` },
    );
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, /error="invalid_token"/);
    assert.match(
      challenge,
      new RegExp(`resource_metadata="${gateway.url}/.well-known/oauth-protected-resource/mcp"`),
    );
  });

  test('a token without a required scope gets 403 insufficient_scope naming the scope', async () => {
    const narrow = await issuer.token({ resource: url, scope: 'mcp:admin' });
    const res = await post(
      url,
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { authorization: `Bearer ${narrow}` },
    );
    assert.equal(res.status, 403);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="mcp:tools"/);
    assert.match(challenge, /resource_metadata="/);
  });

  test('protected-resource metadata names each endpoint, and a client signs in for a virtual server', async () => {
    const root = await metadata(`${gateway.url}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(root.resource, url);
    assert.deepEqual(root.authorization_servers, [issuer.issuer]);
    assert.deepEqual(root.scopes_supported, ['mcp:tools']);
    const ops = await metadata(`${gateway.url}/.well-known/oauth-protected-resource/mcp/ops`);
    assert.equal(ops.resource, `${url}/ops`);

    const unauthenticated = await post(`${url}/ops`, { jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal(unauthenticated.status, 401);
    assert.match(
      unauthenticated.headers.get('www-authenticate') ?? '',
      new RegExp(`resource_metadata="${gateway.url}/.well-known/oauth-protected-resource/mcp/ops"`),
    );

    const alice = new SignedInUser('alice');
    const client = await connectAs(`${url}/ops`, alice);
    try {
      assert.equal(alice.claims().aud, `${url}/ops`);
      assert.equal(await echo(client, 'ops'), 'Echo: ops');
    } finally {
      await client.close();
    }
  });

  test('a token for a virtual server is good there only; one for the gateway is good everywhere', async () => {
    // Regression (issue 3): the gateway advertised `…/mcp/ops` as the resource but accepted only
    // tokens for `…/mcp`, so a client that signed in for a virtual server was refused there.
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const forOps = await issuer.token({ resource: `${url}/ops`, scope: 'mcp:tools' });
    for (const [endpoint, status] of [
      [`${url}/ops`, 200],
      [`${url}/dev`, 401],
      [url, 401],
    ] as const) {
      const res = await post(endpoint, ping, { authorization: `Bearer ${forOps}` });
      // 400: a ping outside a session, past authentication.
      assert.equal(res.status === 400 ? 200 : res.status, status, endpoint);
      if (status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
    const forGateway = await issuer.token({ resource: url, scope: 'mcp:tools' });
    for (const endpoint of [url, `${url}/ops`, `${url}/dev`]) {
      const res = await post(endpoint, ping, { authorization: `Bearer ${forGateway}` });
      assert.notEqual(res.status, 401, endpoint);
    }
    const elsewhere = await issuer.token({ resource: `http://127.0.0.1:2/mcp/ops`, scope: 'mcp:tools' });
    assert.equal((await post(`${url}/ops`, ping, { authorization: `Bearer ${elsewhere}` })).status, 401);
  });

  test('a token lacking a newly required scope makes the client sign in again for it (step-up)', async () => {
    const alice = new SignedInUser('alice', { client: { client_id: 'cli-app', issuer: issuer.issuer } });
    await (await connectAs(url, alice)).close();
    assert.equal(alice.claims().scope, 'mcp:tools');
    const auth = config.auth as Record<string, unknown>;
    gateway.reload(
      configSchema.parse({ ...config, auth: { ...auth, requiredScopes: ['mcp:tools', 'mcp:admin'] } }),
    );
    try {
      const client = await connectAs(url, alice, { signInAgain: true });
      try {
        assert.equal(await echo(client, 'admin'), 'Echo: admin');
      } finally {
        await client.close();
      }
      assert.equal(alice.authorizationUrls.length, 2);
      const scope = alice.authorizationUrls[1]!.searchParams.get('scope')?.split(' ').sort();
      assert.deepEqual(scope, ['mcp:admin', 'mcp:tools', 'offline_access']);
      assert.deepEqual(String(alice.claims().scope).split(' ').sort(), ['mcp:admin', 'mcp:tools']);
    } finally {
      gateway.reload(configSchema.parse(config));
    }
  });
});
