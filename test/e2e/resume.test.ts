// Resumable streams (session era): a client whose connection drops mid-call reconnects with
// Last-Event-ID and receives what it missed and the answer; the call never stopped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSseParser, type SseEvent } from '../../src/transport/sse.ts';
import { startTestGateway, stdio } from '../helpers/gateway.ts';
import { openSession, PROTOCOL_VERSION } from '../helpers/mcp-http.ts';

const slow = fileURLToPath(new URL('../fixtures/slow-server.ts', import.meta.url));
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let url: string;

before(async () => {
  gateway = await startTestGateway({ upstreams: { slow: stdio(slow) } });
  url = `${gateway.url}/mcp`;
});
after(() => gateway.close());

/** Reads SSE events from a response until `stop` says so or the stream ends. */
async function readEvents(res: Response, stop: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const feed = createSseParser((e) => events.push(e));
  const decoder = new TextDecoder();
  const reader = res.body!.getReader();
  for (;;) {
    if (stop(events)) break;
    const { value, done } = await reader.read();
    if (done) break;
    feed(decoder.decode(value, { stream: true }));
  }
  return events;
}

test('a dropped call stream is resumed with Last-Event-ID: missed progress, then the answer', async () => {
  const sessionId = await openSession(url);
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': sessionId,
    'mcp-protocol-version': PROTOCOL_VERSION,
  };
  const drop = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers,
    signal: drop.signal,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: {
        name: 'slow__progress_sleep',
        arguments: { ms: 800, steps: 4 },
        _meta: { progressToken: 'p' },
      },
    }),
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  // The first progress event arrives after a priming event that names the stream.
  const seen = await readEvents(res, (events) =>
    events.some((e) => e.data.includes('notifications/progress')),
  );
  const lastId = seen.at(-1)!.id!;
  assert.match(lastId, /^r\d+-\d+$/);
  drop.abort(); // The connection drops; the call goes on in the gateway.

  await new Promise((r) => setTimeout(r, 1000)); // Long enough for the call to finish meanwhile.
  const resumed = await fetch(url, {
    headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'last-event-id': lastId },
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(resumed.status, 200);
  const rest = await readEvents(resumed, () => false); // Ends when the answer has been sent.
  const messages = rest.filter((e) => e.data).map((e) => JSON.parse(e.data) as Record<string, unknown>);
  const progress = messages.filter((m) => m.method === 'notifications/progress');
  const answer = messages.find((m) => m.id === 7);
  assert.ok(progress.length >= 1, 'the progress missed while disconnected is replayed');
  assert.match(JSON.stringify(answer), /done in 4 steps/);
  const seqs = rest.map((e) => Number(e.id!.split('-')[1]));
  assert.ok(
    seqs.every((s) => s > Number(lastId.split('-')[1])),
    'nothing already seen is sent again',
  );
});

test('a Last-Event-ID the gateway does not know opens an ordinary GET stream', async () => {
  const sessionId = await openSession(url);
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'last-event-id': 'r999-3' },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});
