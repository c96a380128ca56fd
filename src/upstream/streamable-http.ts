// Streamable HTTP upstream (session era): every message is a POST; a request's answer comes back
// as JSON or as an SSE stream carrying related messages and then the response. After
// initialization a GET stream carries the server's unrelated messages, when the server offers one.
import type { Id, Message } from '../jsonrpc.ts';
import { isRequest, toMessage } from '../jsonrpc.ts';
import { createSseParser } from '../transport/sse.ts';
import { MODERN_VERSION } from '../versions.ts';
import { exchange, readText } from './http-request.ts';

/** Stateless-era requests mirror the name they act on in an `Mcp-Name` header. */
const NAMED: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** Header values must be visible ASCII; anything else goes base64-encoded, as the spec says. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?base64?${Buffer.from(value).toString('base64')}?=`;
}

import type { UpstreamTransport } from './transport.ts';

/** The upstream forgot our session: the request was not executed, so it may be sent again. */
export class SessionExpired extends Error {
  constructor() {
    super('upstream session expired');
    this.name = 'SessionExpired';
  }
}

export interface HttpOptions {
  url: string;
  headers: Record<string, string>;
  onWarning?: (text: string) => void;
}

export function createStreamableHttpTransport(options: HttpOptions): UpstreamTransport {
  const url = new URL(options.url);
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  let closed = false;
  const getStream = new AbortController();

  let stateless = false;
  const headers = (extra: Record<string, string>, message?: Message): Record<string, string> => {
    const h: Record<string, string> = { ...options.headers, ...extra };
    if (sessionId) h['mcp-session-id'] = sessionId;
    if (protocolVersion) h['mcp-protocol-version'] = protocolVersion;
    if (stateless && message && 'method' in message) {
      h['mcp-method'] = message.method;
      const field = NAMED[message.method];
      const name = field ? message.params?.[field] : undefined;
      if (typeof name === 'string') h['mcp-name'] = headerSafe(name);
    }
    return h;
  };

  const deliver = (value: unknown, relatedTo?: Id) => {
    const message = toMessage(value);
    if (typeof message === 'string') options.onWarning?.(`invalid message from upstream: ${message}`);
    else transport.onmessage?.(message, relatedTo);
  };

  const readStream = async (body: NodeJS.ReadableStream, relatedTo?: Id) => {
    const feed = createSseParser((e) => {
      if (e.event !== 'message' || e.data === '') return;
      try {
        deliver(JSON.parse(e.data), relatedTo);
      } catch {
        options.onWarning?.('upstream sent an SSE event that is not JSON');
      }
    });
    body.setEncoding('utf8');
    for await (const chunk of body) feed(chunk as string);
  };

  const openGetStream = async () => {
    try {
      const res = await exchange(
        url,
        'GET',
        headers({ accept: 'text/event-stream' }),
        undefined,
        getStream.signal,
      );
      if (res.status !== 200) {
        res.body.resume();
        return; // 405: this server has no standalone stream, which is allowed.
      }
      await readStream(res.body);
    } catch {
      // Aborted at close, or the stream broke; unrelated messages are best effort.
    }
  };

  const transport: UpstreamTransport = {
    start: () => Promise.resolve(),
    setProtocolVersion(version) {
      protocolVersion = version;
      stateless = version === MODERN_VERSION;
      if (sessionId && !stateless) void openGetStream();
    },
    async send(message: Message, signal?: AbortSignal) {
      if (closed) throw new Error('upstream connection is closed');
      const res = await exchange(
        url,
        'POST',
        headers(
          { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          message,
        ),
        JSON.stringify(message),
        signal,
      );
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string' && !sessionId) sessionId = sid;
      const requestId = isRequest(message) ? message.id : undefined;
      const type = String(res.headers['content-type'] ?? '');
      if (res.status >= 400 || requestId === undefined) {
        const text = await readText(res.body).catch(() => '');
        // The spec says 404 for a session the server no longer knows; some servers say 400
        // "no valid session". Either way the session is gone and nothing was executed.
        if (sessionId && (res.status === 404 || (res.status === 400 && /session/i.test(text)))) {
          closed = true;
          transport.onclose?.(`upstream session expired (HTTP ${res.status})`);
          throw new SessionExpired();
        }
        if (res.status >= 400) {
          // A JSON-RPC error body answers the request; anything else is a transport failure.
          if (requestId !== undefined && type.includes('application/json')) {
            try {
              const value = JSON.parse(text) as Record<string, unknown>;
              if (value.error) return deliver({ ...value, id: requestId }, requestId);
            } catch {}
          }
          throw new Error(`upstream answered HTTP ${res.status}`);
        }
        return;
      }
      if (type.includes('text/event-stream')) {
        void readStream(res.body, requestId).catch(() => {});
        return;
      }
      const text = await readText(res.body);
      deliver(JSON.parse(text), requestId);
    },
    async close() {
      if (closed) return;
      closed = true;
      getStream.abort();
      if (sessionId) {
        // Ending the upstream session politely; servers may answer 405, which is fine.
        await exchange(url, 'DELETE', headers({}), undefined, AbortSignal.timeout(2000))
          .then((r) => r.body.resume())
          .catch(() => {});
      }
      transport.onclose?.('closed');
    },
  };
  return transport;
}
