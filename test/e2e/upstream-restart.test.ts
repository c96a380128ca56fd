// An upstream that goes away and comes back: the gateway reconnects on its own, tells the client
// its lists changed (the restarted server may offer different things), and the session survives.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from '../../src/gateway.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { connectV1, type HttpUpstream, startEverythingHttp, textOf, waitFor } from './peers.ts';

/** The pid of this process's one child running `script` over stdio (spawned by the gateway). */
function stdioChild(script: string): number {
  const lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(script) && !l.includes('streamableHttp'));
  assert.equal(lines.length, 1, `exactly one stdio child runs ${script}: ${lines.join(' | ')}`);
  return Number(lines[0]!.trim().split(/\s+/)[0]);
}

describe('an upstream restart seen through the gateway', { concurrency: false }, () => {
  let gateway: Gateway;
  let upstream: HttpUpstream;
  let client: Client;
  let toolsChanged = 0;

  before(async () => {
    upstream = await startEverythingHttp();
    gateway = await startTestGateway({
      upstreams: {
        every: stdio(servers.everything),
        everyhttp: { transport: 'http', url: upstream.url, timeoutMs: 5000, connectTimeoutMs: 5000 },
      },
    });
    ({ client } = await connectV1(`${gateway.url}/mcp`));
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      toolsChanged++;
    });
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await upstream?.stop();
  });

  test('restarts a crashed stdio upstream, sends tools/list_changed, and the session keeps working', async () => {
    const first = await client.callTool({ name: 'every__echo', arguments: { message: 'before crash' } });
    assert.equal(textOf(first), 'Echo: before crash');
    const pid = stdioChild(servers.everything);
    const changedBefore = toolsChanged;
    process.kill(pid, 'SIGKILL');

    let text = '';
    for (let attempt = 0; attempt < 40 && text !== 'Echo: after crash'; attempt++) {
      text = await client
        .callTool({ name: 'every__echo', arguments: { message: 'after crash' } })
        .then(textOf, (e: Error) => `error: ${e.message}`);
      if (text !== 'Echo: after crash') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(text, 'Echo: after crash');
    assert.notEqual(stdioChild(servers.everything), pid, 'a new process serves the session');
    await waitFor(() => toolsChanged > changedBefore, 5000, 'notifications/tools/list_changed');
  });

  // server-everything (SDK v1 example app) answers a request for a session it does not know with
  // 400 "No valid session ID provided", not the spec's 404; the gateway must still recover.
  test('reconnects to a restarted HTTP upstream, sends tools/list_changed, and the session keeps working', async () => {
    const first = await client.callTool({ name: 'everyhttp__echo', arguments: { message: 'before' } });
    assert.equal(textOf(first), 'Echo: before');
    const port = Number(new URL(upstream.url).port);
    await upstream.stop();
    upstream = await startEverythingHttp(port);
    const changedBefore = toolsChanged;

    // The first call after the restart may fail (the old upstream session is gone); the gateway
    // must notice, reconnect, and serve the next calls without the client re-initializing.
    let text = '';
    for (let attempt = 0; attempt < 40 && text !== 'Echo: after'; attempt++) {
      text = await client
        .callTool({ name: 'everyhttp__echo', arguments: { message: 'after' } })
        .then(textOf, (e: Error) => `error: ${e.message}`);
      if (text !== 'Echo: after') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(text, 'Echo: after');
    await waitFor(() => toolsChanged > changedBefore, 5000, 'notifications/tools/list_changed');
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('everyhttp__echo'));
    // The other upstream was never disturbed.
    const other = await client.callTool({ name: 'every__echo', arguments: { message: 'unaffected' } });
    assert.equal(textOf(other), 'Echo: unaffected');
  });
});
