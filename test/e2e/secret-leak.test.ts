// Issue 3: "A test runs the suites with known secret values and scans everything produced — logs,
// errors, audit, metrics, config dumps — for them: none may appear."
//
// Distinctive secrets are planted in every place a secret lives (upstream headers from ${ENV},
// ${file:} and ${secret:}, credentials in an upstream URL, stdio env, the master key, API keys,
// JWTs, onBehalfOf client secrets, and every token the identity providers issue during the run),
// then `gatehouse start` (a real child process) and the CLI are driven through successes and
// failures: SDK clients calling tools, refused credentials, upstreams that refuse theirs or are
// down, a per-user OAuth flow, a rotated secret, broken configs on reload, validate, keys, secrets
// and policy explain. Everything they produce is captured — every process's stdout and stderr,
// every HTTP response to a client (status, headers, body, SSE streams), the open endpoints, every
// file the gateway wrote — and scanned once, at the end, for every secret in every encoding
// test/helpers/leak-scan.ts knows.
//
// Audit and metrics (issue 4) are being added. Every file the gateway writes in its working
// directory is scanned, so a file audit store is covered the day it is written, and /metrics is
// fetched with the other open endpoints (a 404 until it exists). Any other surface (an audit sink,
// an export command) is one more line: `captures.add(source, text)` or `captures.request(...)`.
// One file on purpose: the scan must see everything one run produced.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { stringify } from 'yaml';
import { newMasterKey } from '../../src/secrets/cipher.ts';
import { gatehouse } from '../helpers/cli.ts';
import { servers } from '../helpers/gateway.ts';
import { Captures, findLeaks, mask, type Secret } from '../helpers/leak-scan.ts';
import { PROTOCOL_VERSION } from '../helpers/mcp-http.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc.ts';
import { enableTokenExchange, TOKEN_EXCHANGE } from '../helpers/oidc-exchange.ts';
import { signIn } from '../helpers/oidc-login.ts';
import { waitFor } from '../helpers/processes.ts';
import { type ProtectedUpstream, startProtectedUpstream } from '../helpers/protected-upstream.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const BEARER_FIXTURE = fileURLToPath(new URL('../fixtures/bearer-server.ts', import.meta.url));
const MODERN = '2026-07-28';
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'leak', version: '0' } },
});

/** A value nobody could produce by chance; `+/=` make its URL, form and JSON spellings differ. */
const canary = (what: string, safe = false) =>
  `LEAK-CANARY-${what}${safe ? '-' : '+/='}${randomBytes(8).toString('hex')}`;

// The planted secrets. Those the run creates (API keys, tokens) are added to `secrets` as they appear.
const MASTER_KEY = newMasterKey();
const WRONG_MASTER_KEY = newMasterKey();
const planted = {
  envHeader: canary('env-header'),
  fileHeader: canary('file-header'),
  storeHeader: canary('store-header'),
  storeHeaderRotated: canary('store-header-v2'),
  storeExtraHeader: canary('store-extra-header'),
  urlPassword: canary('url-password', true),
  refusedToken: canary('refused-by-upstream'),
  downToken: canary('down-upstream'),
  urlPathSecret: canary('url-path', true),
  urlQueryToken: canary('url-query', true),
  twoLineFile: [canary('two-line-file-first'), canary('two-line-file-second')] as const,
  stdioEnvStore: canary('stdio-env-store'),
  stdioEnvEnv: canary('stdio-env-env'),
  exchangeClientSecret: canary('exchange-client-secret'),
  wrongExchangeSecret: canary('wrong-exchange-secret'),
  oauthClientSecret: canary('oauth-client-secret'),
  junkBearer: canary('junk-bearer', true),
  basicPassword: canary('basic-password', true),
  malformedMasterKey: canary('malformed-master-key'),
};
const URL_USER = 'leak-user';
const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

const secrets: Secret[] = [
  { name: 'upstream header from ${ENV}', value: planted.envHeader },
  { name: 'upstream header from ${file:}', value: planted.fileHeader },
  { name: 'upstream header from ${secret:}', value: planted.storeHeader },
  { name: 'upstream header from ${secret:}, rotated', value: planted.storeHeaderRotated },
  { name: 'second upstream header from ${secret:}', value: planted.storeExtraHeader },
  {
    name: 'password in an upstream URL',
    value: planted.urlPassword,
    derived: [{ label: 'as the Basic credential', text: basic(URL_USER, planted.urlPassword) }],
  },
  { name: 'upstream token the upstream refuses', value: planted.refusedToken },
  { name: 'token of an upstream that is down', value: planted.downToken },
  { name: 'secret in an upstream URL path', value: planted.urlPathSecret },
  { name: 'secret in an upstream URL query', value: planted.urlQueryToken },
  { name: 'first line of a two-line secret file', value: planted.twoLineFile[0] },
  { name: 'second line of a two-line secret file', value: planted.twoLineFile[1] },
  { name: 'stdio env from ${secret:}', value: planted.stdioEnvStore },
  { name: 'stdio env from ${ENV}', value: planted.stdioEnvEnv },
  {
    name: 'token-exchange client secret',
    value: planted.exchangeClientSecret,
    derived: [
      {
        label: 'as the Basic credential',
        text: basic('gatehouse-exchange', encodeURIComponent(planted.exchangeClientSecret)),
      },
    ],
  },
  {
    name: 'wrong token-exchange client secret',
    value: planted.wrongExchangeSecret,
    derived: [
      {
        label: 'as the Basic credential',
        text: basic('gatehouse-exchange', encodeURIComponent(planted.wrongExchangeSecret)),
      },
    ],
  },
  {
    name: 'oauth client secret',
    value: planted.oauthClientSecret,
    derived: [
      {
        label: 'as the Basic credential',
        text: basic('gatehouse', encodeURIComponent(planted.oauthClientSecret)),
      },
    ],
  },
  { name: 'junk bearer token', value: planted.junkBearer },
  {
    name: 'password of a Basic Authorization header',
    value: planted.basicPassword,
    derived: [{ label: 'as sent', text: basic('someone', planted.basicPassword) }],
  },
  { name: 'master key', value: MASTER_KEY, derived: rawKey(MASTER_KEY) },
  { name: 'wrong master key', value: WRONG_MASTER_KEY, derived: rawKey(WRONG_MASTER_KEY) },
  { name: 'malformed master key', value: planted.malformedMasterKey },
];

/** A 64-hex master key's 32 bytes, in the 44-character base64 form the config also accepts. */
function rawKey(hex: string) {
  const bytes = Buffer.from(hex, 'hex');
  return [
    { label: 'raw bytes, base64', text: bytes.toString('base64') },
    { label: 'raw bytes, base64url', text: bytes.toString('base64url') },
  ];
}

/** An API key, and its secret part alone (what follows the id). */
function plantKey(name: string, key: string) {
  secrets.push({ name, value: key }, { name: `${name}, secret part`, value: key.slice('gh_'.length + 13) });
}

/** Every token an identity provider issues in this run (ours, the exchanged ones, users' upstream tokens). */
function plantIssued(label: string, issuer: TestIssuer) {
  let n = 0;
  issuer.provider.on('grant.success', (ctx: { body?: unknown }) => {
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    n++;
    for (const field of ['access_token', 'refresh_token', 'id_token']) {
      const value = body[field];
      if (typeof value === 'string') secrets.push({ name: `${label} ${field} #${n}`, value });
    }
  });
}

describe('no secret appears in anything the gateway or its CLI produces', () => {
  const captures = new Captures();
  let dir: string;
  let configFile: string;
  let config: Record<string, unknown>;
  let env: NodeJS.ProcessEnv;
  let idp: TestIssuer;
  let shortIdp: TestIssuer;
  let saasAs: TestIssuer;
  let saas: ProtectedUpstream;
  let internal: ProtectedUpstream;
  let bearer: ChildProcess;
  let bearerLog = '';
  let tokensFile: string;
  let gateway: ChildProcess;
  let gatewayErr: { text: string };
  let base: string;
  let mcpUrl: string;
  let apiKey: string;
  let revokedKey: string;
  let expiredJwt: string;
  let authorizedAt = 0;
  const clients: Client[] = [];
  /** The texts we wrote ourselves: inputs with secrets in them, not the gateway's output. */
  const inputs = new Set<string>();
  /** The output of `gatehouse keys create`, which prints the key on purpose (once). */
  const keyPrintouts: { source: string; text: string }[] = [];

  /** `gatehouse ...args` in the test directory; its output is captured. */
  const cli = async (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const result = await gatehouse(args, { cwd: dir, env: options.env ?? env, input: options.input });
    const name = `gatehouse ${args.join(' ')}`;
    captures.add(`${name} (stderr)`, result.stderr);
    if (args[0] === 'keys' && args[1] === 'create') keyPrintouts.push({ source: name, text: result.stdout });
    else captures.add(`${name} (stdout)`, result.stdout);
    return result;
  };

  const client = async (name: string, token: string, url = mcpUrl) => {
    const c = new Client({ name: `leak-scan ${name}`, version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: captures.fetch(`client ${name}`),
    });
    await c.connect(transport);
    clients.push(c);
    return c;
  };

  /** Resolves when the gateway's stderr says `text` after offset `from` (`after`: what caused it). */
  const gatewaySays = async (text: string, from: number, after = '') => {
    const said = await waitFor(() => gatewayErr.text.indexOf(text, from) >= 0, 10_000);
    assert.ok(
      said,
      `expected the gateway to say ${JSON.stringify(text)} ${after}; it said:\n${masked(gatewayErr.text.slice(from))}`,
    );
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-leak-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    mcpUrl = `${base}/mcp`;

    // The identity providers: the company's (gateway sign-in, token exchange), one whose tokens
    // expire at once, and a SaaS upstream's own authorization server.
    idp = await startIssuer({
      clients: [
        {
          client_id: 'gatehouse-exchange',
          client_secret: planted.exchangeClientSecret,
          grant_types: [TOKEN_EXCHANGE],
          response_types: [],
          redirect_uris: [],
        },
      ],
    });
    enableTokenExchange(idp, mcpUrl);
    shortIdp = await startIssuer({ accessTokenTTL: 1 });
    // Users' upstream tokens live 4 s (renewed after 3 s), so a refresh happens within the run;
    // At 2 s, one fresh-clone run on a slow, busy machine was asked to authorize again here.
    saasAs = await startIssuer({
      accessTokenTTL: 4,
      clients: [
        {
          client_id: 'gatehouse',
          client_secret: planted.oauthClientSecret,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [`${base}/oauth/callback`],
        },
      ],
    });
    plantIssued('idp', idp);
    plantIssued('short-lived idp', shortIdp);
    plantIssued('SaaS authorization server', saasAs);
    saas = await startProtectedUpstream(saasAs.issuer);
    internal = await startProtectedUpstream(idp.issuer);

    // An upstream that accepts the bearer tokens listed in a file (read on every request).
    tokensFile = join(dir, 'accepted-tokens');
    const accepted = [planted.envHeader, planted.fileHeader, planted.storeHeader, planted.storeHeaderRotated];
    await writeInput(tokensFile, `${accepted.join('\n')}\n`);
    bearer = spawn(process.execPath, [BEARER_FIXTURE, tokensFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    bearer.stdout?.setEncoding('utf8').on('data', (chunk: string) => (bearerLog += chunk));
    assert.ok(
      await waitFor(() => bearerLog.includes('listening'), 10_000),
      'the bearer upstream did not start',
    );
    const bearerUrl = /listening (\S+)/.exec(bearerLog)![1]!;

    await writeInput(join(dir, 'header-token'), `${planted.fileHeader}\n`);
    await writeInput(join(dir, 'oauth-client-secret'), `${planted.oauthClientSecret}\n`);
    // Two lines where one was meant: the second line makes the header invalid.
    await writeInput(join(dir, 'two-line-token'), `${planted.twoLineFile.join('\n')}\n`);
    env = {
      PATH: process.env['PATH'],
      GATEHOUSE_MASTER_KEY: MASTER_KEY,
      LEAK_ENV_HEADER: planted.envHeader,
      LEAK_REFUSED_TOKEN: planted.refusedToken,
      LEAK_STDIO_ENV: planted.stdioEnvEnv,
      LEAK_QUERY_TOKEN: planted.urlQueryToken,
      LEAK_WRONG_EXCHANGE: planted.wrongExchangeSecret,
    };
    const bearerUpstream = (authorization: string, extra: Record<string, string> = {}) => ({
      transport: 'http',
      url: bearerUrl,
      headers: { Authorization: authorization, ...extra },
    });
    config = {
      listen: { host: '127.0.0.1', port },
      auth: {
        resource: mcpUrl,
        apiKeys: { file: 'keys.json' },
        jwt: [{ issuer: idp.issuer }, { issuer: shortIdp.issuer, clockSkewSeconds: 0 }],
      },
      secrets: { store: 'secrets.json', masterKey: { env: 'GATEHOUSE_MASTER_KEY' } },
      userTokens: { file: 'user-tokens.json' },
      policy: {
        rules: [
          {
            id: 'no-forbidden-echo',
            effect: 'deny',
            targets: { tools: ['everything__echo'] },
            when: 'args.message == "forbidden"',
          },
        ],
      },
      upstreams: {
        envauth: bearerUpstream('Bearer ${LEAK_ENV_HEADER}'),
        fileauth: bearerUpstream(`Bearer \${file:${join(dir, 'header-token')}}`),
        storeauth: bearerUpstream('Bearer ${secret:STORE_HEADER}', {
          'X-Extra-Key': '${secret:STORE_EXTRA}',
        }),
        refused: bearerUpstream('Bearer ${LEAK_REFUSED_TOKEN}'),
        badheader: bearerUpstream(`Bearer \${file:${join(dir, 'two-line-token')}}`),
        // Credentials in the URL become Basic auth; this upstream wants a bearer JWT and refuses them.
        urlauth: { transport: 'http', url: saas.url.replace('//', `//${URL_USER}:\${secret:URL_PASSWORD}@`) },
        legacy: {
          transport: 'sse',
          url: `${bearerUrl.replace('//', `//${URL_USER}:\${secret:URL_PASSWORD}@`)}?token=\${LEAK_QUERY_TOKEN}`,
        },
        // Some hosted MCP servers put the credential in the URL's path or query.
        down: {
          transport: 'http',
          url: `http://127.0.0.1:${await freePort()}/s/\${secret:URL_PATH}/mcp?key=\${LEAK_QUERY_TOKEN}`,
          headers: { Authorization: 'Bearer ${secret:DOWN_TOKEN}' },
          connectTimeoutMs: 2000,
        },
        everything: {
          transport: 'stdio',
          command: process.execPath,
          args: [servers.everything],
          env: { LEAK_STDIO_SECRET: '${secret:STDIO_ENV}' },
        },
        broken: {
          transport: 'stdio',
          command: join(dir, 'no-such-server'),
          env: { LEAK_STDIO_SECRET: '${LEAK_STDIO_ENV}' },
        },
        internal: {
          transport: 'http',
          url: internal.url,
          onBehalfOf: {
            method: 'token-exchange',
            issuer: idp.issuer,
            clientId: 'gatehouse-exchange',
            clientSecret: '${secret:EXCHANGE_CLIENT_SECRET}',
          },
        },
        internalbad: {
          transport: 'http',
          url: internal.url,
          onBehalfOf: {
            method: 'token-exchange',
            issuer: idp.issuer,
            clientId: 'gatehouse-exchange',
            clientSecret: '${LEAK_WRONG_EXCHANGE}',
          },
        },
        saas: {
          transport: 'http',
          url: saas.url,
          onBehalfOf: {
            method: 'oauth',
            issuer: saasAs.issuer,
            clientId: 'gatehouse',
            clientSecret: `\${file:${join(dir, 'oauth-client-secret')}}`,
            scopes: ['openid', 'offline_access', 'mcp:tools'],
          },
        },
      },
    };
    configFile = join(dir, 'gatehouse.yaml');
    await writeInput(configFile, stringify(config));

    // The store's secrets are set as an operator does, from stdin; the API keys meanwhile (another file).
    const setSecrets = async () => {
      for (const [name, value] of Object.entries({
        STORE_HEADER: planted.storeHeader,
        STORE_EXTRA: planted.storeExtraHeader,
        URL_PASSWORD: planted.urlPassword,
        DOWN_TOKEN: planted.downToken,
        URL_PATH: planted.urlPathSecret,
        STDIO_ENV: planted.stdioEnvStore,
        EXCHANGE_CLIENT_SECRET: planted.exchangeClientSecret,
      })) {
        const set = await cli(['secrets', 'set', name, '--config', configFile], { input: `${value}\n` });
        assert.equal(set.code, 0, set.stderr);
      }
    };
    const createKeys = async () => {
      const created = await cli([
        'keys',
        'create',
        '--name',
        'agent',
        '--role',
        'ops',
        '--store',
        'keys.json',
      ]);
      assert.equal(created.code, 0, created.stderr);
      apiKey = created.stdout.trim();
      plantKey('API key', apiKey);
      revokedKey = (await cli(['keys', 'create', '--name', 'retired', '--store', 'keys.json'])).stdout.trim();
      plantKey('revoked API key', revokedKey);
      assert.equal((await cli(['keys', 'revoke', 'retired', '--store', 'keys.json'])).code, 0);
    };
    await Promise.all([setSecrets(), createKeys()]);
    // Issued now, expired (clock skew 0) by the time it is presented.
    expiredJwt = await shortIdp.token({ resource: mcpUrl });

    gateway = spawn(process.execPath, [MAIN, 'start', '--config', configFile], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { stdout, stderr } = captures.process('gatehouse start', gateway);
    gatewayErr = stderr;
    const listening = await waitFor(() => stdout.text.includes(`listening on ${mcpUrl}`), 15_000);
    assert.ok(listening, `the gateway did not start; stderr:\n${masked(stderr.text)}`);
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const child of [gateway, bearer]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await Promise.allSettled([
      saas?.close(),
      internal?.close(),
      idp?.close(),
      shortIdp?.close(),
      saasAs?.close(),
    ]);
    await rm(dir, { recursive: true, force: true });
  });

  async function writeInput(file: string, text: string) {
    inputs.add(file);
    await writeFile(file, text);
  }

  test('clients call tools through upstreams credentialed from env, files, the store and token exchange', async () => {
    const agent = await client('api-key', apiKey);
    const tools = (await agent.listTools()).tools.map((t) => t.name);
    // Listed only because the upstream accepted the credential the gateway sent.
    for (const name of ['envauth__whoami', 'fileauth__whoami', 'storeauth__whoami', 'everything__echo']) {
      assert.ok(tools.includes(name), `${name} in ${tools.join(', ')}`);
    }
    assert.ok(!tools.some((t) => t.startsWith('refused__') || t.startsWith('urlauth__')));
    assert.equal(
      text(await agent.callTool({ name: 'everything__echo', arguments: { message: 'hi' } })),
      'Echo: hi',
    );
    // Progress first, so the answer is an SSE stream.
    let progress = 0;
    await agent.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined,
      { onprogress: () => progress++ },
    );
    assert.ok(progress > 0);
    // Denied by policy; and an upstream that needs the caller's IdP token, called with an API key.
    await assert.rejects(
      agent.callTool({ name: 'everything__echo', arguments: { message: 'forbidden' } }),
      /Denied by policy/,
    );
    const internalByKey = await agent
      .callTool({ name: 'internal__whoami', arguments: {} })
      .then(text, (err: Error) => err.message);
    assert.match(internalByKey, /Unknown tool/);

    const user = await client('jwt', await idp.token({ resource: mcpUrl }));
    assert.equal(text(await user.callTool({ name: 'internal__whoami', arguments: {} })), 'you are agent-one');
    assert.equal(text(await user.callTool({ name: 'internal__echo', arguments: { text: 'x' } })), 'x');
    // The credentials reached the upstreams (so the scan below is not looking for unused values).
    for (const token of [planted.envHeader, planted.fileHeader, planted.storeHeader]) {
      assert.ok(
        bearerLog.includes(`auth ${token} accepted`),
        'a header credential did not reach its upstream',
      );
    }
    assert.ok(bearerLog.includes(`auth ${planted.refusedToken} refused`));
    assert.ok(saas.seen.includes(`Basic ${basic(URL_USER, planted.urlPassword)}`));
  });

  test('a user authorizes an upstream once through the gateway, then calls it with their own token', async () => {
    const agent = clients[0]!;
    const link = /open (\S+) to let/.exec(
      text(await agent.callTool({ name: 'saas__authorize', arguments: {} })),
    )?.[1];
    assert.ok(link, 'no authorization link');
    const consent = await captures.request('consent page', link);
    assert.equal(consent.status, 200);
    const confirm = await captures.request('consent confirmed', `${base}/oauth/authorize`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ state: new URL(link).searchParams.get('state')! }).toString(),
    });
    assert.equal(confirm.status, 303);
    const back = await signIn(String(confirm.headers.location), 'leak-user-at-saas');
    secrets.push({ name: 'authorization code', value: back.searchParams.get('code')! });
    const cookie = String(confirm.headers['set-cookie']).split(';')[0]!;
    const done = await captures.request('oauth callback', back.href, { headers: { cookie } });
    assert.equal(done.status, 200, masked(done.body));
    // A replayed callback is refused.
    await captures.request('oauth callback replayed', back.href, { headers: { cookie } });
    assert.equal(
      text(await agent.callTool({ name: 'saas__whoami', arguments: {} })),
      'you are leak-user-at-saas',
    );
    authorizedAt = Date.now();
  });

  test('refused credentials get their 401, 403 or 429, and no more', async () => {
    if ((decodeJwt(expiredJwt).exp ?? 0) * 1000 >= Date.now()) await sleep(1100);
    const valid = await idp.token({ resource: mcpUrl });
    const tampered = `${valid.slice(0, -8)}${valid.slice(-8) === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA'}`;
    const wrongKey = `${apiKey.slice(0, 'gh_'.length + 13)}${randomBytes(32).toString('base64url')}`;
    const probes: Record<string, string> = {
      'a well-formed API key with a wrong secret': wrongKey,
      'a truncated API key': apiKey.slice(0, -1),
      'a revoked API key': revokedKey,
      'an expired JWT': expiredJwt,
      'a JWT for another audience': await idp.token({ resource: 'https://elsewhere.example/mcp' }),
      'a JWT with a tampered signature': tampered,
      'a JWT from an unknown issuer': await saasAs.token({ resource: mcpUrl }),
      'a junk bearer token': planted.junkBearer,
    };
    for (const [what, token] of Object.entries(probes)) {
      if (!secrets.some((s) => s.value === token)) secrets.push({ name: what, value: token });
    }
    const post = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    let source = 20;
    const probe = async (what: string, path: string, headers: Record<string, string>, method = 'POST') => {
      const res = await captures.request(`${method} ${path} with ${what}`, `${base}${path}`, {
        method,
        headers: method === 'POST' ? { ...post, ...headers } : headers,
        body: method === 'POST' ? INITIALIZE : undefined,
        localAddress: `127.0.0.${source++}`,
      });
      assert.ok([401, 403].includes(res.status), `${what}: ${res.status} ${masked(res.body)}`);
    };
    for (const [what, token] of Object.entries(probes)) {
      await probe(what, '/mcp', { authorization: `Bearer ${token}` });
    }
    await probe('Basic credentials', '/mcp', {
      authorization: `Basic ${basic('someone', planted.basicPassword)}`,
    });
    await probe('no credentials', '/mcp', {});
    await probe('the key in the query string', `/mcp?access_token=${apiKey}`, {});
    await probe('a bad key on the legacy SSE stream', '/sse', { authorization: `Bearer ${wrongKey}` }, 'GET');
    await probe('a bad key on DELETE', '/mcp', { authorization: `Bearer ${wrongKey}` }, 'DELETE');
    // Repeated failures from one address end in 429.
    let last = 0;
    for (let i = 0; i < 7; i++) {
      const res = await captures.request(`failure #${i + 1} from one address`, `${base}/mcp`, {
        method: 'POST',
        headers: { ...post, authorization: `Bearer ${wrongKey}` },
        body: INITIALIZE,
        localAddress: '127.0.0.99',
      });
      last = res.status;
    }
    assert.equal(last, 429);
  });

  test('the open endpoints, the legacy stream and a stateless call say nothing secret', async () => {
    for (const path of [
      '/healthz',
      '/metrics',
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-authorization-server',
      '/oauth/authorize?state=unknown',
      `/oauth/callback?state=unknown&code=${planted.junkBearer}`,
    ]) {
      await captures.request(`GET ${path}`, `${base}${path}`);
    }
    const legacy = await captures.request('legacy SSE stream with the API key', `${base}/sse`, {
      headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' },
      maxMs: 500,
    });
    assert.equal(legacy.status, 200);
    for (const [name, args] of [
      ['everything__echo', { message: 'stateless' }],
      ['refused__whoami', {}],
    ] as const) {
      await captures.request(`stateless tools/call ${name}`, `${base}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${apiKey}`,
          'mcp-protocol-version': MODERN,
          'mcp-method': 'tools/call',
          'mcp-name': name,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name,
            arguments: args,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': MODERN,
              'io.modelcontextprotocol/clientCapabilities': {},
              'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
            },
          },
        }),
      });
    }
  });

  test('an upstream that starts refusing its credential, and one that goes down, give errors', async () => {
    const [agent, user] = clients as [Client, Client];
    // The provider revokes the env token: the upstream now answers 401.
    await writeInput(
      tokensFile,
      `${planted.fileHeader}\n${planted.storeHeader}\n${planted.storeHeaderRotated}\n`,
    );
    const refused = await agent
      .callTool({ name: 'envauth__whoami', arguments: {} })
      .then(text, (err: Error) => err.message);
    assert.doesNotMatch(refused, /called with/);
    // The user's upstream token is due: it is refreshed (with the client secret) before the call.
    await sleep(Math.max(0, authorizedAt + 3100 - Date.now()));
    assert.equal(
      text(await agent.callTool({ name: 'saas__whoami', arguments: {} })),
      'you are leak-user-at-saas',
    );
    assert.ok(
      new Set(saas.seen.filter((h) => h.startsWith('Bearer '))).size >= 2,
      'the token was not renewed',
    );
    await internal.close();
    await assert.rejects(user.callTool({ name: 'internal__echo', arguments: { text: 'y' } }));
  });

  test('reloads: a rotated secret is picked up, broken configs are refused with their reasons', async () => {
    let from = gatewayErr.text.length;
    const rotated = await cli(['secrets', 'rotate', 'STORE_HEADER', '--config', configFile], {
      input: `${planted.storeHeaderRotated}\n`,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    await gatewaySays('config reloaded (secret store changed)', from);

    const upstreams = config.upstreams as Record<string, Record<string, unknown>>;
    const withExtraHeader = (value: string) =>
      stringify({
        ...config,
        upstreams: {
          ...upstreams,
          extra: { transport: 'http', url: 'http://127.0.0.1:1/', headers: { x: value } },
        },
      });
    const variants: Record<string, string> = {
      'a secret where a URL belongs': stringify({
        ...config,
        upstreams: { ...upstreams, storeauth: { ...upstreams.storeauth, url: '${secret:STORE_HEADER}' } },
      }),
      'an env secret where a port belongs': stringify({
        ...config,
        listen: { port: '${LEAK_ENV_HEADER}' },
      }),
      'a secret file where an issuer URL belongs': stringify({
        ...config,
        upstreams: {
          ...upstreams,
          saas: {
            ...upstreams.saas,
            onBehalfOf: {
              ...(upstreams.saas!.onBehalfOf as object),
              issuer: `\${file:${join(dir, 'oauth-client-secret')}}`,
            },
          },
        },
      }),
      'an unset variable': withExtraHeader('${LEAK_NOT_SET}'),
      'a secret not in the store': withExtraHeader('${secret:NOT_STORED}'),
      'a missing secret file': withExtraHeader(`\${file:${join(dir, 'nope')}}`),
      'invalid YAML': `${stringify(config)}  - not: [valid\n`,
    };
    for (const [what, variant] of Object.entries(variants)) {
      from = gatewayErr.text.length;
      await writeInput(configFile, variant);
      gateway.kill('SIGHUP');
      await gatewaySays('config NOT reloaded (SIGHUP)', from, what);
    }
    from = gatewayErr.text.length;
    await writeInput(configFile, stringify(config));
    gateway.kill('SIGHUP');
    await gatewaySays('config reloaded (SIGHUP)', from);
  });

  test('the CLI: validate (with --connect), keys list, secrets list and policy explain', async () => {
    const broken = join(dir, 'broken.yaml');
    await writeInput(broken, stringify({ ...config, listen: { port: '${LEAK_ENV_HEADER}' } }));
    const wrongKey = { ...env, GATEHOUSE_MASTER_KEY: WRONG_MASTER_KEY };
    const malformedKey = { ...env, GATEHOUSE_MASTER_KEY: planted.malformedMasterKey };
    const brokenKey = `${apiKey.slice(0, 20)}\n${apiKey.slice(20)}`;
    secrets.push({ name: 'API key with a line break', value: brokenKey });
    const connect = (header: string): string[] => ['connect', mcpUrl, '--header', header];
    const explain = ['--target', 'tool:everything__echo', '--server', 'everything', '--role', 'ops'];
    // Each command, how it is run, and the exit code it must give.
    const runs: [string[], { input?: string; env?: NodeJS.ProcessEnv }, number][] = [
      [['validate', configFile], {}, 0],
      [['validate', configFile, '--connect'], {}, 1],
      [['validate', broken], {}, 1],
      [['validate', configFile], { env: wrongKey }, 1],
      [['validate', configFile], { env: malformedKey }, 1],
      [['keys', 'list', '--store', 'keys.json'], {}, 0],
      [['secrets', 'list', '--config', configFile], {}, 0],
      [['secrets', 'list', '--config', configFile], { env: wrongKey }, 1],
      [['secrets', 'rotate', 'NOT_STORED', '--config', configFile], { input: planted.junkBearer }, 1],
      [['policy', 'explain', '--config', configFile, ...explain, '--args', '{"message":"forbidden"}'], {}, 0],
      [connect(`Authorization: Bearer ${apiKey}`), { input: `${INITIALIZE}\n` }, 0],
      [connect(`Authorization: Bearer ${revokedKey}`), { input: `${INITIALIZE}\n` }, 0],
      // A key pasted with a line break in it: the header cannot be sent.
      [connect(`Authorization: Bearer ${brokenKey}`), { input: `${INITIALIZE}\n` }, 2],
    ];
    const results = await twoAtATime(
      runs.map(
        ([args, options]) =>
          () =>
            cli(args, options),
      ),
    );
    runs.forEach(([args, , code], i) => {
      const result = results[i]!;
      assert.equal(result.code, code, masked(`gatehouse ${args.join(' ')}:\n${result.stderr}`));
    });
  });

  test('the gateway stops on SIGTERM', async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    // The metrics after everything above happened.
    await captures.request('GET /metrics at the end', `${base}/metrics`);
    const exited = once(gateway, 'exit');
    gateway.kill('SIGTERM');
    const timeout = new Promise((resolve) => setTimeout(resolve, 15_000, ['timeout']).unref());
    const [code] = (await Promise.race([exited, timeout])) as [unknown];
    assert.equal(code, 0, masked(gatewayErr.text));
  });

  test('the scan: no planted secret in any output, response or file the gateway wrote', async () => {
    // Files the gateway and the CLI wrote (key file, encrypted stores, anything else), not our inputs.
    const written = [];
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile() || inputs.has(path)) continue;
      written.push(relative(dir, path));
      captures.add(`file ${relative(dir, path)}`, await readFile(path, 'utf8'));
    }
    for (const file of ['keys.json', 'secrets.json', 'user-tokens.json']) {
      assert.ok(written.includes(file), `${file} was not written: ${written.join(', ')}`);
    }

    // The scan can see a secret: the key is in the one place it is meant to be shown.
    for (const printout of keyPrintouts) assert.notDeepEqual(findLeaks(secrets, [printout]), []);
    assert.ok(captures.all.length > 60, `only ${captures.all.length} captures`);

    if (process.env.LEAK_DUMP)
      await writeFile(
        process.env.LEAK_DUMP,
        captures.all.map((c) => `===== ${c.source}\n${c.text}`).join('\n'),
      );
    const leaks = findLeaks(secrets, captures.all);
    assert.deepEqual(leaks, [], `secrets leaked:\n${leaks.join('\n')}`);
  });
});

/** Failure messages show what the gateway said with the secrets masked, so a failing run leaks nothing. */
function masked(text: string): string {
  return mask(text, secrets);
}

function text(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** Runs the tasks two at a time: the machine may have two cores, shared with other tests. */
async function twoAtATime<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
