// One HTTP exchange with an upstream over a pooled keep-alive agent. Shared by the Streamable
// HTTP and legacy SSE transports. node:http is used instead of fetch: it costs less CPU per call.
import http from 'node:http';
import https from 'node:https';

export interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

const agents = new Map<string, http.Agent>();

/** One keep-alive pool per upstream origin, shared by every session that talks to it. */
export function agentFor(url: URL): http.Agent {
  const key = url.origin;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

export function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal?: AbortSignal,
): Promise<Exchange> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers, agent: agentFor(url), signal }, (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
    );
    req.once('error', reject);
    if (body === undefined) req.end();
    else req.end(body);
  });
}

export async function readText(res: http.IncomingMessage, limit = 64 * 1024 * 1024): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) {
    text += chunk;
    if (text.length > limit) {
      res.destroy();
      throw new Error('upstream response too large');
    }
  }
  return text;
}
