// Issue 3, upstream credentials: a bearer token for an HTTP upstream kept in the encrypted local
// store (`${secret:NAME}`), rotated with `gatehouse secrets rotate` while `gatehouse start` runs.
// Everything is real: the gateway and the CLI are child processes, the upstream is an MCP server
// that checks the token, and the client is the official SDK.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { newMasterKey } from '../../src/secrets/cipher.ts';
import { gatehouse, type RunningGateway, startGatehouse } from '../helpers/cli.ts';
import { waitFor } from '../helpers/processes.ts';

const fixture = fileURLToPath(new URL('../fixtures/bearer-server.ts', import.meta.url));
const OLD = 'tok-old-4b1e7d';
const NEW = 'tok-new-9c3a51';

describe('rotating an upstream credential in the secret store, without a restart', () => {
  let dir: string;
  let tokensFile: string;
  let configFile: string;
  let upstream: ChildProcess;
  let upstreamLog = '';
  let gateway: RunningGateway;
  let client: Client;
  const env = { PATH: process.env['PATH'], GATEHOUSE_MASTER_KEY: newMasterKey() };

  /** What `whoami` through the gateway says it was called with. */
  const whoami = async (c: Client) => {
    const result = await c.callTool({ name: 'api__whoami', arguments: {} });
    return (result.content as { type: string; text: string }[]).map((p) => p.text).join('');
  };
  const connect = async () => {
    const c = new Client({ name: 'secrets-rotation', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
    return c;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-rotation-'));
    tokensFile = join(dir, 'accepted-tokens');
    await writeFile(tokensFile, `${OLD}\n`);
    upstream = spawn(process.execPath, [fixture, tokensFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    upstream.stdout?.setEncoding('utf8').on('data', (chunk: string) => (upstreamLog += chunk));
    assert.ok(await waitFor(() => upstreamLog.includes('listening'), 10_000), 'the upstream did not start');
    const upstreamUrl = /listening (\S+)/.exec(upstreamLog)![1]!;

    configFile = join(dir, 'gatehouse.yaml');
    await writeFile(
      configFile,
      `listen: { port: 0 }
auth: { anonymous: true }
secrets:
  store: ${join(dir, 'secrets.json')}
  masterKey: { env: GATEHOUSE_MASTER_KEY }
audit:
  store: { type: sqlite, file: ${join(dir, 'audit.db')} }
  spoolFile: ${join(dir, 'audit.spool')}
upstreams:
  api:
    transport: http
    url: ${upstreamUrl}
    headers: { Authorization: "Bearer \${secret:API_TOKEN}" }
`,
    );
    const set = await gatehouse(['secrets', 'set', 'API_TOKEN', '--config', configFile], {
      input: `${OLD}\n`,
      env,
    });
    assert.equal(set.code, 0, set.stderr);
    gateway = await startGatehouse(configFile, env);
    client = await connect();
  });

  after(async () => {
    await client?.close();
    for (const child of [gateway?.child, upstream]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('the upstream receives the stored token', async () => {
    assert.equal(await whoami(client), `called with ${OLD}`);
    assert.match(upstreamLog, new RegExp(`auth ${OLD} accepted`));
  });

  test('after `gatehouse secrets rotate`, the same session reaches the upstream with the new token, which has revoked the old one', async () => {
    const pid = gateway.child.pid;
    // The provider issues the new token; for now both are valid.
    await writeFile(tokensFile, `${OLD}\n${NEW}\n`);
    const from = gateway.stderr().length;
    const rotated = await gatehouse(['secrets', 'rotate', 'API_TOKEN', '--config', configFile], {
      input: `${NEW}\n`,
      env,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(rotated.stdout, 'Rotated secret API_TOKEN to version 2.\n');
    const reloaded = await waitFor(
      () => gateway.stderr().includes('config reloaded (secret store changed)', from),
      10_000,
    );
    assert.ok(reloaded, `the gateway did not reload; stderr:\n${gateway.stderr().slice(from)}`);

    // The provider revokes the old token: a call that still carried it would now fail.
    await writeFile(tokensFile, `${NEW}\n`);
    const logFrom = upstreamLog.length;
    assert.equal(await whoami(client), `called with ${NEW}`);
    assert.match(upstreamLog.slice(logFrom), new RegExp(`auth ${NEW} accepted`));
    assert.doesNotMatch(upstreamLog.slice(logFrom), new RegExp(OLD));

    // The old token is refused by the upstream now; the gateway never restarted.
    const refused = await fetch((/listening (\S+)/.exec(upstreamLog) ?? [])[1]!, {
      method: 'POST',
      headers: { authorization: `Bearer ${OLD}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(refused.status, 401);
    assert.equal(gateway.child.pid, pid);
    assert.equal(gateway.child.exitCode, null);
  });

  test('a new session uses the new token too', async () => {
    const fresh = await connect();
    try {
      assert.equal(await whoami(fresh), `called with ${NEW}`);
    } finally {
      await fresh.close();
    }
  });

  test('the gateway never wrote either token to its output', () => {
    for (const token of [OLD, NEW]) assert.ok(!gateway.stderr().includes(token), gateway.stderr());
  });
});
