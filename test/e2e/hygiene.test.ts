// No leaked child processes: every upstream process a session starts ends with the session,
// whether the client says goodbye (it never does here), goes idle past the TTL, or the gateway
// closes.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import type { Gateway } from '../../src/gateway.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { openSession, request } from '../helpers/mcp-http.ts';
import { childrenOf, waitFor } from '../helpers/processes.ts';

const SESSIONS = 20;
const SCRIPT = servers.memory;
const upstreamCount = () => childrenOf(process.pid, SCRIPT).length;

describe('process hygiene', () => {
  const gateways: Gateway[] = [];
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
  });

  const start = async () => {
    const gateway = await startTestGateway({
      sessions: { idleTtlSeconds: 1 },
      upstreams: { memory: stdio(SCRIPT, [], { MEMORY_FILE_PATH: '/dev/null' }) },
    });
    gateways.push(gateway);
    return gateway;
  };

  test('ends the upstream processes of sessions left idle past the TTL', async () => {
    const gateway = await start();
    const url = `${gateway.url}/mcp`;
    // Starting 20 Node processes on a busy 2-core machine takes longer than the 1 s TTL: open
    // them under a long TTL, then reload the short one (reload applies to live sessions too).
    const short = gateway.config;
    gateway.reload(configSchema.parse({ ...short, sessions: { idleTtlSeconds: 60 } }));
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i += 5) {
      ids.push(...(await Promise.all(Array.from({ length: 5 }, () => openSession(url)))));
    }
    assert.equal(gateway.sessionCount(), SESSIONS);
    assert.equal(upstreamCount(), SESSIONS, 'one upstream process per session');
    gateway.reload(short);

    // Idle TTL 1 s; a stdio child gets up to 2 s to exit after its stdin closes.
    assert.ok(await waitFor(() => upstreamCount() === 0, 8000), `${upstreamCount()} upstream processes left`);
    assert.equal(gateway.sessionCount(), 0);

    // An expired session is gone for its client too: 404, so it knows to start again.
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': ids[0]!,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 404);
  });

  test('keeps a session that is in use past the TTL', async () => {
    const gateway = await start();
    const url = `${gateway.url}/mcp`;
    const id = await openSession(url);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 400));
      const response = await request(url, id, 'ping');
      assert.deepEqual(response.result, {}, `ping ${i} after ${(i + 1) * 400} ms`);
    }
    assert.equal(upstreamCount(), 1);
    await gateway.close();
    assert.equal(upstreamCount(), 0);
  });

  test('ends every upstream process when the gateway closes', async () => {
    const gateway = await start();
    const url = `${gateway.url}/mcp`;
    await Promise.all(Array.from({ length: 5 }, () => openSession(url)));
    assert.equal(upstreamCount(), 5);
    await gateway.close();
    assert.equal(upstreamCount(), 0, 'close() resolves only after the children are gone');
  });
});
