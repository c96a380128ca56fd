// One HTTP exchange with an upstream over a pooled keep-alive agent. Shared by the Streamable
// HTTP and legacy SSE transports. node:http is used instead of fetch, and request options are
// prepared once per upstream: both keep the CPU cost per forwarded call low.
import http from 'node:http';
import https from 'node:https';

export interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  /** The request, so the caller can abort it (destroying the socket ends a stream). */
  request: http.ClientRequest;
}

/** Everything about an upstream URL that does not change between requests. */
export interface Target {
  readonly url: URL;
  request(options: http.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest;
  readonly base: http.RequestOptions;
}

const agents = new Map<string, http.Agent>();

/** One keep-alive pool per upstream origin, shared by every session that talks to it. */
function agentFor(url: URL): http.Agent {
  const key = url.origin;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

export function target(url: URL): Target {
  const lib = url.protocol === 'https:' ? https : http;
  return {
    url,
    request: (options, onResponse) => lib.request(options, onResponse),
    base: {
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      agent: agentFor(url),
    },
  };
}

export function exchange(
  to: Target,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal?: AbortSignal,
  /** Called with the request as soon as it exists, so a cancel can reach it before any answer. */
  onRequest?: (req: http.ClientRequest) => void,
): Promise<Exchange> {
  // A known length instead of chunked encoding: fewer writes per request.
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const options = signal ? { ...to.base, method, headers, signal } : { ...to.base, method, headers };
    const req = to.request(options, (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, request: req }),
    );
    req.once('error', reject);
    onRequest?.(req);
    if (body === undefined) req.end();
    else req.end(body);
  });
}

/** Reads a whole (bounded) response body as text. */
export function readText(res: http.IncomingMessage, limit = 64 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    res.setEncoding('utf8');
    let text = '';
    res.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > limit) {
        res.destroy();
        reject(new Error('upstream response too large'));
      }
    });
    res.once('end', () => resolve(text));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('upstream response aborted')));
  });
}
