// Streamable HTTP upstream (session era): every message is a POST; a request's answer comes back
// as JSON or as an SSE stream carrying related messages and then the response. After
// initialization a GET stream carries the server's unrelated messages, when the server offers one.

import type { ClientRequest } from 'node:http';
import { IdTable } from '../id-table.ts';
import type { Id, Message } from '../jsonrpc.ts';
import { isRequest, toMessage } from '../jsonrpc.ts';
import { createSseParser } from '../transport/sse.ts';
import { MODERN_VERSION } from '../versions.ts';
import { exchange, readText, target } from './http-request.ts';
import { headerSafe } from './stateless.ts';
import type { UpstreamTransport } from './transport.ts';

/** How often a stream the server closed early is resumed, and the longest `retry` we honour. */
const MAX_RESUMES = 5;
const MAX_RETRY_WAIT_MS = 5000;
/** How long a POST that carries no request (a notification, an answer) may take. */
const POST_TIMEOUT_MS = 30_000;

/** Stateless-era requests mirror the name they act on in an `Mcp-Name` header. */
const NAMED: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

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
  /** The Authorization header for the next request, when it acts for a user (changes as tokens renew). */
  credential?: () => string | undefined;
  /** The upstream refused that header (HTTP 401): it is dropped, and the user asked again. */
  onUnauthorized?: () => void;
  onWarning?: (text: string) => void;
}

export function createStreamableHttpTransport(options: HttpOptions): UpstreamTransport {
  const url = target(new URL(options.url));
  /** Requests whose answer is still streaming, so a cancel can drop the stream. */
  const open = new IdTable<ClientRequest>();
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  let closed = false;
  const getStream = new AbortController();

  let stateless = false;
  const headers = (extra: Record<string, string>, message?: Message): Record<string, string> => {
    const h: Record<string, string> = { ...options.headers, ...extra };
    const credential = options.credential?.();
    if (credential) h.authorization = credential;
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

  /** Where a stream stopped: its last event id and the server's retry hint, for resuming. */
  interface StreamEnd {
    lastEventId?: string;
    retryMs?: number;
    answered: boolean;
  }

  const readStream = (body: NodeJS.ReadableStream, relatedTo?: Id): Promise<StreamEnd> => {
    const end: StreamEnd = { answered: false };
    const feed = createSseParser((e) => {
      if (e.id !== undefined) end.lastEventId = e.id;
      if (e.retry !== undefined) end.retryMs = e.retry;
      if (e.event !== 'message' || e.data === '') return; // Priming events carry only an id.
      let value: unknown;
      try {
        value = JSON.parse(e.data);
      } catch {
        options.onWarning?.('upstream sent an SSE event that is not JSON');
        return;
      }
      const v = value as { id?: unknown; method?: unknown };
      if (relatedTo !== undefined && v.id === relatedTo && v.method === undefined) end.answered = true;
      deliver(value, relatedTo);
    });
    body.setEncoding('utf8');
    return new Promise((resolve) => {
      body.on('data', (chunk: string) => feed(chunk));
      body.once('end', () => resolve(end));
      body.once('error', () => resolve(end));
      body.once('close', () => resolve(end));
    });
  };

  /** Resumes a stream the server closed early (SSE polling): GET with Last-Event-ID. */
  const resume = async (from: StreamEnd, relatedTo?: Id): Promise<StreamEnd> => {
    let at = from;
    const wanted = () => relatedTo === undefined || open.has(relatedTo); // A cancelled call is not resumed.
    for (
      let attempt = 0;
      attempt < MAX_RESUMES && !closed && !at.answered && at.lastEventId && wanted();
      attempt++
    ) {
      await new Promise((r) => setTimeout(r, Math.min(at.retryMs ?? 0, MAX_RETRY_WAIT_MS)));
      const res = await exchange(
        url,
        'GET',
        headers({ accept: 'text/event-stream', 'last-event-id': at.lastEventId }),
        undefined,
        getStream.signal,
      );
      if (res.status !== 200) {
        res.body.resume();
        break;
      }
      if (relatedTo !== undefined) open.set(relatedTo, res.request);
      const next = await readStream(res.body, relatedTo);
      at = { ...next, lastEventId: next.lastEventId ?? at.lastEventId, retryMs: next.retryMs ?? at.retryMs };
    }
    return at;
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
      await resume(await readStream(res.body));
    } catch {
      // Aborted at close, or the stream broke; unrelated messages are best effort.
    }
  };

  const post = async (message: Message, requestId: Id | undefined, extra?: Record<string, string>) => {
    const res = await exchange(
      url,
      'POST',
      headers(
        { ...extra, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        message,
      ),
      JSON.stringify(message),
      // A notification or answer waits for nothing but the server's 202: never forever.
      requestId === undefined ? AbortSignal.timeout(POST_TIMEOUT_MS) : undefined,
      // Registered before any answer, so a timeout or cancel can drop a server that never answers.
      requestId === undefined ? undefined : (req) => open.set(requestId, req),
    );
    const sid = res.headers['mcp-session-id'];
    if (typeof sid === 'string' && !sessionId) sessionId = sid;
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
      if (res.status === 401) options.onUnauthorized?.();
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
    if (!type.includes('text/event-stream')) return deliver(JSON.parse(await readText(res.body)), requestId);
    const end = await resume(await readStream(res.body, requestId), requestId);
    if (!end.answered && open.has(requestId) && !closed) {
      // Without an event id there is nothing to resume: fail the call now, not at its timeout.
      const error = { code: -32603, message: 'upstream closed the stream without answering' };
      deliver({ jsonrpc: '2.0', id: requestId, error }, requestId);
    }
  };

  const transport: UpstreamTransport = {
    start: () => Promise.resolve(),
    setProtocolVersion(version) {
      protocolVersion = version;
      stateless = version === MODERN_VERSION;
      if (sessionId && !stateless) void openGetStream();
    },
    cancel(id) {
      open.get(id)?.destroy();
      open.delete(id);
    },
    async send(message: Message, extra?: Record<string, string>) {
      if (closed) throw new Error('upstream connection is closed');
      const requestId = isRequest(message) ? message.id : undefined;
      try {
        await post(message, requestId, extra);
      } finally {
        if (requestId !== undefined) open.delete(requestId);
      }
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
