// Stateless (2026-07-28) clients share pooled upstream connections. A question a stdio upstream
// asks while several calls are in flight cannot be tied to one of them, so it must reach none:
// never another client's call.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestGateway, stdio } from '../helpers/gateway.ts';

const slow = fileURLToPath(new URL('../fixtures/slow-server.ts', import.meta.url));
let gateway: Awaited<ReturnType<typeof startTestGateway>>;

before(async () => {
  gateway = await startTestGateway({ upstreams: { slow: stdio(slow) } });
});
after(() => gateway.close());

function call(name: string, args: Record<string, unknown>) {
  const body = {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: {
      name,
      arguments: args,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
      },
    },
  };
  return fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  }).then((r) => r.text());
}

test("one stateless client never receives the question another client's call caused", async () => {
  const alice = call('slow__ask_after', { ms: 300 });
  await new Promise((r) => setTimeout(r, 100));
  const bob = await call('slow__sleep', { ms: 800 });
  assert.match(bob, /slept 800/);
  assert.doesNotMatch(bob, /input_required|a question for my caller/);
  // Asked while two calls were in flight, the question could not be routed: it was refused.
  assert.match(await alice, /asked: refused/);
});

test('with one call in flight, the question reaches that caller as input_required', async () => {
  const answer = await call('slow__ask_after', { ms: 10 });
  assert.match(answer, /input_required/);
  assert.match(answer, /a question for my caller/);
});

test('an open subscriptions/listen stream keeps its pooled upstream alive past the idle TTL', async () => {
  const fixture = fileURLToPath(new URL('../fixtures/conformance-server.ts', import.meta.url));
  const short = await startTestGateway({
    sessions: { idleTtlSeconds: 1 },
    upstreams: { fx: stdio(fixture) },
  });
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const headers = (method: string, name?: string) => ({
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
  });
  const stop = new AbortController();
  try {
    const listen = await fetch(`${short.url}/mcp`, {
      method: 'POST',
      headers: headers('subscriptions/listen'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'L',
        method: 'subscriptions/listen',
        params: { _meta: meta, notifications: { toolsListChanged: true } },
      }),
      signal: stop.signal,
    });
    const reader = listen.body!.getReader();
    let seen = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen += new TextDecoder().decode(value);
      }
    })().catch(() => {});
    await new Promise((r) => setTimeout(r, 2500)); // Past the 1 s idle TTL, with only the stream open.
    await fetch(`${short.url}/mcp`, {
      method: 'POST',
      headers: headers('tools/call', 'fx__test_trigger_tool_change'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'fx__test_trigger_tool_change', arguments: {}, _meta: meta },
      }),
    }).then((r) => r.text());
    for (let i = 0; i < 40 && !seen.includes('tools/list_changed'); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(seen, /notifications\/tools\/list_changed/);
    stop.abort();
    await reading;
  } finally {
    await short.close();
  }
});
