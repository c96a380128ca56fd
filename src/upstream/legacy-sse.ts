// Legacy HTTP+SSE upstream (2024-11-05): a GET opens an event stream whose first `endpoint`
// event names the URL to POST messages to; every server message arrives on that one stream.
import type { Message } from '../jsonrpc.ts';
import { toMessage } from '../jsonrpc.ts';
import { createSseParser } from '../transport/sse.ts';
import { exchange, type Target, target } from './http-request.ts';
import type { HttpOptions } from './streamable-http.ts';
import type { UpstreamTransport } from './transport.ts';

/** The server only acknowledges a POST (the answer comes on the stream): it must not take long. */
const POST_TIMEOUT_MS = 30_000;

export function createLegacySseTransport(options: HttpOptions): UpstreamTransport {
  const url = new URL(options.url);
  const streamTarget = target(url);
  const stream = new AbortController();
  let postUrl: Target | undefined;
  let closed = false;
  const headers = (extra: Record<string, string>) => {
    const credential = options.credential?.();
    return credential
      ? { ...options.headers, ...extra, authorization: credential }
      : { ...options.headers, ...extra };
  };

  const transport: UpstreamTransport = {
    async start() {
      const res = await exchange(
        streamTarget,
        'GET',
        headers({ accept: 'text/event-stream' }),
        undefined,
        stream.signal,
      );
      if (res.status !== 200) {
        if (res.status === 401) options.onUnauthorized?.();
        res.body.resume();
        throw new Error(`upstream SSE endpoint answered HTTP ${res.status}`);
      }
      await new Promise<void>((resolve, reject) => {
        const feed = createSseParser((e) => {
          if (e.event === 'endpoint') {
            const found = new URL(e.data, url);
            if (found.origin !== url.origin) {
              reject(new Error('upstream named a POST endpoint on another origin'));
              stream.abort();
              return;
            }
            postUrl = target(found);
            resolve();
            return;
          }
          if (e.event !== 'message') return;
          let value: unknown;
          try {
            value = JSON.parse(e.data);
          } catch {
            options.onWarning?.('upstream sent an SSE event that is not JSON');
            return;
          }
          const message = toMessage(value);
          if (typeof message === 'string') options.onWarning?.(`invalid message from upstream: ${message}`);
          else transport.onmessage?.(message);
        });
        res.body.setEncoding('utf8');
        res.body.on('data', (chunk: string) => feed(chunk));
        res.body.once('error', () => {});
        res.body.once('close', () => {
          reject(new Error('upstream SSE stream closed before naming its endpoint'));
          if (!closed) {
            closed = true;
            transport.onclose?.('upstream SSE stream closed');
          }
        });
      });
    },
    async send(message: Message, extra?: Record<string, string>) {
      if (!postUrl || closed) throw new Error('upstream connection is closed');
      const res = await exchange(
        postUrl,
        'POST',
        headers({ ...extra, 'content-type': 'application/json' }),
        JSON.stringify(message),
        AbortSignal.timeout(POST_TIMEOUT_MS),
      );
      res.body.resume();
      if (res.status >= 300) throw new Error(`upstream answered HTTP ${res.status}`);
    },
    async close() {
      if (closed) return;
      closed = true;
      stream.abort();
      transport.onclose?.('closed');
    },
  };
  return transport;
}
